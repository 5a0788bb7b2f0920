package rcv

import (
	"errors"
	"slices"
)

// errDiverged stops a replay whose decisions are no longer the recorded
// ones: the Counter then counts in full.
var errDiverged = errors.New("rcv: replay diverged from the recorded count")

// countPlan is what a count found round by round: the decisions, and the
// sums of everything the engine reads of the ballots. With the decisions
// fixed, which candidate a ranking counts for in each round (or why it
// stopped counting) depends on that ranking alone, so each sum is a sum
// over rankings of count × what that ranking gives: a change of counts
// changes the sums by the changed rankings' part only (plan.plus).
type countPlan struct {
	continuing [][]bool // per round: who was continuing in it
	elected    [][]string
	eliminated [][]string
	// Sums, per round, as the engine held them after the round's
	// transfers: every candidate's e.tally (an eliminated candidate's
	// stays what it last was), inactive ballots by status and undervotes
	// (both cumulative), and the transfers at the round's start (none in
	// round 1; nil when none).
	tally      [][]int64
	inactive   [][numStatuses]int64
	undervotes []int64
	transfers  [][]int64
}

func (p *countPlan) rounds() int { return len(p.tally) }

// add records the round's sums and who was continuing, after its
// transfers (engine.run calls it).
func (p *countPlan) add(e *engine, round int) {
	p.continuing = append(p.continuing, slices.Clone(e.continuing))
	p.tally = append(p.tally, slices.Clone(e.tally))
	p.inactive = append(p.inactive, e.inactive)
	p.undervotes = append(p.undervotes, e.undervotes)
	var moved []int64
	if round >= 2 {
		moved = slices.Clone(e.transfersByRound[round-2])
	}
	p.transfers = append(p.transfers, moved)
}

// finish records the decisions, from the rounds of the count's result.
func (p *countPlan) finish(rounds []Round) {
	for _, rd := range rounds {
		p.elected = append(p.elected, slices.Clone(rd.Elected))
		p.eliminated = append(p.eliminated, slices.Clone(rd.Eliminated))
	}
}

// load sets the engine's sums for a round of a replay instead of walking
// the ballots. There is nothing to load past the recorded rounds.
func (p *countPlan) load(e *engine, round int) bool {
	if round > p.rounds() || !slices.Equal(e.continuing, p.continuing[round-1]) {
		return false
	}
	copy(e.tally, p.tally[round-1])
	e.inactive = p.inactive[round-1]
	e.undervotes = p.undervotes[round-1]
	if round >= 2 && p.transfers[round-1] != nil {
		e.transfersByRound[round-2] = slices.Clone(p.transfers[round-1])
	}
	return true
}

// decided reports whether a replayed round decided as the recorded one.
func (p *countPlan) decided(round int, rd *Round) bool {
	return round <= len(p.elected) && slices.Equal(rd.Elected, p.elected[round-1]) &&
		slices.Equal(rd.Eliminated, p.eliminated[round-1])
}

// changes walks the rankings of d (whose counts are differences, possibly
// negative) through the plan's rounds, with the plan's continuing
// candidates in each, by the same code as a full count, and returns what
// they add to each round's sums. The decisions are left as they are.
func (p *countPlan) changes(rules Rules, d *ballotSet) *countPlan {
	out := &countPlan{}
	e := newEngine(rules, d, nil, 0, countOptions{})
	for round := 1; round <= p.rounds(); round++ {
		copy(e.continuing, p.continuing[round-1])
		e.transfersByRound = append(e.transfersByRound, nil)
		e.computeTallies(round)
		out.add(e, round)
	}
	out.continuing, out.elected, out.eliminated = p.continuing, p.elected, p.eliminated
	return out
}

// plus returns the plan with q's sums added to its own (the decisions are
// p's; q's must be the same).
func (p *countPlan) plus(q *countPlan) *countPlan {
	out := &countPlan{continuing: p.continuing, elected: p.elected, eliminated: p.eliminated}
	for r := range p.rounds() {
		t := slices.Clone(p.tally[r])
		for c, v := range q.tally[r] {
			t[c] += v
		}
		in := p.inactive[r]
		for s, v := range q.inactive[r] {
			in[s] += v
		}
		out.tally = append(out.tally, t)
		out.inactive = append(out.inactive, in)
		out.undervotes = append(out.undervotes, p.undervotes[r]+q.undervotes[r])
		out.transfers = append(out.transfers, addSums(p.transfers[r], q.transfers[r]))
	}
	return out
}

// addSums adds two transfer matrices, either of which may be nil (none).
func addSums(a, b []int64) []int64 {
	switch {
	case a == nil:
		return slices.Clone(b)
	case b == nil:
		return slices.Clone(a)
	}
	out := slices.Clone(a)
	for i, v := range b {
		out[i] += v
	}
	return out
}
