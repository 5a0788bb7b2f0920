package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/runoff-vote/runoff"
)

const createOrganizerSQL = `
INSERT INTO organizers (id, email, password_hash) VALUES ($1, $2, $3)
RETURNING created_at`

// CreateOrganizer stores a new account. An email already taken is
// runoff.ErrConflict.
func (s *DB) CreateOrganizer(ctx context.Context, o *runoff.Organizer) error {
	err := s.db.QueryRowContext(ctx, createOrganizerSQL, o.ID, o.Email, o.PasswordHash).Scan(&o.CreatedAt)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return fmt.Errorf("store: organizer %s: %w", o.Email, runoff.ErrConflict)
	}
	if err != nil {
		return wrapf(err, "create organizer")
	}
	return nil
}

const organizerByEmailSQL = `SELECT id, email, password_hash, created_at FROM organizers WHERE email = $1`

// OrganizerByEmail finds an account by its (normalized) email.
func (s *DB) OrganizerByEmail(ctx context.Context, email string) (*runoff.Organizer, error) {
	var o runoff.Organizer
	if err := s.db.GetContext(ctx, &o, organizerByEmailSQL, email); err != nil {
		return nil, notFound(err, "organizer by email")
	}
	return &o, nil
}
