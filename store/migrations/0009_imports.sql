-- Paper ballots, imported from a file: each ballot knows its import, and
-- each import how many ballots it holds, so its page can show progress.
ALTER TABLE ballots ADD COLUMN import_id uuid;
CREATE INDEX ballots_import_idx ON ballots (import_id) WHERE import_id IS NOT NULL;

CREATE TABLE imports (
    id           uuid PRIMARY KEY,
    election_id  uuid NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
    organizer_id uuid NOT NULL,
    file_name    text NOT NULL DEFAULT '',
    total        int  NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
