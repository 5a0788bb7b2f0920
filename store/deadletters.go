package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/runoff-vote/runoff"
)

const saveDeadLetterSQL = `
INSERT INTO dead_letters (id, election_id, organizer_id, message_id, routing_key, queue, reason, body, dead_at)
VALUES (:id, :election_id, :organizer_id, :message_id, :routing_key, :queue, :reason, :body, :dead_at)
ON CONFLICT (id) DO NOTHING`

// SaveDeadLetters stores dead letters; one stored before (a redelivery from
// the dead-letter queue) changes nothing.
func (s *DB) SaveDeadLetters(ctx context.Context, dls []runoff.DeadLetter) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, dl := range dls {
			if _, err := tx.NamedExecContext(ctx, saveDeadLetterSQL, dl); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrapf(err, "save dead letters")
	}
	return nil
}

const deadLetterColumns = `id, election_id, organizer_id, message_id, routing_key, queue, reason, body, dead_at, requeued_at`

// ofElection selects an election's dead letters: the ballots that name it,
// and its organizer's own actions, but not another organizer's message that
// happens to name it (an election.create under an ID already taken).
const ofElection = `election_id = $1 AND (organizer_id IS NULL OR organizer_id = (SELECT owner_id FROM elections WHERE id = $1))`

// DeadLetters lists an election's dead letters, newest first.
func (s *DB) DeadLetters(ctx context.Context, electionID uuid.UUID) ([]runoff.DeadLetter, error) {
	var dls []runoff.DeadLetter
	err := s.db.SelectContext(ctx, &dls, `SELECT `+deadLetterColumns+` FROM dead_letters
		WHERE `+ofElection+` ORDER BY dead_at DESC, id DESC LIMIT 500`, electionID)
	if err != nil {
		return nil, wrapf(err, "dead letters of %s", electionID)
	}
	return dls, nil
}

// DeadLetter reads one dead letter.
func (s *DB) DeadLetter(ctx context.Context, id uuid.UUID) (*runoff.DeadLetter, error) {
	var dl runoff.DeadLetter
	if err := s.db.GetContext(ctx, &dl, `SELECT `+deadLetterColumns+` FROM dead_letters WHERE id = $1`, id); err != nil {
		return nil, notFound(err, "dead letter "+id.String())
	}
	return &dl, nil
}

// DeadLetterByMessage finds the latest dead letter of a message (a ballot's
// or an election's ID), so a receipt can say its ballot is held.
func (s *DB) DeadLetterByMessage(ctx context.Context, messageID string) (*runoff.DeadLetter, error) {
	var dl runoff.DeadLetter
	err := s.db.GetContext(ctx, &dl, `SELECT `+deadLetterColumns+` FROM dead_letters
		WHERE message_id = $1 ORDER BY dead_at DESC LIMIT 1`, messageID)
	if err != nil {
		return nil, notFound(err, "dead letter of "+messageID)
	}
	return &dl, nil
}

// MarkRequeued records that a dead letter was published again, at the
// organizer's request, in its election's audit log too.
func (s *DB) MarkRequeued(ctx context.Context, dl *runoff.DeadLetter, by uuid.UUID, at time.Time) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE dead_letters SET requeued_at = $2 WHERE id = $1 AND requeued_at IS NULL`, dl.ID, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || dl.ElectionID == nil {
			return nil
		}
		detail := fmt.Sprintf("Requeued a held %s message (%s), held because: %s", dl.RoutingKey, dl.MessageID, dl.Reason)
		_, err = recordChange(ctx, tx, uuid.NewSHA1(dl.ID, []byte("requeue")), *dl.ElectionID, by, runoff.KeyDeadLetterRequeue, at, detail)
		return err
	})
	if err != nil {
		return wrapf(err, "requeue %s", dl.ID)
	}
	return nil
}

// CountDeadLetters counts an election's dead letters not yet requeued.
func (s *DB) CountDeadLetters(ctx context.Context, electionID uuid.UUID) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM dead_letters WHERE `+ofElection+` AND requeued_at IS NULL`, electionID)
	if err != nil {
		return 0, wrapf(err, "count dead letters of %s", electionID)
	}
	return n, nil
}

const heldByOwnerSQL = `
SELECT d.election_id, count(*) FROM dead_letters d JOIN elections e ON e.id = d.election_id
WHERE e.owner_id = $1 AND d.requeued_at IS NULL AND (d.organizer_id IS NULL OR d.organizer_id = e.owner_id)
GROUP BY d.election_id`

// HeldByOwner counts, for each of an organizer's elections, its held
// messages not yet requeued, in one query for the dashboard.
func (s *DB) HeldByOwner(ctx context.Context, owner uuid.UUID) (map[uuid.UUID]int, error) {
	rows, err := s.db.QueryContext(ctx, heldByOwnerSQL, owner)
	if err != nil {
		return nil, wrapf(err, "held messages of %s", owner)
	}
	defer rows.Close()
	held := map[uuid.UUID]int{}
	for rows.Next() {
		var id uuid.UUID
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, wrapf(err, "held messages of %s", owner)
		}
		held[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, wrapf(err, "held messages of %s", owner)
	}
	return held, nil
}
