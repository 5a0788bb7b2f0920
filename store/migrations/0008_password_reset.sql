-- One-time links to set a new password, by hash; each is used once, and
-- dies an hour after it is made.
CREATE TABLE reset_tokens (
    token_hash   text PRIMARY KEY,
    organizer_id uuid NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    expires_at   timestamptz NOT NULL
);
