-- Organizers: the one synchronous write (a person waits for their account).
CREATE TABLE organizers (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Elections and candidates: written only by the worker (election.create).
CREATE TABLE elections (
    id              uuid PRIMARY KEY,
    owner_id        uuid NOT NULL REFERENCES organizers (id),
    title           text NOT NULL,
    description     text NOT NULL DEFAULT '',
    seats           int  NOT NULL CHECK (seats >= 1),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    -- ballots counted so far; bumped in the same transaction that stores them,
    -- so a results snapshot can tell whether it is stale.
    ballots_counted bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    stored_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX elections_owner_idx ON elections (owner_id, created_at DESC);

CREATE TABLE candidates (
    id          uuid PRIMARY KEY,
    election_id uuid NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
    name        text NOT NULL,
    position    int  NOT NULL,
    UNIQUE (election_id, position)
);
CREATE UNIQUE INDEX candidates_name_idx ON candidates (election_id, lower(name));

-- Ballots: one row per receipt, counted or rejected. The primary key is the
-- ID the web made, so a redelivered vote.submit changes nothing.
CREATE TABLE ballots (
    id           uuid PRIMARY KEY,
    election_id  uuid NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
    ranking      uuid[] NOT NULL,
    status       text NOT NULL CHECK (status IN ('counted', 'rejected')),
    reason       text NOT NULL DEFAULT '',
    submitted_at timestamptz NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ballots_election_idx ON ballots (election_id);

-- Distinct rankings and how many counted ballots hold each: tabulation
-- depends only on this multiset.
CREATE TABLE ranking_counts (
    election_id uuid NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
    ranking     uuid[] NOT NULL,
    count       bigint NOT NULL CHECK (count > 0),
    PRIMARY KEY (election_id, ranking)
);

-- The last tabulation of each election, in RCTab's detailed-report JSON.
CREATE TABLE results (
    election_id     uuid PRIMARY KEY REFERENCES elections (id) ON DELETE CASCADE,
    ballots_counted bigint NOT NULL,
    report          jsonb NOT NULL,
    computed_at     timestamptz NOT NULL DEFAULT now()
);
