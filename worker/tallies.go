package worker

import (
	"container/list"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rcv"
	"github.com/runoff-vote/runoff/store"
)

// keptTally is an election's tally as of a counts version, kept between
// recomputes: its rankings as candidate indexes with their counts, in an
// rcv.Counter that also keeps what its last count found.
type keptTally struct {
	id         uuid.UUID
	version    int64       // the counts version it holds
	candidates []uuid.UUID // in the election's order: a ranking's indexes are into this
	index      map[uuid.UUID]int
	counter    *rcv.Counter
	at         *list.Element // its place in tallies.order
}

func newKeptTally(e *runoff.Election) (*keptTally, error) {
	c, err := rcv.NewCounter(CountRules(e))
	if err != nil {
		return nil, err
	}
	k := &keptTally{id: e.ID, version: -1, counter: c, index: make(map[uuid.UUID]int, len(e.Candidates))}
	for i, cand := range e.Candidates {
		k.candidates = append(k.candidates, cand.ID)
		k.index[cand.ID] = i
	}
	return k, nil
}

// fits says whether the changes since k's version are all this election's
// count needs: same election, same candidates in the same order, and no
// version older than k's (an election deleted and made again, a database
// restored from a backup).
func (k *keptTally) fits(e *runoff.Election) bool {
	if k.id != e.ID || e.CountsVersion < k.version || len(e.Candidates) != len(k.candidates) {
		return false
	}
	for i, c := range e.Candidates {
		if c.ID != k.candidates[i] {
			return false
		}
	}
	return true
}

// tallyRead applies what store.ReadTally reads to a tally: every ranking
// when the tally is new, only the changed ones when it is kept.
type tallyRead struct {
	kept    *keptTally // nil: start a new tally
	full    bool       // every ranking is being read
	unknown bool       // a ranking named someone not a candidate (left out)
	keep    bool       // the tally may be kept for the next recompute
	rows    int        // rankings read
	err     error      // making the new tally failed
	marks   []int
	ranks   [][]int
}

func (r *tallyRead) Since(e *runoff.Election) int64 {
	if r.kept != nil && r.kept.fits(e) {
		return r.kept.version
	}
	r.full = true
	r.kept, r.err = newKeptTally(e)
	return -1
}

func (r *tallyRead) Expect(rankings, marks int) {
	if r.err == nil {
		r.kept.counter.Grow(rankings, marks)
	}
}

func (r *tallyRead) Ranking(ranking []uuid.UUID, count int64) error {
	if r.err != nil {
		return r.err
	}
	r.rows++
	r.marks, r.ranks = r.marks[:0], r.ranks[:0]
	for _, id := range ranking {
		i, ok := r.kept.index[id]
		if !ok {
			// Counted without them, as a full count does. But then two
			// rankings may read alike, so the tally is not kept.
			r.unknown = true
			continue
		}
		r.marks = append(r.marks, i)
	}
	for i := range r.marks {
		r.ranks = append(r.ranks, r.marks[i:i+1:i+1])
	}
	b := rcv.Ballot{Ranks: r.ranks, Count: count}
	if r.full {
		return r.kept.counter.Add(b)
	}
	return r.kept.counter.Set(b)
}

// adds says whether the tally's ballots add up to the ballots counted.
func (r *tallyRead) adds(t *store.Tally) bool {
	return r.kept.counter.Total() == t.Election.BallotsCounted
}

// tallies keeps the tallies of the largest elections between recomputes,
// within a memory budget: the least recently counted go first. A small
// election is cheap to read whole, and is not kept.
type tallies struct {
	minRankings int // a tally of fewer distinct rankings is not kept
	maxBytes    int // all kept tallies together

	mu    sync.Mutex
	kept  map[uuid.UUID]*keptTally
	order *list.List // of *keptTally, most recently counted first
	bytes int
}

func newTallies(minRankings, maxBytes int) *tallies {
	return &tallies{minRankings: minRankings, maxBytes: maxBytes, kept: map[uuid.UUID]*keptTally{}, order: list.New()}
}

// take hands over an election's kept tally, if there is one; until it is
// put back, no one else can use it.
func (ts *tallies) take(id uuid.UUID) *keptTally {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	k := ts.kept[id]
	if k != nil {
		delete(ts.kept, id)
		ts.order.Remove(k.at)
		ts.bytes -= k.counter.Bytes()
	}
	return k
}

// put keeps a tally, if it is large enough to be worth it and fits the
// budget once older ones go.
func (ts *tallies) put(k *keptTally) {
	size := k.counter.Bytes()
	if k.counter.Len() < ts.minRankings || size > ts.maxBytes {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if old := ts.kept[k.id]; old != nil { // cannot happen while recomputes claim elections; be sure
		ts.order.Remove(old.at)
		ts.bytes -= old.counter.Bytes()
	}
	for ts.bytes+size > ts.maxBytes {
		last := ts.order.Back().Value.(*keptTally)
		ts.order.Remove(last.at)
		delete(ts.kept, last.id)
		ts.bytes -= last.counter.Bytes()
	}
	k.at = ts.order.PushFront(k)
	ts.kept[k.id] = k
	ts.bytes += size
}

// ids lists the elections whose tallies are kept, most recently counted
// first.
func (ts *tallies) ids() []uuid.UUID {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []uuid.UUID
	for at := ts.order.Front(); at != nil; at = at.Next() {
		out = append(out, at.Value.(*keptTally).id)
	}
	return slices.Clip(out)
}
