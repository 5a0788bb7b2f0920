package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// fakeElections counts reads and serves a status that the test changes.
type fakeElections struct {
	reads  atomic.Int64
	status atomic.Value // string
	during func()       // called inside a read, if set
}

func (f *fakeElections) load(ctx context.Context, id uuid.UUID) (*runoff.Election, error) {
	f.reads.Add(1)
	e := &runoff.Election{ID: id, Status: f.status.Load().(string)}
	if f.during != nil {
		f.during()
	}
	return e, nil
}

func newCache(t *testing.T) (*store.ElectionCache, *fakeElections, *time.Time) {
	f := &fakeElections{}
	f.status.Store(runoff.StatusOpen)
	c := store.NewElectionCache(f.load)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	return c, f, &now
}

func status(t *testing.T, c *store.ElectionCache, id uuid.UUID) string {
	t.Helper()
	e, err := c.Election(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e.Status
}

func TestElectionCacheServesOnlyWhileLive(t *testing.T) {
	c, f, _ := newCache(t)
	id := uuid.New()
	status(t, c, id)
	status(t, c, id)
	if n := f.reads.Load(); n != 2 {
		t.Errorf("not live yet: %d reads of 2, want every one from the database", n)
	}
	c.SetLive(true)
	status(t, c, id)
	status(t, c, id)
	if n := f.reads.Load(); n != 3 {
		t.Errorf("live: %d reads in all, want 3 (one more)", n)
	}
	f.status.Store(runoff.StatusClosed)
	c.SetLive(false) // the listener lost its queue: messages may be missed
	if s := status(t, c, id); s != runoff.StatusClosed {
		t.Errorf("after the listener went down: %s, want closed from the database", s)
	}
}

func TestElectionCacheForgetsOnChange(t *testing.T) {
	c, f, now := newCache(t)
	c.SetLive(true)
	id := uuid.New()
	status(t, c, id)

	// The organizer asked to close: until the worker says it is done, every
	// read goes to the database.
	c.Changing(id)
	before := f.reads.Load()
	status(t, c, id)
	f.status.Store(runoff.StatusClosed)
	if s := status(t, c, id); s != runoff.StatusClosed {
		t.Errorf("while changing: %s, want closed", s)
	}
	if n := f.reads.Load() - before; n != 2 {
		t.Errorf("while changing: %d reads for 2, want 2", n)
	}
	c.Changed(id)
	status(t, c, id)
	status(t, c, id)
	if n := f.reads.Load() - before; n != 3 {
		t.Errorf("after the change: %d reads, want one more", n)
	}

	// Changed alone (the request was missed) forgets the row too.
	f.status.Store(runoff.StatusOpen)
	c.Changed(id)
	if s := status(t, c, id); s != runoff.StatusOpen {
		t.Errorf("after Changed: %s, want open", s)
	}

	// Without any message the row lives TTL at most.
	f.status.Store(runoff.StatusClosed)
	*now = now.Add(c.TTL)
	if s := status(t, c, id); s != runoff.StatusClosed {
		t.Errorf("after the TTL: %s, want closed", s)
	}
}

// A read begun before an invalidation is not kept after it.
func TestElectionCacheDropsReadRacingChange(t *testing.T) {
	c, f, _ := newCache(t)
	c.SetLive(true)
	id := uuid.New()
	f.during = func() {
		f.during = nil
		c.Changed(id) // arrives while the old row is being read
		f.status.Store(runoff.StatusClosed)
	}
	if s := status(t, c, id); s != runoff.StatusOpen {
		t.Fatalf("first read: %s", s)
	}
	if s := status(t, c, id); s != runoff.StatusClosed {
		t.Errorf("after a change during the read: %s, want closed (the racing read must not be kept)", s)
	}
}

// Each caller gets its own copy: a handler changing its election cannot
// change another request's.
func TestElectionCacheCopies(t *testing.T) {
	c, _, _ := newCache(t)
	c.SetLive(true)
	id := uuid.New()
	e1, _ := c.Election(context.Background(), id)
	e1.Status = "scribbled"
	if s := status(t, c, id); s != runoff.StatusOpen {
		t.Errorf("cached row changed by a caller: %s", s)
	}
}

// Snapshots are kept for the TTL; not-found is not kept, so the first
// count shows at once.
func TestResultCacheTTL(t *testing.T) {
	var reads int
	var have *runoff.ResultSnapshot
	c := store.NewResultCache(func(ctx context.Context, id uuid.UUID) (*runoff.ResultSnapshot, error) {
		reads++
		if have == nil {
			return nil, runoff.ErrNotFound
		}
		return have, nil
	})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	id := uuid.New()
	if _, err := c.Result(context.Background(), id); err == nil {
		t.Fatal("found before any count")
	}
	have = &runoff.ResultSnapshot{BallotsCounted: 1}
	for range 3 {
		if s, err := c.Result(context.Background(), id); err != nil || s.BallotsCounted != 1 {
			t.Fatalf("%+v %v", s, err)
		}
	}
	if reads != 2 {
		t.Errorf("%d reads, want 2 (not-found, then one kept)", reads)
	}
	have = &runoff.ResultSnapshot{BallotsCounted: 2}
	now = now.Add(c.TTL)
	if s, _ := c.Result(context.Background(), id); s.BallotsCounted != 2 {
		t.Errorf("after the TTL: %d ballots, want the new snapshot", s.BallotsCounted)
	}
}
