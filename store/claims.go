package store

import (
	"context"
	"database/sql/driver"
	"hash/fnv"
	"time"

	"github.com/google/uuid"
)

const claimTurnSQL = `
INSERT INTO worker_turns (name, next_at) VALUES ($1, now() + make_interval(secs => $2))
ON CONFLICT (name) DO UPDATE SET next_at = EXCLUDED.next_at WHERE worker_turns.next_at <= now()
RETURNING true`

// ClaimTurn reports whether this worker takes the periodic job name now:
// the first to ask after the last turn's every has passed does, and
// everyone else does not until every has passed again. Several workers
// then scan as often as one would.
func (s *DB) ClaimTurn(ctx context.Context, name string, every time.Duration) (bool, error) {
	var mine bool
	err := s.db.QueryRowContext(ctx, claimTurnSQL, name, every.Seconds()).Scan(&mine)
	if isNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, wrapf(err, "turn %s", name)
	}
	return mine, nil
}

// recomputeLockKey is the advisory lock of an election's recompute: a
// hash of its ID under a name of its own, so it meets no other lock.
func recomputeLockKey(id uuid.UUID) int64 {
	h := fnv.New64a()
	h.Write([]byte("runoff recompute "))
	h.Write(id[:])
	return int64(h.Sum64())
}

const staleOneSQL = `
SELECT e.ballots_counted > 0 AND (r.election_id IS NULL OR r.ballots_counted < e.ballots_counted OR r.model IS NULL
    OR r.counts_version < e.counts_version)
FROM elections e LEFT JOIN results r ON r.election_id = e.id WHERE e.id = $1`

// ClaimRecompute claims an election's recompute for this worker. It is
// claimed (release is not nil) when no other worker is recomputing it (a
// Postgres advisory lock, held until release) and its snapshot is older
// than its counts, checked once the lock is held: two workers told of the
// same batch, or finding the same stale election, count each version once
// between them. busy says another worker holds it: its count may have
// begun before this worker's batch, so ask again shortly. Neither means
// the snapshot is already up to date. Call release once the snapshot is
// saved (or the recompute failed).
func (s *DB) ClaimRecompute(ctx context.Context, id uuid.UUID) (release func(), busy bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, wrapf(err, "claim recompute %s", id)
	}
	key := recomputeLockKey(id)
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&locked); err != nil || !locked {
		conn.Close()
		if err != nil {
			return nil, false, wrapf(err, "claim recompute %s", id)
		}
		return nil, true, nil
	}
	release = func() {
		// A connection whose unlock failed is closed, and the session's
		// lock goes with it.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}
	var stale bool
	if err := conn.QueryRowContext(ctx, staleOneSQL, id).Scan(&stale); err != nil && !isNoRows(err) {
		release()
		return nil, false, wrapf(err, "claim recompute %s", id)
	}
	if !stale {
		release()
		return nil, false, nil
	}
	return release, false, nil
}
