package worker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rcv"
	"github.com/runoff-vote/runoff/store"
)

// Rules are the rules online elections are counted by: single-winner
// instant runoff; ties broken by previous-round counts, then by the order
// the organizer listed the candidates.
func Rules(e *runoff.Election) rcv.Rules {
	r := rcv.DefaultRules()
	r.TiebreakMode = rcv.TiebreakPreviousRoundCountsThenCandidateOrder
	r.Candidates = make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		r.Candidates[i] = c.Name
	}
	return r
}

// Report tabulates a tally and returns the RCTab detailed-report JSON that
// the results pages show and serve.
func Report(t *store.Tally) ([]byte, error) {
	e := t.Election
	index := make(map[uuid.UUID]int, len(e.Candidates))
	for i, c := range e.Candidates {
		index[c.ID] = i
	}
	ballots := make([]rcv.Ballot, 0, len(t.Rankings))
	for _, rc := range t.Rankings {
		idx := make([]int, 0, len(rc.Ranking))
		for _, id := range rc.Ranking {
			if i, ok := index[id]; ok {
				idx = append(idx, i)
			}
		}
		ballots = append(ballots, rcv.Ranking(rc.Count, idx...))
	}
	res, err := rcv.Tabulate(Rules(e), ballots)
	if err != nil {
		return nil, fmt.Errorf("worker: tabulate %s: %w", e.ID, err)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf, rcv.ReportMeta{Contest: e.Title, Date: e.CreatedAt.UTC().Format("2006-01-02")}); err != nil {
		return nil, fmt.Errorf("worker: report %s: %w", e.ID, err)
	}
	return buf.Bytes(), nil
}

// Recomputer keeps results snapshots fresh. It recomputes every election
// whose snapshot is older than its counts — found in Postgres, not kept in
// memory, so a worker that died between a commit and a recompute leaves
// nothing stale for long — when told of new ballots, and every Poll in any
// case. It recomputes at most once per MinInterval.
type Recomputer struct {
	DB          *store.DB
	Log         *slog.Logger
	MinInterval time.Duration
	Poll        time.Duration
	Metrics     *Metrics
	wake        chan struct{}
}

// NewRecomputer makes a recomputer with production defaults.
func NewRecomputer(db *store.DB, log *slog.Logger) *Recomputer {
	return &Recomputer{DB: db, Log: log, MinInterval: 250 * time.Millisecond, Poll: 5 * time.Second, Metrics: NewMetrics(nil), wake: make(chan struct{}, 1)}
}

// Notify says that these elections' counts changed. It never blocks.
func (rc *Recomputer) Notify(ids []uuid.UUID) {
	select {
	case rc.wake <- struct{}{}:
	default:
	}
}

// Run recomputes until ctx is cancelled.
func (rc *Recomputer) Run(ctx context.Context) error {
	poll := time.NewTicker(rc.Poll)
	defer poll.Stop()
	for {
		if err := rc.Once(ctx); err != nil && ctx.Err() == nil {
			rc.Log.Warn("recompute failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(rc.MinInterval):
		}
		select {
		case <-ctx.Done():
			return nil
		case <-rc.wake:
		case <-poll.C:
		}
	}
}

// Once recomputes the stale elections now (up to 500; the next pass takes
// the rest). One election failing does not hold up the others.
func (rc *Recomputer) Once(ctx context.Context) error {
	ids, err := rc.DB.StaleElections(ctx, 500)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := rc.recompute(ctx, id); err != nil {
			if ctx.Err() != nil {
				return err
			}
			rc.Log.Error("recompute failed", "election_id", id, "err", err)
		}
	}
	return nil
}

func (rc *Recomputer) recompute(ctx context.Context, id uuid.UUID) error {
	start := time.Now()
	t, err := rc.DB.Tally(ctx, id)
	if err != nil {
		return err
	}
	report, err := Report(t)
	if err != nil {
		return err
	}
	if err := rc.DB.SaveResult(ctx, runoff.ResultSnapshot{ElectionID: id, BallotsCounted: t.Election.BallotsCounted, Report: report}); err != nil {
		return err
	}
	rc.Metrics.RecomputeSeconds.Observe(time.Since(start).Seconds())
	rc.Log.Debug("results recomputed", "election_id", id, "ballots", t.Election.BallotsCounted, "rankings", len(t.Rankings), "took", time.Since(start))
	return nil
}
