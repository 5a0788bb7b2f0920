package rcv

import (
	"errors"
	"slices"
)

// chooseEliminated picks who leaves this round, in RCTab's order of
// mutually exclusive ways (Tabulator.tabulate): undeclared write-ins,
// everyone under the threshold (cutoffElimination), everyone under the
// minimum vote threshold (a rule RCTab 2.0 dropped; Runoff keeps it for
// its own rules), a batch, or the lowest (breaking a tie).
func (e *engine) chooseEliminated(round int, inRound []int, thr threshold) ([]int, error) {
	if len(inRound) == 0 {
		return nil, errors.New("rcv: no continuing candidates left to eliminate")
	}
	// 1. Undeclared write-ins holding votes go first.
	if e.writeInHoldsVotes() {
		return []int{e.writeIn}, nil
	}
	// 2. Cutoff: every candidate in the round below this round's threshold
	// to win, at once (RCTab's doCutoffElimination, BrightSpots/rcv #957).
	if e.rules.CutoffElimination {
		var out []int
		for _, c := range inRound {
			if e.compareToThreshold(e.tally[c], thr) < 0 {
				out = append(out, c)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	gs := e.groups(inRound)
	// Everyone under the minimum vote threshold.
	if e.minimumVoteThreshold > 0 && e.tally[gs[0][0]] < e.minimumVoteThreshold {
		var out []int
		for _, g := range gs {
			if e.tally[g[0]] >= e.minimumVoteThreshold {
				break
			}
			out = append(out, g...)
		}
		if len(out) == e.numDeclared {
			return nil, errors.New("rcv: every declared candidate is below the minimum vote threshold")
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	// 3. Batch elimination of candidates who cannot catch up.
	if e.rules.BatchElimination {
		if out := e.batch(gs); len(out) > 1 {
			return out, nil
		}
	}
	// 4. The lowest, breaking a tie if needed.
	lowest := gs[0]
	if len(lowest) == 1 {
		return []int{lowest[0]}, nil
	}
	c, err := e.breakTie(round, TieElimination, lowest)
	if err != nil {
		return nil, err
	}
	return []int{c}, nil
}

// batch returns the candidates who together cannot overtake the next
// lowest (RCTab's runBatchElimination), given the groups lowest first.
func (e *engine) batch(gs [][]int) []int {
	var runningTotal int64
	var seen, eliminated, previous []int
	done := make(map[int]bool)
	for _, g := range gs {
		t := e.tally[g[0]]
		next := slices.Clone(eliminated)
		if runningTotal < t {
			for _, c := range seen {
				if !done[c] {
					done[c] = true
					next = append(next, c)
				}
			}
		}
		runningTotal += t * int64(len(g))
		seen = append(seen, g...)
		if len(next) > len(eliminated) {
			previous, eliminated = eliminated, next
		}
	}
	// Continue until two remain: never batch away the last opponent.
	if e.rules.ContinueUntilTwoCandidatesRemain && len(eliminated)+e.numEliminated == e.numCandidates-1 {
		eliminated = previous
	}
	return eliminated
}
