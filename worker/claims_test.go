package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/worker"
)

// slowTallies is the real store, with each read of a tally recorded and
// slowed, so that two workers' recomputes overlap.
type slowTallies struct {
	*store.DB
	mu      sync.Mutex
	tallied map[int64]int // counts version: times tallied
}

func (s *slowTallies) ReadTally(ctx context.Context, id uuid.UUID, r store.TallyReader) (*store.Tally, error) {
	t, err := s.DB.ReadTally(ctx, id, r)
	if err == nil {
		s.mu.Lock()
		s.tallied[t.Election.CountsVersion]++
		s.mu.Unlock()
	}
	time.Sleep(50 * time.Millisecond)
	return t, err
}

// Two workers' recomputers, told of the same elections at the same time
// and scanning at the same time, count each version of an election once
// between them, and leave nothing stale.
func TestRecomputersShareTheWork(t *testing.T) {
	f := newFixture(t)
	stop := f.startWorker(t)
	e := f.createElection(t, "A", "B", "C")
	stop() // its recomputer is not one of the two under test
	st := &slowTallies{DB: f.db, tallied: map[int64]int{}}
	rcs := []*worker.Recomputer{worker.NewRecomputer(st, quiet()), worker.NewRecomputer(st, quiet())}
	ctx := context.Background()
	for round := range 5 {
		if _, _, err := f.db.StoreVotes(ctx, []runoff.VoteSubmit{vote(e, round%3, (round+1)%3)}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, rc := range rcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := rc.Once(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	for v, n := range st.tallied {
		if n != 1 {
			t.Errorf("counts version %d tallied %d times, want once between the two workers", v, n)
		}
	}
	if len(st.tallied) != 5 {
		t.Errorf("%d versions tallied, want 5: %v", len(st.tallied), st.tallied)
	}
	stale, err := f.db.StaleElections(ctx, 10)
	if err != nil || len(stale) != 0 {
		t.Errorf("stale after: %v %v", stale, err)
	}
}

// One of several workers takes each turn of a periodic scan.
func TestClaimTurnOnePerPeriod(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var mine int
	for range 4 {
		ok, err := f.db.ClaimTurn(ctx, "test-scan", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			mine++
		}
	}
	if mine != 1 {
		t.Errorf("%d of 4 workers took the turn, want 1", mine)
	}
	ok, err := f.db.ClaimTurn(ctx, "other-scan", time.Hour)
	if err != nil || !ok {
		t.Errorf("another scan's turn: %v %v", ok, err)
	}
}
