package worker

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rcv"
)

// keptOf makes a kept tally of n distinct rankings over three candidates.
func keptOf(t *testing.T, n int) *keptTally {
	t.Helper()
	e := &runoff.Election{ID: uuid.Must(uuid.NewV7()), Seats: 1, Settings: runoff.DefaultSettings()}
	for i, name := range []string{"A", "B", "C"} {
		e.Candidates = append(e.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: name, Position: i})
	}
	k, err := newKeptTally(e)
	if err != nil {
		t.Fatal(err)
	}
	// Distinct rankings: i written in base 3, one candidate a rank
	// (repeats are allowed in a ranking the counter holds).
	for i := range n {
		var ranks [][]int
		for x := i + 1; x > 0; x /= 3 {
			ranks = append(ranks, []int{x % 3})
		}
		if err := k.counter.Add(rcv.Ballot{Ranks: ranks, Count: 1}); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// Kept tallies stay within their budget, the least recently counted going
// first; a small one, or one larger than the whole budget, is not kept; a
// tally taken is no longer kept until it is put back.
func TestTalliesKeptWithinBudget(t *testing.T) {
	a, b, c := keptOf(t, 300), keptOf(t, 300), keptOf(t, 300)
	size := a.counter.Bytes()
	ts := newTallies(100, 2*size+size/2) // room for two
	ts.put(a)
	ts.put(b)
	if got := ts.ids(); !slices.Equal(got, []uuid.UUID{b.id, a.id}) {
		t.Fatalf("kept %v, want b then a", got)
	}
	if ts.take(a.id) != a || ts.take(a.id) != nil {
		t.Fatal("a taken twice, or not at all")
	}
	ts.put(a) // counted again: most recent
	ts.put(c) // b, the least recently counted, goes
	if got := ts.ids(); !slices.Equal(got, []uuid.UUID{c.id, a.id}) {
		t.Fatalf("kept %v, want c then a", got)
	}
	if ts.bytes != a.counter.Bytes()+c.counter.Bytes() || ts.bytes > ts.maxBytes {
		t.Fatalf("%d bytes counted for %d kept, budget %d", ts.bytes, a.counter.Bytes()+c.counter.Bytes(), ts.maxBytes)
	}
	ts.put(keptOf(t, 50)) // too small to be worth keeping
	huge := keptOf(t, 2000)
	if huge.counter.Bytes() <= ts.maxBytes {
		t.Fatalf("the huge tally (%d bytes) fits the budget (%d)", huge.counter.Bytes(), ts.maxBytes)
	}
	ts.put(huge) // larger than the budget: kept would push out everything
	if got := ts.ids(); !slices.Equal(got, []uuid.UUID{c.id, a.id}) {
		t.Fatalf("kept %v, want c then a still", got)
	}
}
