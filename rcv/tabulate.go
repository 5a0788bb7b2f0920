package rcv

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Ballot statuses, as RCTab's StatusForRound.
const (
	stActive uint8 = iota
	stUndervote
	stOvervote
	stSkipped
	stRepeated
	stExhausted
	stFinalSurplus
	nStatus
)

const (
	targetExhausted = -1
	targetResidual  = -2
)

// Tabulate counts ballots under rules. For an "…Ask" tie-break it may return
// a partial result together with a *TieNeedsDecision error.
func Tabulate(rules Rules, ballots []Ballot) (*Result, error) {
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	set, err := ballotsToSet(ballots, len(rules.Candidates))
	if err != nil {
		return nil, err
	}
	return tabulateSet(rules, set)
}

// TabulateContest counts a contest read by ReadCSV (the fast path: no
// conversion of the weighted rankings).
func TabulateContest(rules Rules, c *Contest) (*Result, error) {
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	if len(c.Candidates) != len(rules.Candidates) {
		return nil, errors.New("rcv: contest and rules list different candidates")
	}
	return tabulateSet(rules, c.set)
}

func tabulateSet(rules Rules, set *ballotSet) (*Result, error) {
	if rules.WinnerElectionMode != MultiPassIRV {
		if rules.NumberOfWinners != 1 || rules.WinnerElectionMode != SingleWinnerMajority {
			return runPass(rules, set, nil, 0)
		}
		// The head-to-head matrix reads the ballots only; count it on
		// another core while the rounds run.
		pw := make(chan *Pairwise, 1)
		go func() { pw <- computePairwise(rules, set) }()
		res, err := runPass(rules, set, nil, 0)
		p := <-pw
		if res != nil && err == nil {
			res.Pairwise = p
		}
		return res, err
	}
	// Multi-pass IRV: single-winner passes, each excluding earlier winners.
	top := &Result{Mode: MultiPassIRV, NumWinners: rules.NumberOfWinners, Places: rules.DecimalPlacesForVoteArithmetic}
	var prior []string
	for pass := 1; pass <= rules.NumberOfWinners; pass++ {
		pr := rules
		pr.WinnerElectionMode = SingleWinnerMajority
		pr.NumberOfWinners = 1
		res, err := runPass(pr, set, prior, pass)
		if res != nil {
			res.Mode = MultiPassIRV
			top.Passes = append(top.Passes, res)
			top.Candidates, top.NumCandidates = res.Candidates, res.NumCandidates
			top.TotalBallots, top.Undervotes = res.TotalBallots, res.Undervotes
			top.TieBreaks = append(top.TieBreaks, res.TieBreaks...)
		}
		if err != nil {
			return top, err
		}
		if len(res.Winners) == 0 {
			break
		}
		top.Winners = append(top.Winners, res.Winners...)
		prior = append(prior, res.Winners...)
	}
	return top, nil
}

type engine struct {
	r      Rules
	pass   int
	places int
	scale  int64
	set    *ballotSet

	names     []string // declared candidates, then the write-in label
	nd        int      // number of declared candidates (write-in index)
	nc        int      // len(names)
	excluded  []bool
	uwi       bool
	numCands  int // candidates taking part (RCTab getNumCandidates)
	numDecl   int // declared, non-excluded (RCTab getNumDeclaredCandidates)
	seats     int
	maxRank   int32
	maxSkip   int
	surpluses bool
	pctMode   bool
	bottomsUp bool
	onlyOne   bool
	minThresh int64
	perm      []string // tie-break permutation
	rng       *javaRandom
	decisions []TieDecision
	tieBreaks []TieBreak
	elimRound []int
	winRound  []int
	winners   []int
	nElim     int
	tally     []int64
	keptSum   []int64
	winTally  []int64
	buckets   [][]int32
	value     []int64 // current value of one ballot of each distinct ranking
	// pos is the token offset of the rank a ballot counts at. A ballot whose
	// candidate stops continuing is rescanned from there: RCTab rescans from
	// rank 1, but the continuing set only shrinks, so every earlier rank
	// (no continuing candidate, skip/overvote checks passed) gives the same
	// outcome again. With exhaustOnDuplicateCandidate the scan restarts at
	// rank 1, to see the earlier marks.
	pos        []int32
	spare      [][]int32 // emptied buckets, for reuse
	inactive   [nStatus]int64
	residual   int64
	undervotes int64

	rounds      []Round
	roundTally  [][]int64 // per round, per candidate; -1 = not in round
	transfers   [][]int64 // per round: from*(nc+2) + to+2
	stamp       []int32
	stampGen    int32
	continuing_ []bool
}

// threshold is a fixed-point value possibly finer than the contest's places
// (the bottoms-up percentage threshold is votes × percent, unrounded).
type threshold struct {
	units  int64
	places int
}

func runPass(rules Rules, set *ballotSet, priorWinners []string, pass int) (*Result, error) {
	e := &engine{r: rules, pass: pass, set: set, places: rules.DecimalPlacesForVoteArithmetic}
	e.scale = pow10[e.places]
	e.nd = len(rules.Candidates)
	e.names = append(slices.Clone(rules.Candidates), UndeclaredWriteInLabel)
	e.nc = len(e.names)
	e.uwi = rules.UndeclaredWriteIn.Enabled
	e.excluded = make([]bool, e.nc)
	byName := make(map[string]int, e.nc)
	for i, n := range rules.Candidates {
		byName[n] = i
	}
	for _, n := range append(slices.Clone(rules.ExcludedCandidates), priorWinners...) {
		if i, ok := byName[n]; ok {
			e.excluded[i] = true
		}
	}
	if !e.uwi {
		e.excluded[e.nd] = true
	}
	for i := range e.nc {
		if !e.excluded[i] {
			e.numCands++
			if i < e.nd {
				e.numDecl++
			}
		}
	}
	e.seats = rules.NumberOfWinners
	mode := rules.WinnerElectionMode
	e.pctMode = mode == BottomsUpUsingPercentageThreshold
	e.bottomsUp = mode == BottomsUp
	e.onlyOne = mode == MultiWinnerAllowOnlyOneWinnerPerRound
	if e.pctMode {
		e.seats = 0
	}
	e.surpluses = e.seats > 1 && !e.bottomsUp && !e.pctMode
	e.maxRank = int32(rules.MaxRankingsAllowed)
	if e.maxRank <= 0 {
		e.maxRank = int32(e.nd)
	}
	e.maxSkip = rules.MaxSkippedRanksAllowed
	if rules.MinimumVoteThreshold != "" {
		e.minThresh, _, _ = parseDecimal(rules.MinimumVoteThreshold, e.places)
	}
	e.perm = slices.Clone(rules.Candidates)
	e.decisions = rules.TieDecisions
	switch rules.TiebreakMode {
	case TiebreakRandom, TiebreakPreviousRoundCountsThenRandom, TiebreakGeneratePermutation:
		e.rng = newJavaRandom(rules.RandomSeed)
		if rules.TiebreakMode == TiebreakGeneratePermutation {
			slices.Sort(e.perm)
			e.rng.shuffle(e.perm)
		}
	}
	n := set.len()
	e.value = make([]int64, n)
	e.pos = make([]int32, n)
	e.tally = make([]int64, e.nc)
	e.keptSum = make([]int64, e.nc)
	e.winTally = make([]int64, e.nc)
	e.elimRound = make([]int, e.nc)
	e.winRound = make([]int, e.nc)
	e.buckets = make([][]int32, e.nc)
	e.stamp = make([]int32, e.nc+1)
	e.continuing_ = make([]bool, e.nc)
	for i := range e.value {
		e.value[i] = e.scale
	}
	err := e.run()
	return e.result(), err
}

func (e *engine) refreshContinuing() {
	for c := range e.nc {
		e.continuing_[c] = e.isContinuing(c)
	}
}

func (e *engine) isContinuing(c int) bool {
	if e.excluded[c] || e.elimRound[c] > 0 {
		return false
	}
	if e.winRound[c] > 0 {
		return e.r.ContinueUntilTwoCandidatesRemain
	}
	return true
}

func (e *engine) shouldContinue(round int) bool {
	if e.r.StopTabulationEarlyAfterRound > 0 && round >= e.r.StopTabulationEarlyAfterRound {
		return false
	}
	nw := len(e.winners)
	if nw == e.numDecl && e.seats > e.numCands {
		return false
	}
	switch {
	case e.r.ContinueUntilTwoCandidatesRemain:
		return e.nElim+nw+1 < e.numCands || e.eliminatedIn(round)
	case e.pctMode:
		return nw == 0
	default:
		return nw < e.seats || (e.surpluses && e.wonIn(round))
	}
}

func (e *engine) eliminatedIn(round int) bool {
	return round > 0 && slices.Contains(e.elimRound, round)
}

func (e *engine) wonIn(round int) bool {
	return round > 0 && slices.Contains(e.winRound, round)
}

func (e *engine) run() error {
	round := 0
	for e.shouldContinue(round) {
		round++
		e.refreshContinuing()
		e.transfers = append(e.transfers, nil)
		e.computeTallies(round)
		inRound := make([]int, 0, e.nc)
		var active int64
		for c := range e.nc {
			if e.continuing_[c] {
				inRound = append(inRound, c)
				active += e.tally[c]
			}
		}
		// Threshold.
		var thr threshold
		recompute := round == 1
		if e.seats <= 1 {
			// Once the seat is filled (continueUntilTwoCandidatesRemain keeps
			// counting), RCTab keeps the threshold the winner met.
			recompute = recompute || (!e.r.DoesFirstRoundDetermineThreshold && len(e.winners) == 0)
		}
		if recompute {
			thr = e.computeThreshold(active)
		} else {
			prev := e.rounds[round-2].Threshold
			thr = threshold{prev.Units, prev.Places}
		}
		rd := Round{Number: round, Threshold: Votes{thr.units, thr.places}}

		winners, err := e.identifyWinners(round, inRound, thr)
		if err != nil {
			e.snapshot(&rd, round, inRound)
			return err
		}
		var eliminated []int
		if len(winners) > 0 {
			for _, w := range winners {
				e.winRound[w] = round
				e.winners = append(e.winners, w)
				rd.Elected = append(rd.Elected, e.names[w])
			}
			if e.surpluses {
				for _, w := range winners {
					e.distributeSurplus(w, thr.units)
				}
			}
		} else if len(e.winners) < e.seats ||
			(e.r.ContinueUntilTwoCandidatesRemain && e.nElim < e.numCands-2) || e.pctMode {
			eliminated, err = e.chooseEliminated(round, inRound)
			if err != nil {
				e.snapshot(&rd, round, inRound)
				return err
			}
			for _, c := range eliminated {
				e.elimRound[c] = round
				e.nElim++
				rd.Eliminated = append(rd.Eliminated, e.names[c])
			}
		}
		if e.seats > 1 {
			e.updateWinnerTallies(round, thr.units)
		}
		e.snapshot(&rd, round, inRound)
	}
	return nil
}

// snapshot records the round's tallies and inactive counts.
func (e *engine) snapshot(rd *Round, round int, inRound []int) {
	rt := make([]int64, e.nc)
	for c := range rt {
		rt[c] = -1
	}
	for _, c := range inRound {
		rt[c] = e.tally[c]
	}
	if e.seats > 1 {
		for c := range e.nc {
			if e.winRound[c] > 0 && e.winRound[c] < round {
				rt[c] = e.winTally[c]
			}
		}
	}
	for c := range e.nc {
		if rt[c] >= 0 {
			rd.Tally = append(rd.Tally, CandidateVotes{e.names[c], Votes{rt[c], e.places}})
		}
	}
	sort.SliceStable(rd.Tally, func(i, j int) bool {
		a, b := rd.Tally[i], rd.Tally[j]
		if a.Votes.Units != b.Votes.Units {
			return a.Votes.Units > b.Votes.Units
		}
		return a.Name < b.Name
	})
	v := func(st uint8) Votes { return Votes{e.inactive[st], e.places} }
	rd.Inactive = Inactive{
		ExhaustedChoices:  v(stExhausted),
		Overvotes:         v(stOvervote),
		RepeatedRankings:  v(stRepeated),
		SkippedRankings:   v(stSkipped),
		FinalRoundSurplus: v(stFinalSurplus),
	}
	rd.ResidualSurplus = Votes{e.residual, e.places}
	if rd.Elected == nil {
		rd.Elected = []string{}
	}
	if rd.Eliminated == nil {
		rd.Eliminated = []string{}
	}
	e.roundTally = append(e.roundTally, rt)
	e.rounds = append(e.rounds, *rd)
}

func (e *engine) computeThreshold(active int64) threshold {
	var thr threshold
	if e.pctMode {
		pu, pp, _ := parseDecimal(e.r.MultiSeatBottomsUpPercentageThreshold, -1)
		// votes × pct / 100, exact.
		thr = threshold{active * pu, e.places + pp + 2}
		for thr.places > e.places && thr.units%10 == 0 {
			thr.units /= 10
			thr.places--
		}
	} else {
		div := int64(e.seats + 1)
		if e.r.HareQuota {
			div = int64(e.seats)
		}
		if div < 1 {
			div = 1
		}
		dec := 0
		if e.r.NonIntegerWinningThreshold {
			dec = e.places
		}
		// active is scaled by 10^places; the quotient is wanted at dec places.
		den := div * pow10[e.places-dec]
		q := active / den
		if e.r.HareQuota {
			if active%den != 0 {
				q++
			}
		} else {
			q++
		}
		thr = threshold{q * pow10[e.places-dec], e.places}
	}
	if e.minThresh > 0 && e.cmpThr(e.minThresh, thr) > 0 {
		thr = threshold{e.minThresh, e.places}
	}
	return thr
}

// cmpThr compares a vote total (at the contest's places) with a threshold.
func (e *engine) cmpThr(v int64, t threshold) int {
	if t.places > e.places {
		v *= pow10[t.places-e.places]
	}
	switch {
	case v < t.units:
		return -1
	case v > t.units:
		return 1
	}
	return 0
}

// groups returns the round's candidates grouped by tally, lowest first.
func (e *engine) groups(inRound []int) [][]int {
	cs := slices.Clone(inRound)
	slices.SortStableFunc(cs, func(a, b int) int {
		switch {
		case e.tally[a] < e.tally[b]:
			return -1
		case e.tally[a] > e.tally[b]:
			return 1
		}
		return 0
	})
	var gs [][]int
	for i := 0; i < len(cs); {
		j := i + 1
		for j < len(cs) && e.tally[cs[j]] == e.tally[cs[i]] {
			j++
		}
		gs = append(gs, cs[i:j])
		i = j
	}
	return gs
}

func (e *engine) identifyWinners(round int, inRound []int, thr threshold) ([]int, error) {
	uwiIn := !e.excluded[e.nd] && e.continuing_[e.nd]
	if uwiIn && e.tally[e.nd] != 0 {
		return nil, nil // no winners while undeclared write-ins hold votes
	}
	if e.pctMode {
		for _, c := range inRound {
			if e.cmpThr(e.tally[c], thr) <= 0 {
				return nil, nil
			}
		}
		return slices.Clone(inRound), nil
	}
	gs := e.groups(inRound)
	var sel []int
	unfilled := e.seats - len(e.winners)
	if unfilled > 0 {
		switch {
		case len(inRound) <= unfilled:
			sel = slices.Clone(inRound)
		case e.r.DoesFirstRoundDetermineThreshold && len(inRound)-1 == e.seats:
			sel = slices.Clone(gs[len(gs)-1])
		case !e.bottomsUp:
			for _, c := range inRound {
				if e.cmpThr(e.tally[c], thr) >= 0 && c != e.nd {
					sel = append(sel, c)
				}
			}
		}
	}
	multi := len(sel) > 1 && (e.onlyOne || e.r.DoesFirstRoundDetermineThreshold)
	noWinners := e.seats == 1 && len(sel) == 0 && len(inRound) == 2 && unfilled == 1
	if noWinners {
		for _, c := range inRound {
			if e.tally[c] < e.minThresh {
				noWinners = false
			}
		}
	}
	if multi || noWinners {
		top := gs[len(gs)-1]
		if len(top) > 1 {
			w, err := e.breakTie(round, TieElection, top)
			if err != nil {
				return nil, err
			}
			return []int{w}, nil
		}
		return slices.Clone(top), nil
	}
	// Report winners in a stable order: highest first, then config order.
	slices.SortStableFunc(sel, func(a, b int) int {
		switch {
		case e.tally[a] > e.tally[b]:
			return -1
		case e.tally[a] < e.tally[b]:
			return 1
		}
		return a - b
	})
	return sel, nil
}

func (e *engine) chooseEliminated(round int, inRound []int) ([]int, error) {
	if len(inRound) == 0 {
		return nil, errors.New("rcv: no continuing candidates left to eliminate")
	}
	// 1. Undeclared write-ins holding votes go first.
	if !e.excluded[e.nd] && e.continuing_[e.nd] && e.tally[e.nd] > 0 {
		return []int{e.nd}, nil
	}
	gs := e.groups(inRound)
	// 2. Everyone under the minimum vote threshold.
	if e.minThresh > 0 && e.tally[gs[0][0]] < e.minThresh {
		var out []int
		for _, g := range gs {
			if e.tally[g[0]] >= e.minThresh {
				break
			}
			out = append(out, g...)
		}
		if len(out) == e.numDecl {
			return nil, errors.New("rcv: every declared candidate is below the minimum vote threshold")
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	// 3. Batch elimination of candidates who cannot catch up.
	if e.r.BatchElimination {
		if out := e.batch(gs); len(out) > 1 {
			return out, nil
		}
	}
	// 4. The lowest, breaking a tie if needed.
	low := gs[0]
	if len(low) == 1 {
		return []int{low[0]}, nil
	}
	c, err := e.breakTie(round, TieElimination, low)
	if err != nil {
		return nil, err
	}
	return []int{c}, nil
}

func (e *engine) batch(gs [][]int) []int {
	var running int64
	var seen, elim, prev []int
	done := make(map[int]bool)
	for _, g := range gs {
		t := e.tally[g[0]]
		next := slices.Clone(elim)
		if running < t {
			for _, c := range seen {
				if !done[c] {
					done[c] = true
					next = append(next, c)
				}
			}
		}
		running += t * int64(len(g))
		seen = append(seen, g...)
		if len(next) > len(elim) {
			prev, elim = elim, next
		}
	}
	if e.r.ContinueUntilTwoCandidatesRemain && len(elim)+e.nElim == e.numCands-1 {
		elim = prev
	}
	return elim
}

// distributeSurplus fixes, for each ballot counting for a new winner, the
// part that stays with the winner and the part that moves on next round.
func (e *engine) distributeSurplus(w int, thr int64) {
	votes := e.tally[w]
	extra := votes - thr
	var frac int64
	if extra > 0 {
		frac = divTrunc(extra, votes, e.scale)
	}
	var kept int64
	for _, i := range e.buckets[w] {
		v := e.value[i]
		moving := mulTrunc(v, frac, e.scale)
		kept += (v - moving) * e.set.counts[i]
		e.value[i] = moving
	}
	e.keptSum[w] = kept
}

func (e *engine) updateWinnerTallies(round int, thr int64) {
	for c := range e.nc {
		if e.winRound[c] == 0 || e.winRound[c] == round {
			continue
		}
		if e.winRound[c] == round-1 {
			t := e.keptSum[c]
			if res := t - thr; res > 0 && e.surpluses {
				e.residual += res
				t = thr
				e.addTransfer(round, int32(c), targetResidual, res)
			}
			e.winTally[c] = t
		}
	}
}

func (e *engine) addTransfer(round int, from, to int32, v int64) {
	if round < 2 || from < 0 || v <= 0 {
		return
	}
	m := e.transfers[round-2]
	if m == nil {
		m = make([]int64, e.nc*(e.nc+2))
		e.transfers[round-2] = m
	}
	m[int(from)*(e.nc+2)+int(to)+2] += v
}

// computeTallies moves every ballot whose candidate is no longer continuing
// (all ballots in round 1) to its next continuing choice, as RCTab's
// computeTalliesForRound (see engine.pos for where the rescan starts).
func (e *engine) computeTallies(round int) {
	if round == 1 {
		for i := range e.set.len() {
			e.scan(int32(i), nil, true)
		}
		return
	}
	for c := range e.nc {
		if e.continuing_[c] || len(e.buckets[c]) == 0 {
			continue
		}
		b := e.buckets[c]
		e.buckets[c] = nil
		tr := e.transferRow(round, c)
		fromStart := e.r.ExhaustOnDuplicateCandidate || rescanFromRankOne
		for _, i := range b {
			e.scan(i, tr, fromStart)
		}
		// Reuse the bucket's memory for a candidate that gains ballots.
		e.spare = append(e.spare, b[:0])
	}
}

// rescanFromRankOne makes every rescan start at rank 1, exactly as RCTab
// does; tests use it to check that resuming at engine.pos changes nothing.
var rescanFromRankOne = false

// transferRow returns the round's transfer counts out of candidate from
// (indexed by target+2), or nil in round 1.
func (e *engine) transferRow(round, from int) []int64 {
	if round < 2 {
		return nil
	}
	m := e.transfers[round-2]
	if m == nil {
		m = make([]int64, e.nc*(e.nc+2))
		e.transfers[round-2] = m
	}
	return m[from*(e.nc+2) : (from+1)*(e.nc+2)]
}

func (e *engine) exhaust(i int32, st uint8, tr []int64) {
	if st == stUndervote {
		e.undervotes += e.set.counts[i]
		return
	}
	w := e.value[i] * e.set.counts[i]
	e.inactive[st] += w
	if tr != nil {
		tr[targetExhausted+2] += w
	}
}

// scan finds ballot i's next continuing choice, or exhausts it. tr collects
// transfers out of the candidate the ballot leaves (nil in round 1).
// Ranks beyond maxRankingsAllowed are not read (as RCTab's readers).
func (e *engine) scan(i int32, tr []int64, fromStart bool) {
	t := e.set.toks
	j, end := e.set.offs[i], e.set.offs[i+1]
	maxRank := e.maxRank
	lastRank := int32(0) // RCTab's lastRankSeen
	if !fromStart && e.pos[i] > j {
		j = e.pos[i]
		lastRank = t[j] - 1 // this rank passed the skip check before
	}
	if j == end || t[j] > maxRank {
		e.exhaust(i, stUndervote, tr)
		return
	}
	finalSurplus := e.surpluses && len(e.winners) == e.seats
	dup := e.r.ExhaustOnDuplicateCandidate
	if dup {
		e.stampGen++
		if e.stampGen == 1<<30 {
			clear(e.stamp)
			e.stampGen = 1
		}
	}
	for {
		at := j
		rank, n := t[j], t[j+1]
		marks := t[j+2 : j+2+n]
		j += 2 + n
		// This is the ballot's last marked rank (RCTab's maxRankingNumber).
		last := j == end || t[j] > maxRank
		if finalSurplus {
			e.exhaust(i, stFinalSurplus, tr)
			return
		}
		if e.maxSkip >= 0 && int(rank-lastRank) > e.maxSkip+1 {
			e.exhaust(i, stSkipped, tr)
			return
		}
		lastRank = rank
		if dup {
			for _, m := range marks {
				k := m + 1 // ovMark (-1) has its own slot
				if e.stamp[k] == e.stampGen {
					e.exhaust(i, stRepeated, tr)
					return
				}
				e.stamp[k] = e.stampGen
			}
		}
		// Overvotes.
		if n > 1 || marks[0] == ovMark {
			exhaust := false
			switch e.r.OvervoteRule {
			case OvervoteExhaustImmediately:
				exhaust = true
			case OvervoteAlwaysSkipToNextRank:
				if last {
					e.exhaust(i, stExhausted, tr)
					return
				}
				continue
			default: // exhaustIfMultipleContinuing
				if marks[0] == ovMark {
					exhaust = true // marks unknown: RCTab refuses this combination; treat as an overvote
				} else {
					cont := 0
					for _, m := range marks {
						if e.continuing_[m] {
							cont++
						}
					}
					exhaust = cont > 1
				}
			}
			if exhaust {
				e.exhaust(i, stOvervote, tr)
				return
			}
		}
		for _, m := range marks {
			if m >= 0 && e.continuing_[m] {
				w := e.value[i] * e.set.counts[i]
				e.tally[m] += w
				e.pos[i] = at
				bk := e.buckets[m]
				if bk == nil && len(e.spare) > 0 {
					bk = e.spare[len(e.spare)-1]
					e.spare = e.spare[:len(e.spare)-1]
				}
				e.buckets[m] = append(bk, i)
				if tr != nil {
					tr[m+2] += w
				}
				return
			}
		}
		if last {
			e.exhaust(i, stExhausted, tr)
			return
		}
	}
}

func (e *engine) result() *Result {
	res := &Result{
		Mode:          e.r.WinnerElectionMode,
		NumWinners:    e.r.NumberOfWinners,
		TotalBallots:  e.set.total(),
		Undervotes:    e.set.blank + e.undervotes,
		Places:        e.places,
		TieBreaks:     e.tieBreaks,
		Rounds:        e.rounds,
		NumCandidates: e.nd,
	}
	res.Candidates = slices.Clone(e.r.Candidates)
	if e.uwi {
		res.Candidates = append(res.Candidates, UndeclaredWriteInLabel)
		res.NumCandidates++
	}
	for _, w := range e.winners {
		res.Winners = append(res.Winners, e.names[w])
	}
	if res.Winners == nil {
		res.Winners = []string{}
	}
	for ri := range res.Rounds {
		rd := &res.Rounds[ri]
		var m []int64
		if ri < len(e.transfers) {
			m = e.transfers[ri]
		}
		for k, v := range m {
			if v == 0 {
				continue
			}
			from, to := k/(e.nc+2), k%(e.nc+2)-2
			toName := TransferExhausted
			switch {
			case to == targetResidual:
				toName = TransferResidualSurplus
			case to >= 0:
				toName = e.names[to]
			}
			rd.Transfers = append(rd.Transfers, Transfer{From: e.names[from], To: toName, Votes: Votes{v, e.places}})
		}
		sort.Slice(rd.Transfers, func(a, b int) bool {
			x, y := rd.Transfers[a], rd.Transfers[b]
			if x.From != y.From {
				return x.From < y.From
			}
			return x.To < y.To
		})
		if rd.Transfers == nil {
			rd.Transfers = []Transfer{}
		}
	}
	if e.surpluses && len(res.Rounds) > 0 {
		res.Rounds[len(res.Rounds)-1].Inactive.ShowFinalRoundSurplus = true
	}
	return res
}

func (e *engine) String() string { return fmt.Sprintf("engine(%d ballots)", e.set.len()) }
