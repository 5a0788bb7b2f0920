-- A 1,000,000-ballot election for measuring (docs/performance.md): 12
-- candidates, each ballot ranking 1 to 6 of them at random (about 240,000
-- distinct rankings), stored as the worker would store them. It copies
-- the owner and settings of an existing election, so run `runoff demo`
-- first, on a database of its own:
--
--   psql "$DATABASE_URL" -v template="'DEMO-ELECTION-ID'" -f scripts/seed-million.sql
--
-- The new election is 0196a000-0000-7000-8000-000000000001; the worker's
-- stale-snapshot scan counts it within seconds.
\set e '''0196a000-0000-7000-8000-000000000001'''
BEGIN;
INSERT INTO elections (id, owner_id, title, seats, status, opened_at, winner_mode, tiebreak, max_ranks, results_visibility, access, timezone)
SELECT :e, owner_id, 'A million ballots', 1, 'open', now(), winner_mode, tiebreak, 0, 'live', 'open', 'UTC'
FROM elections WHERE id = :template;
INSERT INTO candidates (id, election_id, name, position)
SELECT gen_random_uuid(), :e, 'Candidate ' || chr(64 + p), p - 1 FROM generate_series(1, 12) p;
CREATE TEMP TABLE cands AS SELECT array_agg(id ORDER BY position) AS ids FROM candidates WHERE election_id = :e;
INSERT INTO ballots (id, election_id, ranking, status, submitted_at)
SELECT gen_random_uuid(), :e,
  (SELECT array_agg(x) FROM (SELECT x FROM unnest(c.ids) x WHERE g.g = g.g ORDER BY random() LIMIT 1 + (g.g % 6)) s),
  'counted', now()
FROM generate_series(1, 1000000) g, cands c;
INSERT INTO ranking_counts (election_id, ranking, count)
SELECT :e, ranking, count(*) FROM ballots WHERE election_id = :e GROUP BY ranking;
UPDATE elections SET ballots_counted = 1000000, counts_version = counts_version + 1 WHERE id = :e;
COMMIT;
SELECT count(*) AS distinct_rankings FROM ranking_counts WHERE election_id = :e;
