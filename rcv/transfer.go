package rcv

// Ballot statuses, as RCTab's StatusForRound.
type ballotStatus uint8

const (
	statusUndervote ballotStatus = iota
	statusOvervote
	statusSkippedRankings
	statusRepeatedRankings
	statusExhaustedChoices
	statusFinalRoundSurplus
	numStatuses
)

// Transfer targets that are not candidates, in a transfer row (at +2).
const (
	targetExhausted = -1
	targetResidual  = -2
)

// computeTallies moves every ballot whose candidate is no longer continuing
// (all ballots in round 1) to its next continuing choice, as RCTab's
// computeTalliesForRound (see engine.resumeAt for where the rescan starts).
func (e *engine) computeTallies(round int) {
	if round == 1 {
		// Made here, not in newEngine: a replay never walks the ballots.
		n := e.set.len()
		if e.walksSimply() {
			for i := range n {
				e.scanSimple(int32(i), nil)
			}
			return
		}
		e.ballotValue = make([]int64, n)
		for i := range e.ballotValue {
			e.ballotValue[i] = e.scale
		}
		e.resumeAt = make([]int32, n)
		for i := range n {
			e.scan(int32(i), nil, true)
		}
		return
	}
	fromStart := e.rules.ExhaustOnDuplicateCandidate || e.opts.rescanFromRankOne
	for c := range e.names {
		if e.continuing[c] || len(e.ballotsFor[c]) == 0 {
			continue
		}
		leaving := e.ballotsFor[c]
		e.ballotsFor[c] = nil
		row := e.transferRow(round, c)
		for _, i := range leaving {
			if e.simple != nil {
				e.scanSimple(i, row)
			} else {
				e.scan(i, row, fromStart)
			}
		}
		// Reuse the bucket's memory for a candidate that gains ballots.
		e.spareBuckets = append(e.spareBuckets, leaving[:0])
	}
}

// transferRow returns the round's transfer counts out of candidate from
// (indexed by target+2), or nil in round 1.
func (e *engine) transferRow(round, from int) []int64 {
	if round < 2 {
		return nil
	}
	width := len(e.names) + 2
	m := e.transfersByRound[round-2]
	if m == nil {
		m = make([]int64, len(e.names)*width)
		e.transfersByRound[round-2] = m
	}
	return m[from*width : (from+1)*width]
}

// addTransfer records v votes moving from one candidate to a target at the
// start of round.
func (e *engine) addTransfer(round, from, to int, v int64) {
	if round < 2 || from < 0 || v <= 0 {
		return
	}
	e.transferRow(round, from)[to+2] += v
}

// exhaust makes ballot i inactive with status st.
func (e *engine) exhaust(i int32, st ballotStatus, row []int64) {
	if st == statusUndervote {
		e.undervotes += e.set.counts[i]
		return
	}
	w := e.ballotValue[i] * e.set.counts[i]
	e.inactive[st] += w
	if row != nil {
		row[targetExhausted+2] += w
	}
}

// scan finds ballot i's next continuing choice, or exhausts it. row collects
// transfers out of the candidate the ballot leaves (nil in round 1).
// Ranks beyond maxRankingsAllowed are not read (as RCTab's readers).
func (e *engine) scan(i int32, row []int64, fromStart bool) {
	toks := e.set.toks
	j, end := e.set.offs[i], e.set.offs[i+1]
	maxRankings := e.maxRankings
	lastRank := int32(0) // RCTab's lastRankSeen
	if !fromStart && e.resumeAt[i] > j {
		j = e.resumeAt[i]
		lastRank = toks[j] - 1 // this rank passed the skip check before
	}
	if j == end || toks[j] > maxRankings {
		e.exhaust(i, statusUndervote, row)
		return
	}
	finalSurplus := e.transfersSurplus && len(e.winners) == e.seats
	checkDuplicates := e.rules.ExhaustOnDuplicateCandidate
	if checkDuplicates {
		e.seenGeneration++
		if e.seenGeneration == 1<<30 {
			clear(e.seenMark)
			e.seenGeneration = 1
		}
	}
	for {
		at := j
		rank, n := toks[j], toks[j+1]
		marks := toks[j+2 : j+2+n]
		j += 2 + n
		// This is the ballot's last marked rank (RCTab's maxRankingNumber).
		last := j == end || toks[j] > maxRankings
		if finalSurplus {
			e.exhaust(i, statusFinalRoundSurplus, row)
			return
		}
		if e.maxSkippedRanks >= 0 && int(rank-lastRank) > e.maxSkippedRanks+1 {
			e.exhaust(i, statusSkippedRankings, row)
			return
		}
		lastRank = rank
		if checkDuplicates {
			for _, m := range marks {
				k := m + 1 // ovMark (-1) has its own slot
				if e.seenMark[k] == e.seenGeneration {
					e.exhaust(i, statusRepeatedRankings, row)
					return
				}
				e.seenMark[k] = e.seenGeneration
			}
		}
		if n > 1 || marks[0] == ovMark {
			switch e.overvoteDecision(marks) {
			case overvoteExhausts:
				e.exhaust(i, statusOvervote, row)
				return
			case overvoteSkips:
				if last {
					e.exhaust(i, statusExhaustedChoices, row)
					return
				}
				continue
			}
		}
		for _, m := range marks {
			if m >= 0 && e.continuing[m] {
				e.resumeAt[i] = at
				e.credit(int(m), i, e.ballotValue[i]*e.set.counts[i], row)
				return
			}
		}
		if last {
			e.exhaust(i, statusExhaustedChoices, row)
			return
		}
	}
}

type overvoteOutcome uint8

const (
	overvoteCounts   overvoteOutcome = iota // the continuing mark counts
	overvoteExhausts                        // the ballot is an overvote
	overvoteSkips                           // go on to the next rank
)

// overvoteDecision applies the overvote rule to a rank with several marks
// (or the unknown-overvote mark), as RCTab's getOvervoteDecision.
func (e *engine) overvoteDecision(marks []int32) overvoteOutcome {
	switch e.rules.OvervoteRule {
	case OvervoteExhaustImmediately:
		return overvoteExhausts
	case OvervoteAlwaysSkipToNextRank:
		return overvoteSkips
	}
	// exhaustIfMultipleContinuing
	if marks[0] == ovMark {
		// Marks unknown: RCTab refuses this combination; treat as an overvote.
		return overvoteExhausts
	}
	continuing := 0
	for _, m := range marks {
		if e.continuing[m] {
			continuing++
		}
	}
	if continuing > 1 {
		return overvoteExhausts
	}
	return overvoteCounts
}

// distributeSurplus fixes, for each ballot counting for a new winner, the
// part that stays with the winner and the part that moves on next round.
func (e *engine) distributeSurplus(w int, thr int64) {
	votes := e.tally[w]
	extra := votes - thr
	var fraction int64
	if extra > 0 {
		fraction = divTrunc(extra, votes, e.scale)
	}
	var kept int64
	for _, i := range e.ballotsFor[w] {
		v := e.ballotValue[i]
		moving := mulTrunc(v, fraction, e.scale)
		kept += (v - moving) * e.set.counts[i]
		e.ballotValue[i] = moving
	}
	e.keptBySurplus[w] = kept
}

// updateWinnerTallies fixes what each past winner shows: the votes kept
// after its surplus moved on, less any residual surplus above the threshold.
func (e *engine) updateWinnerTallies(round int, thr int64) {
	for c := range e.names {
		if e.electedInRound[c] == 0 || e.electedInRound[c] == round {
			continue
		}
		if e.electedInRound[c] == round-1 {
			t := e.keptBySurplus[c]
			if residual := t - thr; residual > 0 && e.transfersSurplus {
				e.residualSurplus += residual
				t = thr
				e.addTransfer(round, c, targetResidual, residual)
			}
			e.winnerTally[c] = t
		}
	}
}

// credit counts ballot i, worth w, for continuing candidate m: in m's
// tally, among the ballots m holds (which a later transfer walks), and in
// the transfer row when one is kept.
func (e *engine) credit(m int, i int32, w int64, row []int64) {
	e.tally[m] += w
	bucket := e.ballotsFor[m]
	if bucket == nil && len(e.spareBuckets) > 0 {
		bucket = e.spareBuckets[len(e.spareBuckets)-1]
		e.spareBuckets = e.spareBuckets[:len(e.spareBuckets)-1]
	}
	e.ballotsFor[m] = append(bucket, i)
	if row != nil {
		row[m+2] += w
	}
}
