package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/runoff-vote/runoff"
)

const auditSQL = `
SELECT c.action, c.detail, COALESCE(o.email, '') AS email, c.requested_at, c.applied_at
FROM election_changes c LEFT JOIN organizers o ON o.id = c.organizer_id
WHERE c.election_id = $1 ORDER BY c.applied_at, c.id LIMIT 5000`

// AuditLog lists an election's organizer actions, oldest first.
func (s *DB) AuditLog(ctx context.Context, electionID uuid.UUID) ([]runoff.AuditEntry, error) {
	var log []runoff.AuditEntry
	if err := s.db.SelectContext(ctx, &log, auditSQL, electionID); err != nil {
		return nil, wrapf(err, "audit log of %s", electionID)
	}
	return log, nil
}

const countedBallotsSQL = `SELECT ranking::text[] FROM ballots WHERE election_id = $1 AND status = 'counted' ORDER BY random()`

// CountedBallots calls fn with each counted ballot's ranking, in a random
// order (an export must not reveal the order ballots were cast in),
// streaming rather than holding them all.
func (s *DB) CountedBallots(ctx context.Context, electionID uuid.UUID, fn func(ranking []uuid.UUID) error) error {
	rows, err := s.db.QueryContext(ctx, countedBallotsSQL, electionID)
	if err != nil {
		return wrapf(err, "ballots of %s", electionID)
	}
	defer rows.Close()
	for rows.Next() {
		var raw pq.StringArray
		if err := rows.Scan(&raw); err != nil {
			return wrapf(err, "ballots of %s", electionID)
		}
		ranking, err := parseUUIDs(raw)
		if err != nil {
			return wrapf(err, "ballots of %s", electionID)
		}
		if err := fn(ranking); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrapf(err, "ballots of %s", electionID)
	}
	return nil
}
