package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

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
