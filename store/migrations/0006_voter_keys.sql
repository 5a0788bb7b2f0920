-- Voter keys: an election may take ballots only from holders of a key the
-- organizer issued, and may let a voter replace their ballot until close.
ALTER TABLE elections
    ADD COLUMN changes     text   NOT NULL DEFAULT '' CHECK (changes IN ('', 'allowed')),
    ADD COLUMN keys_issued bigint NOT NULL DEFAULT 0,
    ADD COLUMN keys_used   bigint NOT NULL DEFAULT 0;

-- A ballot that a later ballot with the same key replaced.
ALTER TABLE ballots DROP CONSTRAINT ballots_status_check;
ALTER TABLE ballots ADD CONSTRAINT ballots_status_check CHECK (status IN ('counted', 'rejected', 'replaced'));

-- The keys issued, as hashes only (runoff.HashKey). The web derives each
-- key again from its batch and index with KEYS_SECRET, so the organizer can
-- download them again; the label is the voter the organizer named, if any.
CREATE TABLE voter_keys (
    election_id uuid NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
    key_hash    text NOT NULL,
    batch_id    uuid NOT NULL,
    idx         int  NOT NULL,
    label       text NOT NULL DEFAULT '',
    issued_at   timestamptz NOT NULL,
    PRIMARY KEY (election_id, key_hash),
    UNIQUE (election_id, batch_id, idx)
);

-- Which keys were used, apart from the ballots: a ballot row carries no
-- key. used_at is kept to the hour so that it does not point at the ballot
-- stored at the same moment. Only when the election lets voters change
-- their vote is the key linked to its current ballot (ballot_id and the
-- time the web received it), since replacing needs that link.
CREATE TABLE key_uses (
    election_id  uuid NOT NULL,
    key_hash     text NOT NULL,
    used_at      timestamptz NOT NULL,
    ballot_id    uuid,
    submitted_at timestamptz,
    PRIMARY KEY (election_id, key_hash),
    FOREIGN KEY (election_id, key_hash) REFERENCES voter_keys (election_id, key_hash) ON DELETE CASCADE,
    CHECK ((ballot_id IS NULL) = (submitted_at IS NULL))
);
