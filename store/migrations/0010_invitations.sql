-- Invitations emailed to voters with their keys: one row per key once its
-- email has gone, so a batch tried again sends no key twice.
CREATE TABLE invitations (
    election_id uuid NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
    batch_id    uuid NOT NULL,
    idx         int  NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (election_id, batch_id, idx)
);
