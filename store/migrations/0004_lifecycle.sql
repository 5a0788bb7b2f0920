-- Elections have a life (draft → open → closed, by hand or by schedule) and
-- settings: how they are counted, who sees results, who may vote.
ALTER TABLE elections DROP CONSTRAINT elections_status_check;
ALTER TABLE elections ADD CONSTRAINT elections_status_check CHECK (status IN ('draft', 'open', 'closed'));
ALTER TABLE elections
    ADD COLUMN winner_mode        text NOT NULL DEFAULT 'singleWinnerMajority',
    ADD COLUMN tiebreak           text NOT NULL DEFAULT 'previousRoundCountsThenCandidateOrder',
    ADD COLUMN random_seed        bigint,
    ADD COLUMN max_ranks          int  NOT NULL DEFAULT 0 CHECK (max_ranks >= 0),
    ADD COLUMN results_visibility text NOT NULL DEFAULT 'live' CHECK (results_visibility IN ('live', 'after_close', 'organizer')),
    ADD COLUMN access             text NOT NULL DEFAULT 'open',
    ADD COLUMN opens_at           timestamptz,
    ADD COLUMN closes_at          timestamptz,
    ADD COLUMN timezone           text NOT NULL DEFAULT 'UTC',
    -- When the organizer opened or closed it by hand: the web's time of the
    -- request, which ballots' receive times are compared with.
    ADD COLUMN opened_at          timestamptz,
    ADD COLUMN closed_at          timestamptz;
-- Elections opened before drafts existed opened when created.
UPDATE elections SET opened_at = created_at WHERE opened_at IS NULL;

ALTER TABLE candidates ADD COLUMN description text NOT NULL DEFAULT '';

-- Every change an organizer made to an election, carried out by the
-- worker: the change's ID (made by the web) makes a redelivery harmless and
-- tells the page that waits for it when it is done.
CREATE TABLE election_changes (
    id           uuid PRIMARY KEY,
    election_id  uuid NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
    organizer_id uuid NOT NULL,
    action       text NOT NULL,
    requested_at timestamptz NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX election_changes_election_idx ON election_changes (election_id, applied_at DESC);
