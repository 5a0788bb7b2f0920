-- Organizers' sessions, server-side: the cookie carries only a random
-- session ID; this table holds its hash. Signing out deletes the row, so
-- an old cookie opens nothing.
CREATE TABLE sessions (
    id_hash      text PRIMARY KEY,
    organizer_id uuid NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_organizer_idx ON sessions (organizer_id);

-- Failed sign-ins and sign-ups, per account and per client address, so
-- that every web process throttles alike.
CREATE TABLE throttle (
    key          text PRIMARY KEY,
    failures     int  NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);
