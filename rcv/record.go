package rcv

import (
	"slices"
	"sort"
)

// recordRound stores the round's tallies and inactive counts in rd and the
// engine's history (which previous-round tie-breaks read).
func (e *engine) recordRound(rd *Round, round int, inRound []int) {
	shown := make([]int64, len(e.names)) // -1 = not in the round
	for c := range shown {
		shown[c] = -1
	}
	for _, c := range inRound {
		shown[c] = e.tally[c]
	}
	if e.seats > 1 {
		for c := range e.names {
			if e.electedInRound[c] > 0 && e.electedInRound[c] < round {
				shown[c] = e.winnerTally[c]
			}
		}
	}
	for c := range e.names {
		if shown[c] >= 0 {
			rd.Tally = append(rd.Tally, CandidateVotes{e.names[c], Votes{shown[c], e.places}})
		}
	}
	sort.SliceStable(rd.Tally, func(i, j int) bool {
		a, b := rd.Tally[i], rd.Tally[j]
		if a.Votes.Units != b.Votes.Units {
			return a.Votes.Units > b.Votes.Units
		}
		return a.Name < b.Name
	})
	v := func(st ballotStatus) Votes { return Votes{e.inactive[st], e.places} }
	rd.Inactive = Inactive{
		ExhaustedChoices:  v(statusExhaustedChoices),
		Overvotes:         v(statusOvervote),
		RepeatedRankings:  v(statusRepeatedRankings),
		SkippedRankings:   v(statusSkippedRankings),
		FinalRoundSurplus: v(statusFinalRoundSurplus),
	}
	rd.ResidualSurplus = Votes{e.residualSurplus, e.places}
	if rd.Elected == nil {
		rd.Elected = []string{}
	}
	if rd.Eliminated == nil {
		rd.Eliminated = []string{}
	}
	e.tallyByRound = append(e.tallyByRound, shown)
	e.rounds = append(e.rounds, *rd)
}

// result builds the pass's Result from the recorded rounds.
func (e *engine) result() *Result {
	res := &Result{
		Mode:          e.rules.WinnerElectionMode,
		NumWinners:    e.rules.NumberOfWinners,
		TotalBallots:  e.set.total(),
		Undervotes:    e.set.blank + e.undervotes,
		Places:        e.places,
		TieBreaks:     e.tieBreaks,
		Rounds:        e.rounds,
		NumCandidates: e.writeIn,
	}
	res.Candidates = slices.Clone(e.rules.Candidates)
	if e.rules.UndeclaredWriteIn.Enabled {
		res.Candidates = append(res.Candidates, UndeclaredWriteInLabel)
		res.NumCandidates++
	}
	for _, w := range e.winners {
		res.Winners = append(res.Winners, e.names[w])
	}
	if res.Winners == nil {
		res.Winners = []string{}
	}
	width := len(e.names) + 2
	for ri := range res.Rounds {
		rd := &res.Rounds[ri]
		var m []int64
		if ri < len(e.transfersByRound) {
			m = e.transfersByRound[ri]
		}
		for k, v := range m {
			if v == 0 {
				continue
			}
			from, to := k/width, k%width-2
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
	if e.transfersSurplus && len(res.Rounds) > 0 {
		res.Rounds[len(res.Rounds)-1].Inactive.ShowFinalRoundSurplus = true
	}
	return res
}
