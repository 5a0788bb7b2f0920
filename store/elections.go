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
	e, err := electionIn(ctx, s.db, id)
	if err != nil {
		return nil, notFound(err, "election "+id.String())
	}
	return e, nil
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
// transaction and returns what became of each, as runoff.DecideElectionCreate
// decides: a redelivered message (the same election exists) changes
// nothing; another election under an ID already taken is refused.
func (s *DB) CreateElections(ctx context.Context, ms []runoff.ElectionCreate) ([]Outcome, error) {
	out := make([]Outcome, len(ms))
	owners := make([]uuid.UUID, len(ms))
	for i, m := range ms {
		owners[i] = m.OwnerID
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
			if out[i].Dead = runoff.DecideElectionCreate(m, known[m.OwnerID], nil); out[i].Dead != "" {
				continue
			}
			res, err := tx.ExecContext(ctx, insertElectionSQL, m.ElectionID, m.OwnerID, m.Title, m.Description, m.Seats, m.RequestedAt)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				// Its ID is taken: by this very election (a redelivery), or
				// by another.
				existing, err := electionIn(ctx, tx, m.ElectionID)
				if err != nil {
					return err
				}
				out[i].Dead = runoff.DecideElectionCreate(m, true, existing)
				continue
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

// electionIn reads an election and its candidates within a transaction.
func electionIn(ctx context.Context, q sqlx.QueryerContext, id uuid.UUID) (*runoff.Election, error) {
	var e runoff.Election
	if err := sqlx.GetContext(ctx, q, &e, electionSQL, id); err != nil {
		return nil, err
	}
	if err := sqlx.SelectContext(ctx, q, &e.Candidates, candidatesSQL, id); err != nil {
		return nil, err
	}
	return &e, nil
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
