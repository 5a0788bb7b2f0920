-- Periodic scans that any worker may do, but one is enough for all of
-- them: each takes its turn here (ClaimTurn), so the work does not grow
-- with the number of workers.
CREATE TABLE worker_turns (
    name    text PRIMARY KEY,
    next_at timestamptz NOT NULL
);
