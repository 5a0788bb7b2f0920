package store

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/runoff-vote/runoff"
)

// recordChangeSQL records a change as carried out; a change recorded
// before (a redelivery) inserts nothing.
const recordChangeSQL = `
INSERT INTO election_changes (id, election_id, organizer_id, action, requested_at, detail)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`

const lockElectionSQL = `SELECT ` + electionColumns + ` FROM elections WHERE id = $1 FOR UPDATE`

// lockElection reads an election and its candidates, locked for the
// transaction; nil when there is none.
func lockElection(ctx context.Context, tx *sqlx.Tx, id uuid.UUID) (*runoff.Election, error) {
	var e runoff.Election
	if err := tx.GetContext(ctx, &e, lockElectionSQL, id); err != nil {
		if isNoRows(err) {
			return nil, nil
		}
		return nil, err
	}
	if err := tx.SelectContext(ctx, &e.Candidates, candidatesSQL, id); err != nil {
		return nil, err
	}
	return &e, nil
}

// recordChange records a change in the transaction, for the page that
// waits for it and for the audit log; done reports that it had been
// carried out before. detail says what it did, in words, where the action
// alone does not.
func recordChange(ctx context.Context, tx *sqlx.Tx, id, electionID, organizerID uuid.UUID, action string, at any, detail ...string) (done bool, err error) {
	res, err := tx.ExecContext(ctx, recordChangeSQL, id, electionID, organizerID, action, at, strings.Join(detail, " "))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 0, err
}

const updateElectionSQL = `
UPDATE elections SET title = :title, description = :description, seats = :seats,
    winner_mode = :winner_mode, tiebreak = :tiebreak, max_ranks = :max_ranks, results_visibility = :results_visibility,
    access = :access, changes = :changes, opens_at = :opens_at, closes_at = :closes_at, timezone = :timezone,
    random_seed = CASE WHEN :tiebreak IN ('random', 'previousRoundCountsThenRandom')
        THEN COALESCE(random_seed, CAST(random() * 9e15 AS bigint)) END
WHERE id = :id`

// UpdateElection carries out an election.update, as
// runoff.DecideUpdate decides against the election locked in the same
// transaction.
func (s *DB) UpdateElection(ctx context.Context, m runoff.ElectionUpdate) (out Outcome, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		e, err := lockElection(ctx, tx, m.ElectionID)
		if err != nil {
			return err
		}
		if out.Dead = runoff.DecideUpdate(e, m, m.RequestedAt); out.Dead != "" {
			return nil
		}
		if done, err := recordChange(ctx, tx, m.ChangeID, e.ID, m.OrganizerID, runoff.KeyElectionUpdate, m.RequestedAt); err != nil || done {
			return err
		}
		next := *e
		next.Description, next.Settings.Results, next.Settings.ClosesAt = m.Description, m.Settings.Results, m.Settings.ClosesAt
		if e.StateAt(m.RequestedAt) == runoff.StatusDraft {
			next.Title, next.Seats, next.Settings = m.Title, m.Seats, m.Settings.WithDefaults()
			if _, err := tx.ExecContext(ctx, `DELETE FROM candidates WHERE election_id = $1`, e.ID); err != nil {
				return err
			}
			if err := insertCandidates(ctx, tx, e.ID, m.Candidates); err != nil {
				return err
			}
		}
		_, err = tx.NamedExecContext(ctx, updateElectionSQL, &next)
		return err
	})
	if err != nil {
		return Outcome{}, wrapf(err, "update election %s", m.ElectionID)
	}
	return out, nil
}

const transitionSQL = `
UPDATE elections SET
    status = COALESCE(NULLIF($2, ''), status),
    opened_at = COALESCE($3, opened_at),
    closed_at = CASE WHEN $4 THEN NULL ELSE COALESCE($5, closed_at) END,
    final_at = CASE WHEN $4 THEN NULL ELSE final_at END,
    sealed_at = CASE WHEN $4 THEN NULL ELSE sealed_at END,
    closes_at = CASE WHEN $4 THEN $6 ELSE closes_at END,
    opens_at = CASE WHEN $7 THEN NULL ELSE opens_at END,
    random_seed = CASE WHEN $8 AND random_seed IS NULL THEN CAST(random() * 9e15 AS bigint) ELSE random_seed END
WHERE id = $1`

// ActOnElection carries out an election.open, .close, .reopen or
// .delete, as runoff.DecideAction decides against the election locked in
// the same transaction. Deleting removes the election with its candidates,
// ballots, counts, results and held messages.
func (s *DB) ActOnElection(ctx context.Context, key string, m runoff.ElectionAction) (out Outcome, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		e, err := lockElection(ctx, tx, m.ElectionID)
		if err != nil {
			return err
		}
		t, dead := runoff.DecideAction(key, e, m)
		if out.Dead = dead; dead != "" || e == nil {
			return nil
		}
		if t.Delete {
			if _, err := tx.ExecContext(ctx, `DELETE FROM dead_letters WHERE election_id = $1`, e.ID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM elections WHERE id = $1`, e.ID)
			return err
		}
		if done, err := recordChange(ctx, tx, m.ChangeID, e.ID, m.OrganizerID, key, m.At); err != nil || done {
			return err
		}
		_, err = tx.ExecContext(ctx, transitionSQL, e.ID, t.Status, t.OpenedAt, t.Reopen, t.ClosedAt, t.ClosesAt, t.ClearOpensAt, t.DrawSeed)
		return err
	})
	if err != nil {
		return Outcome{}, wrapf(err, "%s %s", key, m.ElectionID)
	}
	return out, nil
}

// ChangeApplied reports whether the worker has carried out a change; the
// page that waits for it asks.
func (s *DB) ChangeApplied(ctx context.Context, id uuid.UUID) (bool, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM election_changes WHERE id = $1`, id); err != nil {
		return false, wrapf(err, "change %s", id)
	}
	return n > 0, nil
}
