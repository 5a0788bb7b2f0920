package rcv

import (
	"fmt"
	"reflect"
	"slices"
)

// Counter holds a contest's ballots as distinct rankings whose counts
// change in place, and counts them again after each change: the worker
// keeps one per large election and applies only what changed since.
//
// A count after changes replays an earlier one. With the decisions fixed
// (who is elected or eliminated in each round), which candidate a ranking
// counts for in each round, or why it stopped counting, depends on that
// ranking alone, so every round's tallies, transfers and inactive ballots
// are sums over the rankings (see countPlan). Only the changed rankings
// are walked through the last count's rounds, and their difference in
// count added to the sums. Then every round's decisions are taken again
// from the new sums, by the same code as a full count. If each is as
// before, the result is the one a full count gives, number for number; at
// the first that differs, the Counter tries the plan of another recent
// count, and if none holds, counts in full. A contest whose ballots lose
// value to surplus transfers (a ballot's value then depends on the
// tallies) or that is counted in several passes is always counted in
// full. The head-to-head matrix is a sum over rankings too, and is kept up
// to date with each change.
type Counter struct {
	rules     Rules
	nDeclared int
	set       *ballotSet // with its index, to find a ranking again
	total     int64
	toks      []int32

	// Since the last count: each changed ranking's count then.
	before      map[int32]int64
	blankBefore int64
	blankMoved  bool

	pair *pairTally // built by the first count that wants it
	// The last counts' plans, most recently used first (see Count).
	plans    []*countPlan
	replayed bool
	older    bool // the last count replayed a plan other than the latest
}

// maxPlans is how many counts' plans a Counter keeps. When a tally sits
// near a tie, new ballots move a decision one way and the next ones back:
// a plan found before may then replay again. Each costs a walk of the
// changed rankings per count, and a few kilobytes.
const maxPlans = 4

// NewCounter makes an empty counter for contests counted by rules.
func NewCounter(rules Rules) (*Counter, error) {
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	return &Counter{rules: rules, nDeclared: len(rules.Candidates), set: newBallotSet(), before: map[int32]int64{}}, nil
}

// SetRules changes the rules the next count is made by. They must list as
// many candidates as before, since the ballots hold candidates by index.
func (c *Counter) SetRules(rules Rules) error {
	if len(rules.Candidates) != c.nDeclared {
		return fmt.Errorf("rcv: counter of %d candidates given rules of %d", c.nDeclared, len(rules.Candidates))
	}
	if reflect.DeepEqual(rules, c.rules) {
		return nil
	}
	if err := rules.Validate(); err != nil {
		return err
	}
	c.rules, c.plans, c.pair = rules, nil, nil
	return nil
}

// Grow makes room for about this many more distinct rankings, with this
// many marks among them, so that a counter read from nothing holds no more
// than it needs. Once a counter has counted, its ballots grow by an eighth
// at a time when they must.
func (c *Counter) Grow(rankings, marks int) {
	s := c.set
	s.counts = grow(s.counts, rankings, false)
	s.offs = grow(s.offs, rankings, false)
	s.toks = grow(s.toks, 3*marks, false)
	if len(s.index) == 0 {
		s.index = make(map[uint64]int32, rankings)
	}
	if !s.notSimple {
		s.smarks = grow(s.smarks, marks, false)
		s.soffs = grow(s.soffs, rankings+1, false)
	}
}

// Set makes b.Count the number of ballots with b's ranking.
func (c *Counter) Set(b Ballot) error { return c.put(b, false) }

// Add adds b.Count ballots with b's ranking.
func (c *Counter) Add(b Ballot) error { return c.put(b, true) }

func (c *Counter) put(b Ballot, add bool) error {
	toks, err := ballotTokens(c.toks[:0], b, c.nDeclared)
	c.toks = toks
	if err != nil {
		return fmt.Errorf("rcv: counter: %w", err)
	}
	var at *int64
	if len(toks) == 0 {
		if !c.blankMoved && c.tracks() {
			c.blankBefore, c.blankMoved = c.set.blank, true
		}
		at = &c.set.blank
	} else {
		i, found := c.set.find(toks)
		if !found {
			i = c.set.insert(toks, 0)
		}
		if _, ok := c.before[i]; !ok && c.tracks() {
			c.before[i] = c.set.counts[i]
		}
		at = &c.set.counts[i]
	}
	n := b.Count
	if add {
		n += *at
	}
	if n < 0 {
		return fmt.Errorf("rcv: counter: %d ballots with one ranking", n)
	}
	c.total += n - *at
	*at = n
	return nil
}

// tracks says whether changes are kept for the next count: not when it
// will count in full anyway, having no plan nor head-to-head sums to bring
// up to date (a tally read from nothing).
func (c *Counter) tracks() bool { return len(c.plans) > 0 || c.pair != nil }

// Total is the number of ballots, blank ones included.
func (c *Counter) Total() int64 { return c.total }

// Len is the number of distinct rankings held (some may have no ballots
// left).
func (c *Counter) Len() int { return c.set.len() }

// Bytes is about how much memory the counter holds.
func (c *Counter) Bytes() int {
	s := c.set
	return 4*cap(s.toks) + 4*cap(s.offs) + 8*cap(s.counts) + 2*cap(s.smarks) + 4*cap(s.soffs) + 24*len(s.index) + 16*len(c.before)
}

// Replayed says whether the last count replayed an earlier one, rather
// than counting in full.
func (c *Counter) Replayed() bool { return c.replayed }

// Count counts the ballots as they are now. Like Tabulate, it may return a
// partial result together with a *TieNeedsDecision.
func (c *Counter) Count() (*Result, error) {
	c.set.slowGrowth = true
	d := c.changes()
	c.replayed, c.older = false, false
	if c.pair != nil {
		for i := range d.counts {
			c.pair.add(d.toks[d.offs[i]:d.offs[i+1]], d.counts[i])
		}
	}
	// Every plan's sums take the changes, whichever of them replays.
	for i, p := range c.plans {
		c.plans[i] = p.plus(p.changes(c.rules, d))
	}
	for i, p := range c.plans {
		e := newEngine(c.rules, c.set, nil, 0, countOptions{})
		e.replay = p
		// Any error (a decision that differs, a tie to ask the organizer
		// about) is left to another plan, or a full count.
		if e.run() == nil {
			copy(c.plans[1:i+1], c.plans[:i])
			c.plans[0], c.replayed, c.older = p, true, i > 0
			return c.withPairwise(e.result(), nil)
		}
	}
	return c.full()
}

// changes takes the rankings changed since the last count, as a set
// whose counts are the differences.
func (c *Counter) changes() *ballotSet {
	d := newBallotSetSized(len(c.before))
	for i, was := range c.before {
		if n := c.set.counts[i] - was; n != 0 {
			d.insert(c.set.toks[c.set.offs[i]:c.set.offs[i+1]], n)
		}
	}
	if c.blankMoved {
		d.blank = c.set.blank - c.blankBefore
	}
	clear(c.before)
	c.blankMoved = false
	return d
}

func (c *Counter) wantsPairwise() bool {
	return c.rules.NumberOfWinners == 1 && c.rules.WinnerElectionMode == SingleWinnerMajority
}

// full counts every ranking, and keeps what a later count can replay.
func (c *Counter) full() (*Result, error) {
	if c.rules.WinnerElectionMode == MultiPassIRV {
		return tabulateMultiPass(c.rules, c.set, countOptions{})
	}
	var pairwise chan *pairTally
	if c.wantsPairwise() && c.pair == nil {
		// It reads the ballots only: on another core while the rounds run.
		pairwise = make(chan *pairTally, 1)
		go func() {
			p := newPairTally(c.rules)
			for i := range c.set.counts {
				p.add(c.set.toks[c.set.offs[i]:c.set.offs[i+1]], c.set.counts[i])
			}
			pairwise <- p
		}()
	}
	e := newEngine(c.rules, c.set, nil, 0, countOptions{})
	if !e.transfersSurplus {
		e.record = &countPlan{}
	}
	err := e.run()
	res := e.result()
	if pairwise != nil {
		c.pair = <-pairwise
	}
	if e.record != nil && err == nil {
		e.record.finish(res.Rounds)
		c.plans = slices.Insert(c.plans, 0, e.record)
		c.plans = c.plans[:min(len(c.plans), maxPlans)]
	}
	return c.withPairwise(res, err)
}

func (c *Counter) withPairwise(res *Result, err error) (*Result, error) {
	if err == nil && c.pair != nil && c.wantsPairwise() {
		res.Pairwise = c.pair.result()
	}
	return res, err
}
