package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/runoff-vote/runoff"
)

const insertImportedSQL = `
INSERT INTO ballots (id, election_id, ranking, status, reason, submitted_at, import_id)
SELECT u.id, $5, u.ranking::uuid[], u.status, u.reason, $6, $7
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(id, ranking, status, reason)
ORDER BY u.id
ON CONFLICT (id) DO NOTHING
RETURNING id`

// StoreImport stores a batch of an import's paper ballots in one
// transaction, as runoff.DecideImport decides against the election locked
// in it, each ballot checked again like an online one. A ballot stored
// before (the same file uploaded again, a redelivery) changes nothing.
func (s *DB) StoreImport(ctx context.Context, m runoff.ElectionImport) (out Outcome, counted bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		e, err := lockElection(ctx, tx, m.ElectionID)
		if err != nil {
			return err
		}
		if out.Dead = runoff.DecideImport(e, m, time.Now()); out.Dead != "" {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO imports (id, election_id, organizer_id, file_name, total) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO NOTHING`, m.ImportID, e.ID, m.OrganizerID, m.FileName, m.Total); err != nil {
			return err
		}
		detail := fmt.Sprintf("Imported %d paper ballots from %s.", m.Total, m.FileName)
		if _, err := recordChange(ctx, tx, m.ImportID, e.ID, m.OrganizerID, runoff.KeyElectionImport, m.RequestedAt, detail); err != nil {
			return err
		}
		n := len(m.Ballots)
		ids, rankings, statuses, reasons := make([]uuid.UUID, n), make([]string, n), make([]string, n), make([]string, n)
		for i, b := range m.Ballots {
			ids[i], rankings[i], statuses[i] = runoff.ImportedBallotID(m.ImportID, b.Row), rankingLiteral(b.Ranking), runoff.BallotCounted
			if err := runoff.ValidateRanking(e, b.Ranking); err != nil {
				statuses[i], reasons[i] = runoff.BallotRejected, runoff.Reason(err)
			}
		}
		var inserted []uuid.UUID
		if err := tx.SelectContext(ctx, &inserted, insertImportedSQL, uuidArray(ids), pq.Array(rankings), pq.Array(statuses), pq.Array(reasons),
			e.ID, m.RequestedAt, m.ImportID); err != nil {
			return err
		}
		isNew := make(map[uuid.UUID]bool, len(inserted))
		for _, id := range inserted {
			isNew[id] = true
		}
		counts := map[string]int64{}
		var added int64
		for i, id := range ids {
			if isNew[id] && statuses[i] == runoff.BallotCounted {
				counts[rankings[i]]++
				added++
			}
		}
		if added == 0 {
			return nil
		}
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, strings.Compare)
		kElection, kCount := make([]uuid.UUID, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			kElection[i], kCount[i] = e.ID, counts[k]
		}
		if _, err := tx.ExecContext(ctx, addRankingCountsSQL, uuidArray(kElection), pq.Array(keys), pq.Array(kCount)); err != nil {
			return err
		}
		counted = true
		_, err = tx.ExecContext(ctx, addBallotsCountedSQL, uuidArray([]uuid.UUID{e.ID}), pq.Array([]int64{added}), pq.Array([]int64{0}))
		return err
	})
	if err != nil {
		return Outcome{}, false, wrapf(err, "import %s", m.ImportID)
	}
	return out, counted, nil
}

// ImportProgress says how many ballots an import holds (0 until its first
// batch is stored) and how many are stored.
func (s *DB) ImportProgress(ctx context.Context, electionID, importID uuid.UUID) (total, stored int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT total FROM imports WHERE id = $1 AND election_id = $2), 0),
		(SELECT count(*) FROM ballots WHERE import_id = $1 AND election_id = $2)`, importID, electionID).Scan(&total, &stored)
	if err != nil {
		return 0, 0, wrapf(err, "import %s", importID)
	}
	return total, stored, nil
}
