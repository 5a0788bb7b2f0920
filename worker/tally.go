package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rcv"
	"github.com/runoff-vote/runoff/store"
)

// CountRules are the rules an election is counted by, from its settings:
// the counting method and seats, the tie-break rule (with the seed drawn
// when it opened), how many ranks count, and the candidates in the order
// listed, which candidate-order tie-breaks use.
func CountRules(e *runoff.Election) rcv.Rules {
	s := e.Settings.WithDefaults()
	r := rcv.DefaultRules()
	r.WinnerElectionMode = s.WinnerMode
	r.NumberOfWinners = max(e.Seats, 1)
	r.TiebreakMode = s.Tiebreak
	if s.RandomSeed != nil {
		r.RandomSeed = *s.RandomSeed
	}
	r.MaxRankingsAllowed = s.MaxRanks
	r.Candidates = e.CandidateNames()
	return r
}

// Count tabulates a tally in full and returns the snapshot to store: the
// RCTab detailed-report JSON that results.json serves, and the results
// model the pages format. (The recomputer counts the tallies it keeps
// with an rcv.Counter instead, which gives the same; see recount.go.)
func Count(t *store.Tally) (runoff.ResultSnapshot, error) {
	e := t.Election
	index := make(map[uuid.UUID]int, len(e.Candidates))
	for i, c := range e.Candidates {
		index[c.ID] = i
	}
	// One block for every mark and one for every rank, rather than a
	// slice per rank of each of hundreds of thousands of rankings.
	total := 0
	for _, rc := range t.Rankings {
		total += len(rc.Ranking)
	}
	marks := make([]int, total)
	ranks := make([][]int, total)
	ballots := make([]rcv.Ballot, 0, len(t.Rankings))
	at := 0
	for _, rc := range t.Rankings {
		from := at
		for _, id := range rc.Ranking {
			if i, ok := index[id]; ok {
				marks[at] = i
				ranks[at] = marks[at : at+1 : at+1]
				at++
			}
		}
		ballots = append(ballots, rcv.Ballot{Count: rc.Count, Ranks: ranks[from:at:at]})
	}
	// The tally's own copy can go while the count runs.
	t.Rankings = nil
	rules := rulesWithDecisions(e, t.Decisions)
	res, err := rcv.Tabulate(rules, ballots)
	return snapshot(e, rules, res, err, t.ReadAt)
}

// rulesWithDecisions are the rules an election is counted by, with the
// organizer's decisions of ties.
func rulesWithDecisions(e *runoff.Election, decisions []runoff.TieDecision) rcv.Rules {
	rules := CountRules(e)
	for _, d := range decisions {
		rules.TieDecisions = append(rules.TieDecisions, rcv.TieDecision{Pass: d.Pass, Round: d.Round, Kind: rcv.TieKind(d.Kind),
			Candidates: d.Tied, Selected: d.Selected})
	}
	return rules
}

// snapshot is the results snapshot of a count: the RCTab report, the
// rules and the results model.
func snapshot(e *runoff.Election, rules rcv.Rules, res *rcv.Result, err error, readAt time.Time) (runoff.ResultSnapshot, error) {
	var ask *rcv.TieNeedsDecision
	switch {
	case errors.As(err, &ask):
		// The count waits for the organizer: what it has so far is shown,
		// with the tie.
	case err != nil:
		return runoff.ResultSnapshot{}, fmt.Errorf("worker: tabulate %s: %w", e.ID, err)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf, rcv.ReportMeta{Contest: e.Title, Date: e.CreatedAt.UTC().Format("2006-01-02")}); err != nil {
		return runoff.ResultSnapshot{}, fmt.Errorf("worker: report %s: %w", e.ID, err)
	}
	rulesJSON, err := json.MarshalIndent(rules, "", "  ")
	if err != nil {
		return runoff.ResultSnapshot{}, fmt.Errorf("worker: rules of %s: %w", e.ID, err)
	}
	snap := runoff.ResultSnapshot{ElectionID: e.ID, BallotsCounted: e.BallotsCounted, CountsVersion: e.CountsVersion, Report: buf.Bytes(),
		Model: resultsModel(e, rules, res), Rules: rulesJSON, ComputedAt: readAt}
	if ask != nil {
		snap.Model.Waiting = &runoff.TieWait{Pass: ask.Pass, Round: ask.Round, Kind: string(ask.Kind), Tied: ask.Candidates, Votes: ask.Votes.String()}
	}
	return snap, nil
}

// TallyStore is what the recomputer reads and writes.
type TallyStore interface {
	StaleElections(ctx context.Context, limit int) ([]uuid.UUID, error)
	ReadTally(ctx context.Context, id uuid.UUID, r store.TallyReader) (*store.Tally, error)
	SaveResult(ctx context.Context, r runoff.ResultSnapshot) error
}

// RecomputeClaimer shares the recomputes between several workers (store.DB
// is one): see store.DB.ClaimRecompute.
type RecomputeClaimer interface {
	ClaimRecompute(ctx context.Context, id uuid.UUID) (release func(), busy bool, err error)
}

// TurnTaker shares a periodic scan between several workers: one of them
// takes each turn (store.DB.ClaimTurn).
type TurnTaker interface {
	ClaimTurn(ctx context.Context, name string, every time.Duration) (bool, error)
}

// Recomputer keeps results snapshots fresh. It recomputes the elections it
// is told have new ballots, at most once per MinInterval however often it
// is told; and every Poll it also recomputes every election whose snapshot
// is older than its counts, found in Postgres rather than kept in memory,
// so that a worker that died between a commit and a recompute leaves
// nothing stale for long. With several workers on one database (a Store
// that is a RecomputeClaimer and a TurnTaker), each snapshot version is
// counted by one of them, and one of them scans per Poll. Large elections'
// tallies are kept between recomputes and brought up to date from what
// changed in Postgres (recount.go), so each worker's are right whatever
// the others stored.
type Recomputer struct {
	Store       TallyStore
	Log         *slog.Logger
	MinInterval time.Duration
	// CostRatio and MaxInterval adapt the cadence to the cost (see
	// pause): after a pass that took d, the next waits CostRatio×d, so
	// that recounting takes at most 1/(CostRatio+1) of the worker and the
	// rest goes to storing ballots; but no longer than MaxInterval, so
	// that results stay fresh, unless the pass took more than half of it.
	CostRatio   float64
	MaxInterval time.Duration
	Poll        time.Duration
	Metrics     *Metrics
	// Tallies of at least KeepRankings distinct rankings are kept between
	// recomputes, up to KeepBytes in all, and brought up to date by
	// reading only what changed (see tallies).
	KeepRankings int
	KeepBytes    int

	mu       sync.Mutex
	pending  map[uuid.UUID]bool
	wake     chan struct{}
	keepOnce sync.Once
	kept     *tallies
}

// NewRecomputer makes a recomputer with production defaults.
func NewRecomputer(s TallyStore, log *slog.Logger) *Recomputer {
	return &Recomputer{Store: s, Log: log, MinInterval: 250 * time.Millisecond, CostRatio: 5, MaxInterval: time.Second, Poll: 5 * time.Second,
		Metrics: NewMetrics(nil), KeepRankings: 1000, KeepBytes: 64 << 20, pending: map[uuid.UUID]bool{}, wake: make(chan struct{}, 1)}
}

// Notify says that these elections' counts changed. It never blocks.
func (rc *Recomputer) Notify(ids []uuid.UUID) {
	rc.mu.Lock()
	for _, id := range ids {
		rc.pending[id] = true
	}
	rc.mu.Unlock()
	select {
	case rc.wake <- struct{}{}:
	default:
	}
}

// Run recomputes until ctx is cancelled.
func (rc *Recomputer) Run(ctx context.Context) error {
	poll := time.NewTicker(rc.Poll)
	defer poll.Stop()
	scan := true // at start, look for what an earlier worker left stale
	for {
		var err error
		start := time.Now()
		if scan && rc.myTurn(ctx) {
			err = rc.Once(ctx)
		} else {
			err = rc.recomputeAll(ctx, rc.takePending())
		}
		if err != nil && ctx.Err() == nil {
			rc.Log.Warn("recompute failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(rc.pause(time.Since(start))):
		}
		select {
		case <-ctx.Done():
			return nil
		case <-rc.wake:
			scan = false
		case <-poll.C:
			scan = true
		}
	}
}

// pause is how long to wait after a pass that took d. A kept tally's
// recount replays its last count in a few milliseconds, and then results
// follow the ballots within MinInterval. When the decisions move it counts
// in full, which for the million-ballot election takes 20-50 ms of CPU
// (more, waiting for a busy machine): waiting CostRatio×d after it keeps
// such recounts to a sixth of the worker, below what storing 2,000
// ballots a second takes. The wait stops at MaxInterval, for results
// within a second or so of the ballots, unless a pass took more than half
// of that (an election too large to keep, say): then it is 2d, recounting
// at most a third of the worker, as before tallies were kept.
func (rc *Recomputer) pause(d time.Duration) time.Duration {
	w := time.Duration(rc.CostRatio * float64(d))
	if rc.MaxInterval > 0 && w > rc.MaxInterval {
		w = max(rc.MaxInterval, 2*d)
	}
	return max(rc.MinInterval, w)
}

// myTurn reports whether this worker scans now: always alone, or when it
// takes the turn among several.
func (rc *Recomputer) myTurn(ctx context.Context) bool {
	tt, ok := rc.Store.(TurnTaker)
	if !ok {
		return true
	}
	mine, err := tt.ClaimTurn(ctx, "recompute-scan", rc.Poll*4/5)
	if err != nil {
		rc.Log.Warn("recompute scan: taking the turn failed; scanning anyway", "err", err)
		return true
	}
	return mine
}

func (rc *Recomputer) takePending() []uuid.UUID {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ids := make([]uuid.UUID, 0, len(rc.pending))
	for id := range rc.pending {
		ids = append(ids, id)
	}
	clear(rc.pending)
	return ids
}

// Once recomputes the elections it was told of and every stale election
// (up to 500; the next pass takes the rest).
func (rc *Recomputer) Once(ctx context.Context) error {
	ids, err := rc.Store.StaleElections(ctx, 500)
	if err != nil {
		return err
	}
	rc.takePending() // a scan finds those too
	return rc.recomputeAll(ctx, ids)
}

// recomputeAll recomputes each election; one failing does not hold up the
// others.
func (rc *Recomputer) recomputeAll(ctx context.Context, ids []uuid.UUID) error {
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
	if c, ok := rc.Store.(RecomputeClaimer); ok {
		release, busy, err := c.ClaimRecompute(ctx, id)
		switch {
		case err != nil:
			return err
		case busy:
			// Another worker is counting it, perhaps from before our
			// batch: look again after MinInterval.
			rc.Notify([]uuid.UUID{id})
			return nil
		case release == nil:
			return nil // up to date
		}
		defer release()
	}
	return rc.recount(ctx, id)
}
