-- The results model the pages format (rounds, shares, transfers, inactive
-- ballots by cause, threshold notes, tie-breaks in words, pairwise), stored
-- beside the RCTab report. Snapshots from before it have none and are
-- recomputed.
ALTER TABLE results ADD COLUMN model jsonb;

-- The organizer whose action a dead letter was (an election.create's owner,
-- a requeue's requester), so a message naming someone else's election is
-- not shown to that election's owner.
ALTER TABLE dead_letters ADD COLUMN organizer_id uuid;

-- The RCTab report is served byte for byte as the tabulator wrote it; jsonb
-- would reorder its keys and respace it.
ALTER TABLE results ALTER COLUMN report TYPE text USING report::text;
