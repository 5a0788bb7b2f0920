package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// RankingCount is one distinct ranking and how many counted ballots hold it.
type RankingCount struct {
	Ranking []uuid.UUID
	Count   int64
}

// Tally is a consistent read of what an election's count depends on: its
// distinct-ranking counts and the organizer's tie decisions, as of ReadAt.
type Tally struct {
	Election  *runoff.Election
	Rankings  []RankingCount
	Decisions []runoff.TieDecision
	ReadAt    time.Time
}

const rankingCountsSQL = `SELECT ranking, count FROM ranking_counts WHERE election_id = $1`

// Tally reads an election, its candidates and its ranking counts in one
// repeatable-read snapshot, so BallotsCounted matches the counts exactly.
func (s *DB) Tally(ctx context.Context, id uuid.UUID) (*Tally, error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	defer tx.Rollback()
	e, err := electionIn(ctx, tx, id)
	if err != nil {
		return nil, notFound(err, "election "+id.String())
	}
	t := &Tally{Election: e}
	if err := tx.GetContext(ctx, &t.ReadAt, `SELECT now()`); err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	if t.Decisions, err = tieDecisions(ctx, tx, id); err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	// Sized once: a million-ballot election has hundreds of thousands of
	// distinct rankings.
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM ranking_counts WHERE election_id = $1`, id); err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	t.Rankings = make([]RankingCount, 0, n)
	rows, err := tx.QueryContext(ctx, rankingCountsSQL, id)
	if err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	defer rows.Close()
	var arena uuidArena
	var raw sql.RawBytes // parsed into the arena before the next row
	for rows.Next() {
		var rc RankingCount
		if err := rows.Scan(&raw, &rc.Count); err != nil {
			return nil, wrapf(err, "tally %s", id)
		}
		if rc.Ranking, err = arena.parseArray(raw); err != nil {
			return nil, wrapf(err, "tally %s", id)
		}
		t.Rankings = append(t.Rankings, rc)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	return t, nil
}

// A snapshot never replaces one made from a later version of the counts:
// two workers recomputing at once cannot move results backwards.
const saveResultSQL = `
INSERT INTO results (election_id, ballots_counted, report, model, computed_at, rules, counts_version)
VALUES ($1, $2, $3, $4, COALESCE($5, now()), $6, $7)
ON CONFLICT (election_id) DO UPDATE
SET ballots_counted = EXCLUDED.ballots_counted, report = EXCLUDED.report, model = EXCLUDED.model,
    computed_at = EXCLUDED.computed_at, rules = EXCLUDED.rules, counts_version = EXCLUDED.counts_version
WHERE results.counts_version < EXCLUDED.counts_version
   OR results.counts_version = EXCLUDED.counts_version AND results.ballots_counted <= EXCLUDED.ballots_counted`

// SaveResult stores a results snapshot unless a newer one is there.
func (s *DB) SaveResult(ctx context.Context, r runoff.ResultSnapshot) error {
	model, err := json.Marshal(r.Model)
	if err != nil {
		return wrapf(err, "save result %s", r.ElectionID)
	}
	var computed *time.Time
	if !r.ComputedAt.IsZero() {
		computed = &r.ComputedAt
	}
	if _, err := s.db.ExecContext(ctx, saveResultSQL, r.ElectionID, r.BallotsCounted, r.Report, model, computed, string(r.Rules), r.CountsVersion); err != nil {
		return wrapf(err, "save result %s", r.ElectionID)
	}
	return nil
}

const resultSQL = `SELECT ballots_counted, report, model, computed_at, rules FROM results WHERE election_id = $1 AND model IS NOT NULL`

// Result reads an election's last results snapshot. One from before the
// results model (which the worker is about to replace) is not found.
func (s *DB) Result(ctx context.Context, id uuid.UUID) (*runoff.ResultSnapshot, error) {
	r := runoff.ResultSnapshot{ElectionID: id}
	var model []byte
	err := s.db.QueryRowContext(ctx, resultSQL, id).Scan(&r.BallotsCounted, &r.Report, &model, &r.ComputedAt, &r.Rules)
	if err != nil {
		return nil, notFound(err, "result "+id.String())
	}
	if err := json.Unmarshal(model, &r.Model); err != nil {
		return nil, wrapf(err, "result %s: model", id)
	}
	return &r, nil
}

const staleElectionsSQL = `
SELECT e.id FROM elections e LEFT JOIN results r ON r.election_id = e.id
WHERE e.ballots_counted > 0 AND (r.election_id IS NULL OR r.ballots_counted < e.ballots_counted OR r.model IS NULL
    OR r.counts_version < e.counts_version)
ORDER BY e.id LIMIT $1`

// StaleElections lists elections whose results snapshot is missing or older
// than their counts: after a crash between a batch commit and its recompute,
// this is how the next worker finds them.
func (s *DB) StaleElections(ctx context.Context, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := s.db.SelectContext(ctx, &ids, staleElectionsSQL, limit); err != nil {
		return nil, wrapf(err, "stale elections")
	}
	return ids, nil
}

// uuidArena hands out the rankings of a tally from large shared blocks:
// a million-ballot election has hundreds of thousands of distinct
// rankings, and one allocation (and one Postgres text array of strings)
// for each cost the worker more memory and GC than the count itself.
type uuidArena struct {
	block []uuid.UUID
}

// parseArray parses a uuid[] in Postgres's text form ({a,b,c}).
func (a *uuidArena) parseArray(raw []byte) ([]uuid.UUID, error) {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return nil, fmt.Errorf("ranking %q: not an array", raw)
	}
	body := raw[1 : len(raw)-1]
	if len(body) == 0 {
		return []uuid.UUID{}, nil
	}
	n := bytes.Count(body, []byte{','}) + 1
	if cap(a.block)-len(a.block) < n {
		a.block = make([]uuid.UUID, 0, max(8192, n))
	}
	at := len(a.block)
	a.block = a.block[:at+n]
	ids := a.block[at : at+n : at+n]
	for i := range n {
		elem := body
		if j := bytes.IndexByte(body, ','); j >= 0 {
			elem, body = body[:j], body[j+1:]
		}
		id, err := uuid.ParseBytes(elem)
		if err != nil {
			return nil, fmt.Errorf("ranking %q: %w", raw, err)
		}
		ids[i] = id
	}
	return ids, nil
}
