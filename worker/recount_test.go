package worker_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
	"github.com/runoff-vote/runoff/worker"
)

// recounts records how each recompute went, from the recomputer's debug
// log.
type recounts struct {
	mu                     sync.Mutex
	all, changes, replayed int
	disagreed              int
}

func (r *recounts) Enabled(context.Context, slog.Level) bool { return true }
func (r *recounts) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recounts) WithGroup(string) slog.Handler            { return r }
func (r *recounts) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec.Level >= slog.LevelWarn {
		r.disagreed++
	}
	if rec.Message != "results recomputed" {
		return nil
	}
	rec.Attrs(func(a slog.Attr) bool {
		switch {
		case a.Key == "read_all" && a.Value.Bool():
			r.all++
		case a.Key == "read_all":
			r.changes++
		case a.Key == "replayed" && a.Value.Bool():
			r.replayed++
		}
		return true
	})
	return nil
}

var recountSecret = []byte("a test secret of at least 32 bytes!!")

// testElection creates an open election on the store directly, and for
// one that takes keys, issues n.
func testElection(t *testing.T, db *store.DB, owner uuid.UUID, s runoff.Settings, seats int, names []string, n int) (runoff.ElectionCreate, []string) {
	t.Helper()
	ctx := context.Background()
	m := runoff.ElectionCreate{ElectionID: uuid.Must(uuid.NewV7()), OwnerID: owner, Title: "Recount", Seats: seats, RequestedAt: time.Now(), Settings: s}
	for i, name := range names {
		m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: name, Position: i})
	}
	if out, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil || out[0].Dead != "" {
		t.Fatalf("create: %v %+v", err, out)
	}
	if s.Access != runoff.AccessKeys {
		return m, nil
	}
	batch := runoff.ElectionKeys{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, OrganizerID: owner, RequestedAt: time.Now()}
	var keys []string
	for i := range n {
		k := runoff.DeriveKey(recountSecret, m.ElectionID, batch.ChangeID, i)
		keys = append(keys, k)
		batch.Hashes = append(batch.Hashes, runoff.HashKey(m.ElectionID, k))
	}
	if out, err := db.IssueKeys(ctx, batch); err != nil || out.Dead != "" {
		t.Fatalf("issue keys: %v %+v", err, out)
	}
	return m, keys
}

// After every recompute, by two workers taking turns, each keeping its
// own tallies and bringing them up to date from what changed in Postgres,
// every election's stored results are exactly what a full count of the
// same snapshot gives: the same RCTab report, rules and results model.
// The batches are random, across several elections and counting methods,
// and voters with keys replace their ballots (some rankings lose their
// last ballot). The kept tallies must be read by their changes and
// replayed often, or the test does not test them.
func TestKeptTalliesCountAsAFullRecount(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := &runoff.Organizer{ID: uuid.Must(uuid.NewV7()), Email: "o@example.org", PasswordHash: "x"}
	if err := db.CreateOrganizer(ctx, o); err != nil {
		t.Fatal(err)
	}
	with := func(mode, tiebreak, access string) runoff.Settings {
		s := runoff.DefaultSettings()
		s.WinnerMode, s.Tiebreak, s.Access = mode, tiebreak, access
		if access == runoff.AccessKeys {
			s.Changes = runoff.ChangesAllowed
		}
		return s
	}
	type election struct {
		m    runoff.ElectionCreate
		keys []string
	}
	var es []election
	for _, c := range []struct {
		s     runoff.Settings
		seats int
		names []string
	}{
		{with(runoff.WinnerIRV, runoff.TiebreakPreviousRoundThenOrder, runoff.AccessOpen), 1, []string{"A", "B", "C", "D", "E", "F"}},
		{with(runoff.WinnerIRV, runoff.TiebreakRandom, runoff.AccessKeys), 1, []string{"A", "B", "C", "D"}},
		{with(runoff.WinnerSTV, runoff.TiebreakCandidateOrder, runoff.AccessOpen), 2, []string{"A", "B", "C", "D", "E"}},
		{with(runoff.WinnerSequential, runoff.TiebreakPreviousRoundThenOrder, runoff.AccessKeys), 2, []string{"A", "B", "C", "D"}},
		{with(runoff.WinnerBottomsUp, runoff.TiebreakPreviousRoundThenRandom, runoff.AccessOpen), 2, []string{"A", "B", "C", "D", "E"}},
	} {
		m, keys := testElection(t, db, o.ID, c.s, c.seats, c.names, 12)
		es = append(es, election{m, keys})
	}
	log := &recounts{}
	workers := []*worker.Recomputer{worker.NewRecomputer(db, slog.New(log)), worker.NewRecomputer(db, slog.New(log))}
	for _, w := range workers {
		w.KeepRankings = 0 // keep even these small tallies
	}
	r := rand.New(rand.NewPCG(5, 8))
	for batch := range 80 {
		var votes []runoff.VoteSubmit
		for range 1 + r.IntN(12) {
			e := es[r.IntN(len(es))]
			v := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: e.m.ElectionID, SubmittedAt: time.Now()}
			if e.keys != nil {
				v.KeyHash = runoff.HashKey(e.m.ElectionID, e.keys[r.IntN(len(e.keys))])
			}
			for _, c := range r.Perm(len(e.m.Candidates))[:1+r.IntN(len(e.m.Candidates))] {
				v.Ranking = append(v.Ranking, e.m.Candidates[c].ID)
			}
			votes = append(votes, v)
		}
		if _, _, err := db.StoreVotes(ctx, votes); err != nil {
			t.Fatal(err)
		}
		if err := workers[r.IntN(len(workers))].Once(ctx); err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			sameAsFullRecount(t, db, e.m.ElectionID, batch)
		}
	}
	t.Logf("recomputes: %d read in full, %d by changes, %d replayed", log.all, log.changes, log.replayed)
	if log.disagreed > 0 {
		t.Errorf("%d kept tallies disagreed with Postgres and were read again", log.disagreed)
	}
	if log.changes < 50 || log.replayed < 20 {
		t.Errorf("%d recomputes read by changes and %d replayed: too few for the test to mean much", log.changes, log.replayed)
	}
}

// sameAsFullRecount compares an election's stored results with a full
// count of its tally read now (nothing is stored in between).
func sameAsFullRecount(t *testing.T, db *store.DB, id uuid.UUID, batch int) {
	t.Helper()
	ctx := context.Background()
	tl, err := db.Tally(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Election.BallotsCounted == 0 {
		return
	}
	want, err := worker.Count(tl)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Result(ctx, id)
	if err != nil {
		t.Fatalf("batch %d: %v", batch, err)
	}
	if got.BallotsCounted != want.BallotsCounted || string(got.Report) != string(want.Report) || string(got.Rules) != string(want.Rules) {
		t.Fatalf("batch %d, election %s (%s): stored results differ from a full recount\nstored: %d ballots %s\nrecount: %d ballots %s",
			batch, id, tl.Election.Settings.WinnerMode, got.BallotsCounted, got.Report, want.BallotsCounted, want.Report)
	}
	// The model went through jsonb: compare it as it reads back.
	var back runoff.Results
	raw, _ := json.Marshal(want.Model)
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got.Model)
	b, _ := json.Marshal(back)
	if string(a) != string(b) {
		t.Fatalf("batch %d, election %s: stored model differs from a full recount's\nstored:  %s\nrecount: %s", batch, id, a, b)
	}
}
