package rcv

import (
	"math"
	"slices"
)

// engine counts one pass of a contest, round by round, as RCTab's Tabulator.
// Candidates are indices into names; the undeclared write-in is the last one.
// Its work is split by phase: setup and the round loop here, then
// threshold.go, winners.go, elimination.go, transfer.go (the ballot walk and
// surpluses) and record.go (rounds and the Result).
type engine struct {
	rules  Rules
	opts   countOptions
	pass   int   // multiPassIrv pass (1-based); 0 = single pass
	places int   // decimal places of vote arithmetic
	scale  int64 // 10^places: one ballot's full value
	set    *ballotSet

	// Candidates.
	names         []string // declared candidates, then the write-in label
	writeIn       int      // index of the undeclared write-in (= number of declared candidates)
	excluded      []bool   // excluded by the rules, an earlier pass, or disabled write-ins
	numCandidates int      // taking part, write-in included (RCTab getNumCandidates)
	numDeclared   int      // declared and not excluded (RCTab getNumDeclaredCandidates)

	// Rules, decoded once.
	seats                int
	maxRankings          int32
	maxSkippedRanks      int // Unlimited (-1) = no limit
	transfersSurplus     bool
	percentageThreshold  bool // bottomsUpUsingPercentageThreshold
	bottomsUp            bool
	oneWinnerPerRound    bool
	minimumVoteThreshold int64    // at the contest's places; 0 = none
	tieBreakOrder        []string // candidate order (or permutation) for tie-breaks
	random               *javaRandom
	tieBreaks            []TieBreak

	// Candidate state.
	continuing        []bool // refreshed at the start of every round
	eliminatedInRound []int  // 0 = not eliminated
	electedInRound    []int  // 0 = not elected
	winners           []int  // in order elected
	numEliminated     int
	tally             []int64 // this round's votes, at the contest's places
	keptBySurplus     []int64 // a winner's votes kept after its surplus moved on
	winnerTally       []int64 // what a past winner shows in later rounds (multi-seat)

	// Ballots (distinct rankings of set, by index).
	ballotsFor  [][]int32 // per candidate, the rankings counting for it
	ballotValue []int64   // current value of one ballot of each ranking
	// resumeAt is the token offset of the rank a ballot counts at. A ballot
	// whose candidate stops continuing is rescanned from there: RCTab
	// rescans from rank 1, but the continuing set only shrinks, so every
	// earlier rank (no continuing candidate, skip/overvote checks passed)
	// gives the same outcome again. With exhaustOnDuplicateCandidate the
	// scan restarts at rank 1, to see the earlier marks.
	resumeAt     []int32
	spareBuckets [][]int32 // emptied ballotsFor slices, for reuse
	// The compact form of simple ballots, when this count walks it
	// (simple.go); then ballotValue and resumeAt are not used.
	simple []simpleBallot
	smarks []uint16
	// seenMark[candidate+1] == seenGeneration: already marked earlier on the
	// ballot being scanned (exhaustOnDuplicateCandidate).
	seenMark       []int32
	seenGeneration int32

	// Totals.
	inactive        [numStatuses]int64 // cumulative, by ballot status
	residualSurplus int64
	undervotes      int64 // rankings whose first mark is past maxRankingsAllowed

	// History.
	rounds           []Round
	tallyByRound     [][]int64 // per round, per candidate; -1 = not in the round
	transfersByRound [][]int64 // per round: from*(len(names)+2) + to+2

	// A Counter's: record keeps this count's sums and decisions; replay
	// takes the sums from there instead of walking the ballots, and stops
	// at the first decision that differs from the recorded ones.
	record *countPlan
	replay *countPlan
}

func runPass(rules Rules, set *ballotSet, priorWinners []string, pass int, opts countOptions) (*Result, error) {
	e := newEngine(rules, set, priorWinners, pass, opts)
	err := e.run()
	return e.result(), err
}

func newEngine(rules Rules, set *ballotSet, priorWinners []string, pass int, opts countOptions) *engine {
	e := &engine{rules: rules, opts: opts, pass: pass, set: set, places: rules.DecimalPlacesForVoteArithmetic}
	e.scale = pow10[e.places]
	e.writeIn = len(rules.Candidates)
	e.names = append(slices.Clone(rules.Candidates), UndeclaredWriteInLabel)
	numNames := len(e.names)
	e.excluded = make([]bool, numNames)
	byName := make(map[string]int, numNames)
	for i, n := range rules.Candidates {
		byName[n] = i
	}
	for _, n := range append(slices.Clone(rules.ExcludedCandidates), priorWinners...) {
		if i, ok := byName[n]; ok {
			e.excluded[i] = true
		}
	}
	if !rules.UndeclaredWriteIn.Enabled {
		e.excluded[e.writeIn] = true
	}
	for c := range numNames {
		if !e.excluded[c] {
			e.numCandidates++
			if c != e.writeIn {
				e.numDeclared++
			}
		}
	}

	e.seats = rules.NumberOfWinners
	mode := rules.WinnerElectionMode
	e.percentageThreshold = mode == BottomsUpUsingPercentageThreshold
	e.bottomsUp = mode == BottomsUp
	e.oneWinnerPerRound = mode == MultiWinnerAllowOnlyOneWinnerPerRound
	if e.percentageThreshold {
		e.seats = 0
	}
	e.transfersSurplus = e.seats > 1 && !e.bottomsUp && !e.percentageThreshold
	switch e.maxRankings = int32(rules.MaxRankingsAllowed); {
	case rules.MaxRankingsAllowed == Unlimited:
		e.maxRankings = math.MaxInt32
	case e.maxRankings <= 0:
		e.maxRankings = int32(e.writeIn)
	}
	e.maxSkippedRanks = rules.MaxSkippedRanksAllowed
	if rules.MinimumVoteThreshold != "" {
		e.minimumVoteThreshold, _, _ = parseDecimal(rules.MinimumVoteThreshold, e.places)
	}
	e.tieBreakOrder = slices.Clone(rules.Candidates)
	switch rules.TiebreakMode {
	case TiebreakRandom, TiebreakPreviousRoundCountsThenRandom, TiebreakGeneratePermutation:
		e.random = newJavaRandom(rules.RandomSeed)
		if rules.TiebreakMode == TiebreakGeneratePermutation {
			slices.Sort(e.tieBreakOrder)
			e.random.shuffle(e.tieBreakOrder)
		}
	}

	e.tally = make([]int64, numNames)
	e.keptBySurplus = make([]int64, numNames)
	e.winnerTally = make([]int64, numNames)
	e.eliminatedInRound = make([]int, numNames)
	e.electedInRound = make([]int, numNames)
	e.ballotsFor = make([][]int32, numNames)
	e.seenMark = make([]int32, numNames+1)
	e.continuing = make([]bool, numNames)
	return e
}

// run counts rounds until the contest is decided, as RCTab's tabulate loop.
func (e *engine) run() error {
	round := 0
	for e.shouldContinue(round) {
		round++
		e.refreshContinuing()
		e.transfersByRound = append(e.transfersByRound, nil)
		if e.replay != nil {
			if !e.replay.load(e, round) {
				return errDiverged
			}
		} else {
			e.computeTallies(round)
		}
		if e.record != nil {
			e.record.add(e, round)
		}
		inRound := make([]int, 0, len(e.names))
		var active int64
		for c := range e.names {
			if e.continuing[c] {
				inRound = append(inRound, c)
				active += e.tally[c]
			}
		}
		thr := e.roundThreshold(round, active)
		rd := Round{Number: round, Threshold: Votes{thr.units, thr.places}}

		winners, err := e.identifyWinners(round, inRound, thr)
		if err != nil {
			e.recordRound(&rd, round, inRound)
			return err
		}
		if len(winners) > 0 {
			for _, w := range winners {
				e.electedInRound[w] = round
				e.winners = append(e.winners, w)
				rd.Elected = append(rd.Elected, e.names[w])
			}
			if e.transfersSurplus {
				for _, w := range winners {
					e.distributeSurplus(w, thr.units)
				}
			}
		} else if e.needsElimination() {
			eliminated, err := e.chooseEliminated(round, inRound, thr)
			if err != nil {
				e.recordRound(&rd, round, inRound)
				return err
			}
			for _, c := range eliminated {
				e.eliminatedInRound[c] = round
				e.numEliminated++
				rd.Eliminated = append(rd.Eliminated, e.names[c])
			}
		}
		if e.seats > 1 {
			e.updateWinnerTallies(round, thr.units)
		}
		e.recordRound(&rd, round, inRound)
		if e.replay != nil && !e.replay.decided(round, &rd) {
			return errDiverged
		}
	}
	if e.replay != nil && round != e.replay.rounds() {
		return errDiverged
	}
	return nil
}

// needsElimination says whether a round without winners eliminates: seats
// are still open, or continue-until-two has more than two left, or
// bottoms-up by percentage has candidates under the threshold.
func (e *engine) needsElimination() bool {
	return len(e.winners) < e.seats ||
		(e.rules.ContinueUntilTwoCandidatesRemain && e.numEliminated < e.numCandidates-2) ||
		e.percentageThreshold
}

func (e *engine) shouldContinue(round int) bool {
	if e.rules.StopTabulationEarlyAfterRound > 0 && round >= e.rules.StopTabulationEarlyAfterRound {
		return false
	}
	numWinners := len(e.winners)
	if numWinners == e.numDeclared && e.seats > e.numCandidates {
		return false
	}
	switch {
	case e.rules.ContinueUntilTwoCandidatesRemain:
		return e.numEliminated+numWinners+1 < e.numCandidates || e.eliminatedIn(round)
	case e.percentageThreshold:
		return numWinners == 0
	default:
		return numWinners < e.seats || (e.transfersSurplus && e.electedIn(round))
	}
}

func (e *engine) refreshContinuing() {
	for c := range e.names {
		e.continuing[c] = e.isContinuing(c)
	}
}

func (e *engine) isContinuing(c int) bool {
	if e.excluded[c] || e.eliminatedInRound[c] > 0 {
		return false
	}
	if e.electedInRound[c] > 0 {
		return e.rules.ContinueUntilTwoCandidatesRemain
	}
	return true
}

func (e *engine) eliminatedIn(round int) bool {
	return round > 0 && slices.Contains(e.eliminatedInRound, round)
}

func (e *engine) electedIn(round int) bool {
	return round > 0 && slices.Contains(e.electedInRound, round)
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
