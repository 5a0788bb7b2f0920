package worker

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rcv"
)

// resultsModel turns a tabulation into the results model the pages format:
// every number and status a reader sees is worked out here, once, from the
// tabulator's own figures.
func resultsModel(e *runoff.Election, rules rcv.Rules, res *rcv.Result) runoff.Results {
	m := runoff.Results{
		Method:       choiceLabel(runoff.WinnerModes, rules.WinnerElectionMode),
		TiebreakRule: choiceLabel(runoff.Tiebreaks, rules.TiebreakMode),
		Seats:        res.NumWinners,
		Winners:      slices.Clone(res.Winners),
		Ballots:      res.TotalBallots,
		Undervotes:   res.Undervotes,
		Candidates:   finishingOrder(e, res),
	}
	if m.Winners == nil {
		m.Winners = []string{}
	}
	if e.RandomSeed != nil && (rules.TiebreakMode == rcv.TiebreakRandom || rules.TiebreakMode == rcv.TiebreakPreviousRoundCountsThenRandom) {
		m.RandomSeed = e.RandomSeed
	}
	for _, pass := range res.Passes {
		m.Passes = append(m.Passes, resultsModel(e, rules, pass))
	}
	wonIn := map[string]int{} // candidate → round elected
	for _, rd := range res.Rounds {
		for _, n := range rd.Elected {
			wonIn[n] = rd.Number
		}
	}
	var prev *rcv.Round
	for i := range res.Rounds {
		rd := &res.Rounds[i]
		m.Rounds = append(m.Rounds, roundModel(m.Candidates, wonIn, rules, rd, prev))
		prev = rd
	}
	for _, tb := range res.TieBreaks {
		outcome := runoff.CandidateEliminated
		if tb.Kind == rcv.TieElection {
			outcome = runoff.CandidateElected
		}
		m.TieBreaks = append(m.TieBreaks, runoff.TieBreak{Round: tb.Round, Tied: slices.Clone(tb.Tied), Votes: tb.Votes.String(),
			Chosen: tb.Selected, Outcome: outcome, Explanation: tieWords(tb, outcome)})
	}
	if p := res.Pairwise; p != nil {
		m.Pairwise = &runoff.Pairwise{Candidates: slices.Clone(p.Candidates), Wins: p.Wins, CondorcetWinner: p.CondorcetWinner}
	}
	return m
}

// finishingOrder lists the candidates as a results table reads best: the
// winners in the order elected, then everyone else by the last round they
// were counted in (latest first), their votes in it, and the order listed.
func finishingOrder(e *runoff.Election, res *rcv.Result) []string {
	type standing struct {
		name      string
		won       int // position among winners, or len(winners) if none
		lastRound int
		lastVotes int64
		listed    int
	}
	byName := map[string]*standing{}
	add := func(name string) *standing {
		if st, ok := byName[name]; ok {
			return st
		}
		st := &standing{name: name, won: len(res.Winners), listed: len(byName)}
		byName[name] = st
		return st
	}
	for _, c := range e.Candidates {
		add(c.Name)
	}
	for i, w := range res.Winners {
		add(w).won = i
	}
	for _, rd := range res.Rounds {
		for _, cv := range rd.Tally {
			st := add(cv.Name)
			st.lastRound, st.lastVotes = rd.Number, cv.Votes.Units
		}
	}
	rows := make([]*standing, 0, len(byName))
	for _, st := range byName {
		rows = append(rows, st)
	}
	slices.SortFunc(rows, func(a, b *standing) int {
		return cmp.Or(cmp.Compare(a.won, b.won), cmp.Compare(b.lastRound, a.lastRound),
			cmp.Compare(b.lastVotes, a.lastVotes), cmp.Compare(a.listed, b.listed))
	})
	names := make([]string, len(rows))
	for i, st := range rows {
		names[i] = st.name
	}
	return names
}

func roundModel(order []string, wonIn map[string]int, rules rcv.Rules, rd, prev *rcv.Round) runoff.ResultRound {
	places := rd.Threshold.Places
	votes := func(u int64) string { return rcv.Votes{Units: u, Places: places}.String() }
	var continuing int64
	for _, cv := range rd.Tally {
		continuing += cv.Votes.Units
	}
	r := runoff.ResultRound{
		Number:     rd.Number,
		Threshold:  rd.Threshold.String(),
		Continuing: votes(continuing),
		Elected:    nonNil(rd.Elected),
		Eliminated: nonNil(rd.Eliminated),
		Transfers:  []runoff.TransferGroup{},
	}
	r.ThresholdRule, r.ThresholdChange = thresholdWords(rules, rd, prev, votes(continuing))
	for _, name := range order {
		c := runoff.CandidateRound{Name: name, Status: runoff.CandidateOut}
		if v, ok := rd.TallyOf(name); ok {
			c.Votes = v.String()
			if continuing > 0 {
				c.Share = 100 * float64(v.Units) / float64(continuing)
			}
			switch {
			case slices.Contains(rd.Elected, name):
				c.Status = runoff.CandidateElected
			case slices.Contains(rd.Eliminated, name):
				c.Status = runoff.CandidateEliminated
			case wonIn[name] != 0 && wonIn[name] < rd.Number:
				c.Status = runoff.CandidateWon
			default:
				c.Status = runoff.CandidateContinuing
			}
		}
		r.Tally = append(r.Tally, c)
	}
	for _, from := range append(slices.Clone(rd.Elected), rd.Eliminated...) {
		g := runoff.TransferGroup{From: from, Why: runoff.CandidateEliminated, To: []runoff.VoteAmount{}}
		if slices.Contains(rd.Elected, from) {
			g.Why = runoff.CandidateElected
		}
		for _, t := range rd.Transfers {
			if t.From != from {
				continue
			}
			switch t.To {
			case rcv.TransferExhausted:
				g.Exhausted = t.Votes.String()
			case rcv.TransferResidualSurplus:
				g.Residual = t.Votes.String()
			default:
				g.To = append(g.To, runoff.VoteAmount{Name: t.To, Votes: t.Votes.String()})
			}
		}
		slices.SortStableFunc(g.To, func(a, b runoff.VoteAmount) int {
			return cmp.Compare(slices.Index(order, a.Name), slices.Index(order, b.Name))
		})
		r.Transfers = append(r.Transfers, g)
	}
	in := rd.Inactive
	r.Inactive = runoff.Inactive{
		ExhaustedChoices: in.ExhaustedChoices.String(),
		Overvotes:        in.Overvotes.String(),
		RepeatedRankings: in.RepeatedRankings.String(),
		SkippedRankings:  in.SkippedRankings.String(),
		Total:            votes(in.Total()),
	}
	if in.ShowFinalRoundSurplus {
		r.Inactive.FinalRoundSurplus = in.FinalRoundSurplus.String()
	}
	return r
}

// thresholdWords says how a round's threshold is worked out, and why it
// moved since the previous round.
func thresholdWords(rules rcv.Rules, rd, prev *rcv.Round, continuing string) (rule, change string) {
	single := rules.WinnerElectionMode == rcv.SingleWinnerMajority || rules.WinnerElectionMode == rcv.MultiPassIRV
	switch {
	case single:
		rule = fmt.Sprintf("More than half of the %s votes still counting in this round.", continuing)
	case rules.HareQuota:
		rule = fmt.Sprintf("The Hare quota: the votes counted divided by the %d seats.", rules.NumberOfWinners)
	default:
		rule = fmt.Sprintf("The Droop quota: more than the votes counted divided by %d (the seats plus one).", rules.NumberOfWinners+1)
	}
	if prev == nil || prev.Threshold.Units == rd.Threshold.Units {
		return rule, ""
	}
	var before int64
	for _, cv := range prev.Tally {
		before += cv.Votes.Units
	}
	dir := "Lower"
	if rd.Threshold.Units > prev.Threshold.Units {
		dir = "Higher"
	}
	change = fmt.Sprintf("%s than round %d's %s: %s votes are still counting, against %s then, because ballots whose choices have all been eliminated no longer count.",
		dir, prev.Number, prev.Threshold, continuing, rcv.Votes{Units: before, Places: prev.Threshold.Places})
	return rule, change
}

// tieWords says in plain words how a tie was broken.
func tieWords(tb rcv.TieBreak, outcome string) string {
	tied := strings.Join(tb.Tied, " and ")
	if len(tb.Tied) > 2 {
		tied = strings.Join(tb.Tied[:len(tb.Tied)-1], ", ") + " and " + tb.Tied[len(tb.Tied)-1]
	}
	s := fmt.Sprintf("%s were tied with %s each in round %d; %s was %s.", tied, runoff.Plural(tb.Votes.String(), "vote"), tb.Round, tb.Selected, outcome)
	if tb.Explanation != "" {
		s += " " + tb.Explanation
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func choiceLabel(cs []runoff.Choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}
