-- Each distinct-ranking count says when it was last written: the counts
-- version its election has once that write commits. Every write to these
-- counts is in a transaction that holds the election's row and bumps its
-- counts_version by one, so a read that sees counts_version V sees every
-- count written at V or before, and none after. A worker that keeps an
-- election's tally in memory then reads only the counts written since the
-- version it has (store.DB.ReadTally), not all of them.
ALTER TABLE ranking_counts ADD COLUMN version bigint NOT NULL DEFAULT 0;
CREATE INDEX ranking_counts_version_idx ON ranking_counts (election_id, version);

-- A ranking whose last ballot was replaced leaves ranking_counts. That is
-- a change too: this row says at which version, so that a kept tally
-- drops the ranking. One row per ranking, however often it goes.
CREATE TABLE ranking_counts_removed (
    election_id uuid NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
    ranking     uuid[] NOT NULL,
    version     bigint NOT NULL,
    PRIMARY KEY (election_id, ranking)
);
CREATE INDEX ranking_counts_removed_version_idx ON ranking_counts_removed (election_id, version);
