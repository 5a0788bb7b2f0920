package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/runoff-vote/runoff"
)

// CreateSession records a signed-in organizer's session under the hash of
// its ID (the ID itself is only in the organizer's cookie).
func (s *DB) CreateSession(ctx context.Context, hash string, organizerID uuid.UUID) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, organizer_id) VALUES ($1, $2)`, hash, organizerID); err != nil {
		return wrapf(err, "create session")
	}
	return nil
}

const sessionSQL = `
SELECT o.id, o.email, o.password_hash, o.created_at, s.last_seen_at
FROM sessions s JOIN organizers o ON o.id = s.organizer_id
WHERE s.id_hash = $1 AND s.last_seen_at > now() - make_interval(secs => $2) AND s.created_at > now() - make_interval(secs => $3)`

// Session finds the organizer of a live session: seen within idle, and
// begun within maxAge. It notes the session as seen, at most once a
// minute so that pages do not each cost a write. A session that is gone or
// expired is runoff.ErrNotFound.
func (s *DB) Session(ctx context.Context, hash string, idle, maxAge time.Duration) (*runoff.Organizer, error) {
	var row struct {
		runoff.Organizer
		LastSeen time.Time `db:"last_seen_at"`
	}
	if err := s.db.GetContext(ctx, &row, sessionSQL, hash, idle.Seconds(), maxAge.Seconds()); err != nil {
		return nil, notFound(err, "session")
	}
	if time.Since(row.LastSeen) > time.Minute {
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = now() WHERE id_hash = $1`, hash); err != nil {
			return nil, wrapf(err, "session seen")
		}
	}
	return &row.Organizer, nil
}

// DeleteSession ends a session.
func (s *DB) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hash); err != nil {
		return wrapf(err, "delete session")
	}
	return nil
}

// DeleteSessions ends every session of an organizer: "sign out everywhere".
func (s *DB) DeleteSessions(ctx context.Context, organizerID uuid.UUID) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE organizer_id = $1`, organizerID); err != nil {
		return wrapf(err, "delete sessions of %s", organizerID)
	}
	return nil
}

const lockedSQL = `
SELECT COALESCE(EXTRACT(EPOCH FROM max(locked_until) - now()), 0)::float8
FROM throttle WHERE key = ANY($1) AND locked_until > now()`

// Locked says how long the longest lock among keys has still to run, or 0.
func (s *DB) Locked(ctx context.Context, keys []string) (time.Duration, error) {
	var secs float64
	if err := s.db.GetContext(ctx, &secs, lockedSQL, pq.Array(keys)); err != nil {
		return 0, wrapf(err, "throttle")
	}
	return time.Duration(secs * float64(time.Second)), nil
}

const failedSQL = `
INSERT INTO throttle (key, failures, window_start) VALUES ($1, 1, now())
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN throttle.window_start < now() - make_interval(secs => $2) THEN 1 ELSE throttle.failures + 1 END,
    window_start = CASE WHEN throttle.window_start < now() - make_interval(secs => $2) THEN now() ELSE throttle.window_start END
RETURNING failures`

// Failed counts a failure against key within window; at limit failures,
// the key is locked for lock.
func (s *DB) Failed(ctx context.Context, key string, limit int, window, lock time.Duration) error {
	var n int
	if err := s.db.GetContext(ctx, &n, failedSQL, key, window.Seconds()); err != nil {
		return wrapf(err, "throttle")
	}
	if n >= limit {
		if _, err := s.db.ExecContext(ctx, `UPDATE throttle SET locked_until = now() + make_interval(secs => $2), failures = 0, window_start = now() WHERE key = $1`, key, lock.Seconds()); err != nil {
			return wrapf(err, "throttle")
		}
	}
	return nil
}

// Succeeded clears a key's failures.
func (s *DB) Succeeded(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM throttle WHERE key = $1 AND (locked_until IS NULL OR locked_until < now())`, key); err != nil {
		return wrapf(err, "throttle")
	}
	return nil
}

// SetPassword changes an organizer's password hash and ends every session
// of theirs: whoever had the old password is signed out.
func (s *DB) SetPassword(ctx context.Context, organizerID uuid.UUID, hash string) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE organizers SET password_hash = $2 WHERE id = $1`, organizerID, hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE organizer_id = $1`, organizerID)
		return err
	})
	if err != nil {
		return notFound(err, "organizer "+organizerID.String())
	}
	return nil
}

// CreateResetToken records a one-time password link by its hash.
func (s *DB) CreateResetToken(ctx context.Context, hash string, organizerID uuid.UUID, expires time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO reset_tokens (token_hash, organizer_id, expires_at) VALUES ($1, $2, $3)`, hash, organizerID, expires); err != nil {
		return wrapf(err, "reset token")
	}
	return nil
}

// ResetToken finds the organizer of a live one-time link without using
// it up.
func (s *DB) ResetToken(ctx context.Context, hash string) (*runoff.Organizer, error) {
	var o runoff.Organizer
	err := s.db.GetContext(ctx, &o, `SELECT o.id, o.email, o.password_hash, o.created_at FROM reset_tokens t
		JOIN organizers o ON o.id = t.organizer_id WHERE t.token_hash = $1 AND t.expires_at > now()`, hash)
	if err != nil {
		return nil, notFound(err, "reset token")
	}
	return &o, nil
}

// UseResetToken uses a one-time link up, once: of two requests racing
// with it, one gets the organizer and the other runoff.ErrNotFound.
func (s *DB) UseResetToken(ctx context.Context, hash string) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.db.GetContext(ctx, &id, `DELETE FROM reset_tokens WHERE token_hash = $1 AND expires_at > now() RETURNING organizer_id`, hash)
	if err != nil {
		return uuid.Nil, notFound(err, "reset token")
	}
	return id, nil
}
