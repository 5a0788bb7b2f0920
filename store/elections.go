package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/runoff-vote/runoff"
)

const electionSQL = `
SELECT id, owner_id, title, description, seats, status, ballots_counted, created_at
FROM elections WHERE id = $1`

const candidatesSQL = `
SELECT id, name, position FROM candidates WHERE election_id = $1 ORDER BY position`

// Election reads an election and its candidates in listed order.
func (s *DB) Election(ctx context.Context, id uuid.UUID) (*runoff.Election, error) {
	var e runoff.Election
	if err := s.db.GetContext(ctx, &e, electionSQL, id); err != nil {
		return nil, notFound(err, "election "+id.String())
	}
	if err := s.db.SelectContext(ctx, &e.Candidates, candidatesSQL, id); err != nil {
		return nil, wrapf(err, "candidates of %s", id)
	}
	return &e, nil
}

const electionsByOwnerSQL = `
SELECT id, owner_id, title, description, seats, status, ballots_counted, created_at
FROM elections WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT 500`

// ElectionsByOwner lists an organizer's elections, newest first, without
// candidates.
func (s *DB) ElectionsByOwner(ctx context.Context, owner uuid.UUID) ([]runoff.Election, error) {
	var es []runoff.Election
	if err := s.db.SelectContext(ctx, &es, electionsByOwnerSQL, owner); err != nil {
		return nil, wrapf(err, "elections of %s", owner)
	}
	return es, nil
}

// Outcome says what a batch did with one message. Dead is set when the
// message can never be carried out (it goes to the dead-letter queue with
// Dead as the reason); otherwise it was stored, or was already stored.
type Outcome struct {
	Dead string
}

const ownersExistSQL = `SELECT id FROM organizers WHERE id = ANY($1)`

const insertElectionSQL = `
INSERT INTO elections (id, owner_id, title, description, seats, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO NOTHING`

const insertCandidatesSQL = `
INSERT INTO candidates (id, election_id, name, position)
SELECT u.id, $1, u.name, u.position
FROM unnest($2::uuid[], $3::text[], $4::int[]) AS u(id, name, position)`

// CreateElections stores a batch of election.create messages in one
// transaction. A redelivered message (the election exists) changes nothing.
func (s *DB) CreateElections(ctx context.Context, ms []runoff.ElectionCreate) ([]Outcome, error) {
	out := make([]Outcome, len(ms))
	owners := make([]uuid.UUID, 0, len(ms))
	for i, m := range ms {
		if err := runoff.ValidateElection(m); err != nil {
			out[i].Dead = err.Error()
			continue
		}
		owners = append(owners, m.OwnerID)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var found []uuid.UUID
		if err := tx.SelectContext(ctx, &found, ownersExistSQL, uuidArray(owners)); err != nil {
			return err
		}
		known := make(map[uuid.UUID]bool, len(found))
		for _, id := range found {
			known[id] = true
		}
		for i, m := range ms {
			if out[i].Dead != "" {
				continue
			}
			if !known[m.OwnerID] {
				out[i].Dead = "no organizer " + m.OwnerID.String()
				continue
			}
			res, err := tx.ExecContext(ctx, insertElectionSQL, m.ElectionID, m.OwnerID, m.Title, m.Description, m.Seats, m.RequestedAt)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // redelivered: stored before
			}
			ids := make([]uuid.UUID, len(m.Candidates))
			names := make([]string, len(m.Candidates))
			pos := make([]int64, len(m.Candidates))
			for j, c := range m.Candidates {
				ids[j], names[j], pos[j] = c.ID, c.Name, int64(c.Position)
			}
			if _, err := tx.ExecContext(ctx, insertCandidatesSQL, m.ElectionID, uuidArray(ids), pq.Array(names), pq.Array(pos)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Every message keeps its place; the caller retries the batch.
		return nil, wrapf(err, "create elections")
	}
	return out, nil
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *DB) inTx(ctx context.Context, fn func(*sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
