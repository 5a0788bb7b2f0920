-- Messages the worker could never carry out, kept so that organizers can see
-- them and requeue them after a fix. Written only by the worker, which
-- consumes the dead-letter queue into this table.
CREATE TABLE dead_letters (
    id           uuid PRIMARY KEY,
    -- The election the message names, if its body could be read; there is no
    -- foreign key, since the election may not exist.
    election_id  uuid,
    message_id   text NOT NULL DEFAULT '',
    routing_key  text NOT NULL,
    queue        text NOT NULL DEFAULT '',
    reason       text NOT NULL,
    body         bytea NOT NULL,
    dead_at      timestamptz NOT NULL,
    requeued_at  timestamptz
);
CREATE INDEX dead_letters_election_idx ON dead_letters (election_id, dead_at DESC);
CREATE INDEX dead_letters_message_idx ON dead_letters (message_id);
