-- Ties the counting rules leave to the organizer: each decision names the
-- round, what it decides (who is eliminated or elected) and the tied
-- candidates, and holds only while that same tie recurs.
CREATE TABLE tie_decisions (
    id           uuid PRIMARY KEY,
    election_id  uuid NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
    pass         int  NOT NULL DEFAULT 0,
    round        int  NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('elimination', 'election')),
    tied         text[] NOT NULL,
    selected     text NOT NULL,
    decided_by   uuid NOT NULL,
    decided_at   timestamptz NOT NULL
);
CREATE INDEX tie_decisions_election_idx ON tie_decisions (election_id, decided_at);

ALTER TABLE elections
    -- Bumped, in the same transaction, by every change to what the count
    -- depends on (ballots stored or replaced, a tie decided): a results
    -- snapshot made from an older version is stale. A count of ballots
    -- alone misses a replaced vote, which moves counts but not their sum.
    ADD COLUMN counts_version bigint NOT NULL DEFAULT 0,
    -- The count is final: closed, and every ballot received before the
    -- close carried out. Cleared if the count changes after all.
    ADD COLUMN final_at   timestamptz,
    -- When the worker last sent the seal that marks it final through the
    -- votes queue.
    ADD COLUMN sealed_at  timestamptz;

-- The audit log reads election_changes; a change's detail says what it
-- did in words (the candidate chosen in a tie, what a requeue carried).
ALTER TABLE election_changes ADD COLUMN detail text NOT NULL DEFAULT '';

-- The rules a count was made by, under RCTab's names, so that an export
-- of the ballots can be counted again with runoff tabulate --rules.
ALTER TABLE results ADD COLUMN rules text NOT NULL DEFAULT '';

-- The counts version a results snapshot was made from.
ALTER TABLE results ADD COLUMN counts_version bigint NOT NULL DEFAULT 0;
