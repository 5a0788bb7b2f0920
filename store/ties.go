package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/runoff-vote/runoff"
)

const tieDecisionsSQL = `
SELECT id, election_id, pass, round, kind, tied, selected, decided_by, decided_at
FROM tie_decisions WHERE election_id = $1 ORDER BY decided_at, id`

func tieDecisions(ctx context.Context, q sqlx.QueryerContext, electionID uuid.UUID) ([]runoff.TieDecision, error) {
	var rows []struct {
		runoff.TieDecision
		Tied pq.StringArray `db:"tied"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, tieDecisionsSQL, electionID); err != nil {
		return nil, err
	}
	ds := make([]runoff.TieDecision, len(rows))
	for i, r := range rows {
		ds[i] = r.TieDecision
		ds[i].Tied = r.Tied
	}
	return ds, nil
}

const insertTieDecisionSQL = `
INSERT INTO tie_decisions (id, election_id, pass, round, kind, tied, selected, decided_by, decided_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`

// DecideTie records the organizer's choice in the tie the count is waiting
// on, as runoff.DecideTiebreak decides against the election and its last
// results in the same transaction, and marks the results for a recount.
func (s *DB) DecideTie(ctx context.Context, m runoff.TieDecision) (out Outcome, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		e, err := lockElection(ctx, tx, m.Election)
		if err != nil {
			return err
		}
		var waiting *runoff.TieWait
		if e != nil {
			var model []byte
			err := tx.GetContext(ctx, &model, `SELECT model FROM results WHERE election_id = $1 AND model IS NOT NULL`, e.ID)
			if err == nil {
				var r runoff.Results
				if err := json.Unmarshal(model, &r); err != nil {
					return err
				}
				waiting = r.Waiting
			} else if !isNoRows(err) {
				return err
			}
		}
		if out.Dead = runoff.DecideTiebreak(e, waiting, m); out.Dead != "" {
			return nil
		}
		detail := fmt.Sprintf("Chose %s to be %s in round %d, where %s were tied.", m.Selected, verb(m.Kind), m.Round, strings.Join(m.Tied, " and "))
		if done, err := recordChange(ctx, tx, m.ID, e.ID, m.DecidedBy, runoff.KeyElectionTiebreak, m.DecidedAt, detail); err != nil || done {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertTieDecisionSQL, m.ID, e.ID, m.Pass, m.Round, m.Kind, pq.Array(m.Tied), m.Selected, m.DecidedBy, m.DecidedAt); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE elections SET counts_version = counts_version + 1 WHERE id = $1`, e.ID)
		return err
	})
	if err != nil {
		return Outcome{}, wrapf(err, "tie decision for %s", m.Election)
	}
	return out, nil
}

const toSealSQL = `
SELECT ` + electionColumns + ` FROM elections
WHERE final_at IS NULL AND (status = 'closed' OR closes_at <= $1)
  AND (sealed_at IS NULL OR sealed_at < $2)
ORDER BY id LIMIT 200
FOR UPDATE SKIP LOCKED`

// ToSeal lists the seals to send: elections closed since before settled
// whose count is not final, and whose last seal (if any) went out before
// resend. It marks them as sealed now.
func (s *DB) ToSeal(ctx context.Context, settled, resend time.Time) ([]runoff.VoteSeal, error) {
	var seals []runoff.VoteSeal
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var es []runoff.Election
		if err := tx.SelectContext(ctx, &es, toSealSQL, settled, resend); err != nil {
			return err
		}
		now := time.Now()
		for _, e := range es {
			since := e.ClosedSince(now)
			if since == nil || since.After(settled) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE elections SET sealed_at = now() WHERE id = $1`, e.ID); err != nil {
				return err
			}
			seals = append(seals, runoff.VoteSeal{ElectionID: e.ID, ClosedAt: *since})
		}
		return nil
	})
	if err != nil {
		return nil, wrapf(err, "elections to seal")
	}
	return seals, nil
}

// Seal marks a count final when its seal has come through the votes
// queue and the election is still closed since the same moment: every
// ballot received before the close was queued before the seal, and has
// been carried out.
func (s *DB) Seal(ctx context.Context, seal runoff.VoteSeal) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		e, err := lockElection(ctx, tx, seal.ElectionID)
		if err != nil || e == nil {
			return err
		}
		since := e.ClosedSince(time.Now())
		if since == nil || !since.Equal(seal.ClosedAt) || e.FinalAt != nil {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE elections SET final_at = now() WHERE id = $1`, e.ID)
		return err
	})
	if err != nil {
		return wrapf(err, "seal %s", seal.ElectionID)
	}
	return nil
}

func verb(kind string) string {
	if kind == runoff.TieElection {
		return "elected"
	}
	return "eliminated"
}
