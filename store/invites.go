package store

import (
	"context"

	"github.com/google/uuid"
)

// Invited reports whether a key's invitation has gone.
func (s *DB) Invited(ctx context.Context, electionID, batch uuid.UUID, index int) (bool, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM invitations WHERE election_id = $1 AND batch_id = $2 AND idx = $3`, electionID, batch, index); err != nil {
		return false, wrapf(err, "invitation")
	}
	return n > 0, nil
}

// MarkInvited records that a key's invitation has gone.
func (s *DB) MarkInvited(ctx context.Context, electionID, batch uuid.UUID, index int) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO invitations (election_id, batch_id, idx) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		electionID, batch, index); err != nil {
		return wrapf(err, "invitation")
	}
	return nil
}

// InvitationsSent counts an election's invitations sent.
func (s *DB) InvitationsSent(ctx context.Context, electionID uuid.UUID) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM invitations WHERE election_id = $1`, electionID); err != nil {
		return 0, wrapf(err, "invitations of %s", electionID)
	}
	return n, nil
}
