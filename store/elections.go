package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/runoff-vote/runoff"
)

const electionColumns = `id, owner_id, title, description, seats, status, ballots_counted, created_at,
winner_mode, tiebreak, random_seed, max_ranks, results_visibility, access, opens_at, closes_at, timezone, opened_at, closed_at, final_at,
changes, keys_issued, keys_used, counts_version`

const electionSQL = `SELECT ` + electionColumns + ` FROM elections WHERE id = $1`

const candidatesSQL = `
SELECT id, name, position, description FROM candidates WHERE election_id = $1 ORDER BY position`

// Election reads an election and its candidates in listed order.
func (s *DB) Election(ctx context.Context, id uuid.UUID) (*runoff.Election, error) {
	e, err := electionIn(ctx, s.db, id)
	if err != nil {
		return nil, notFound(err, "election "+id.String())
	}
	return e, nil
}

const electionsByOwnerSQL = `
SELECT ` + electionColumns + ` FROM elections WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT 500`

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
INSERT INTO elections (id, owner_id, title, description, seats, created_at, status, opened_at,
    winner_mode, tiebreak, max_ranks, results_visibility, access, opens_at, closes_at, timezone, changes, random_seed)
VALUES (:id, :owner_id, :title, :description, :seats, :created_at, :status, :opened_at,
    :winner_mode, :tiebreak, :max_ranks, :results_visibility, :access, :opens_at, :closes_at, :timezone, :changes,
    CASE WHEN :tiebreak IN ('random', 'previousRoundCountsThenRandom') THEN CAST(random() * 9e15 AS bigint) END)
ON CONFLICT (id) DO NOTHING`

const insertCandidatesSQL = `
INSERT INTO candidates (id, election_id, name, position, description)
SELECT u.id, $1, u.name, u.position, u.description
FROM unnest($2::uuid[], $3::text[], $4::int[], $5::text[]) AS u(id, name, position, description)`

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
			res, err := tx.NamedExecContext(ctx, insertElectionSQL, newElection(m))
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
			if err := insertCandidates(ctx, tx, m.ElectionID, m.Candidates); err != nil {
				return err
			}
			if _, err := recordChange(ctx, tx, m.ElectionID, m.ElectionID, m.OwnerID, runoff.KeyElectionCreate, m.RequestedAt); err != nil {
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

// newElection is the row an election.create makes: open at once, unless
// a draft.
func newElection(m runoff.ElectionCreate) *runoff.Election {
	e := &runoff.Election{ID: m.ElectionID, OwnerID: m.OwnerID, Title: m.Title, Description: m.Description, Seats: m.Seats,
		CreatedAt: m.RequestedAt, Settings: m.Settings.WithDefaults(), Status: runoff.StatusOpen}
	switch {
	case m.Draft || m.Settings.OpensAt != nil && m.Settings.OpensAt.After(m.RequestedAt):
		e.Status = runoff.StatusDraft
	default:
		e.OpenedAt = &m.RequestedAt
	}
	return e
}

func insertCandidates(ctx context.Context, tx *sqlx.Tx, electionID uuid.UUID, cs []runoff.Candidate) error {
	ids := make([]uuid.UUID, len(cs))
	names := make([]string, len(cs))
	pos := make([]int64, len(cs))
	descs := make([]string, len(cs))
	for j, c := range cs {
		ids[j], names[j], pos[j], descs[j] = c.ID, c.Name, int64(c.Position), c.Description
	}
	_, err := tx.ExecContext(ctx, insertCandidatesSQL, electionID, uuidArray(ids), pq.Array(names), pq.Array(pos), pq.Array(descs))
	return err
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
