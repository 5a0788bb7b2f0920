package rcv

import "slices"

// identifyWinners returns the candidates elected this round, as RCTab's
// identifyWinners.
func (e *engine) identifyWinners(round int, inRound []int, thr threshold) ([]int, error) {
	if e.writeInHoldsVotes() {
		return nil, nil // no winners while undeclared write-ins hold votes
	}
	if e.percentageThreshold {
		for _, c := range inRound {
			if e.compareToThreshold(e.tally[c], thr) <= 0 {
				return nil, nil
			}
		}
		return slices.Clone(inRound), nil
	}
	gs := e.groups(inRound)
	var selected []int
	unfilled := e.seats - len(e.winners)
	if unfilled > 0 {
		switch {
		case len(inRound) <= unfilled:
			selected = slices.Clone(inRound)
		case e.rules.DoesFirstRoundDetermineThreshold && len(inRound)-1 == e.seats:
			selected = slices.Clone(gs[len(gs)-1])
		case !e.bottomsUp:
			for _, c := range inRound {
				if e.compareToThreshold(e.tally[c], thr) >= 0 && c != e.writeIn {
					selected = append(selected, c)
				}
			}
		}
	}
	tooMany := len(selected) > 1 && (e.oneWinnerPerRound || e.rules.DoesFirstRoundDetermineThreshold)
	// Two candidates left, nobody over the threshold: the higher wins (PR #731).
	noneOfTwo := e.seats == 1 && len(selected) == 0 && len(inRound) == 2 && unfilled == 1
	if noneOfTwo {
		for _, c := range inRound {
			if e.tally[c] < e.minimumVoteThreshold {
				noneOfTwo = false
			}
		}
	}
	if tooMany || noneOfTwo {
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
	slices.SortStableFunc(selected, func(a, b int) int {
		switch {
		case e.tally[a] > e.tally[b]:
			return -1
		case e.tally[a] < e.tally[b]:
			return 1
		}
		return a - b
	})
	return selected, nil
}

// writeInHoldsVotes reports whether the undeclared write-in takes part and
// has votes this round.
func (e *engine) writeInHoldsVotes() bool {
	return !e.excluded[e.writeIn] && e.continuing[e.writeIn] && e.tally[e.writeIn] > 0
}
