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
		Mode:         rules.WinnerElectionMode,
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
			Chosen: tb.Selected, Outcome: outcome, Explanation: tieWords(tb, outcome, res.Rounds)})
	}
	if p := res.Pairwise; p != nil {
		m.Pairwise = &runoff.Pairwise{Candidates: slices.Clone(p.Candidates), Wins: p.Wins, CondorcetWinner: p.CondorcetWinner}
		if p.CondorcetWinner == "" && len(p.Candidates) > 1 {
			m.Pairwise.Smith, m.Pairwise.Cycle = smithAndCycle(p.Candidates, p.Wins)
		}
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
// moved since the previous round: the ballots that stopped counting, by
// cause.
func thresholdWords(rules rcv.Rules, rd, prev *rcv.Round, continuing string) (rule, change string) {
	single := rules.WinnerElectionMode == rcv.SingleWinnerMajority || rules.WinnerElectionMode == rcv.MultiPassIRV
	switch {
	case single:
		rule = fmt.Sprintf("More than half of the %s still counting in this round.", runoff.Plural(continuing, "vote"))
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
	var why []string
	var stopped int64
	for _, c := range []struct {
		now, then rcv.Votes
		when      string
	}{
		{rd.Inactive.ExhaustedChoices, prev.Inactive.ExhaustedChoices, "when every candidate they ranked was out"},
		{rd.Inactive.Overvotes, prev.Inactive.Overvotes, "at an overvote (two candidates marked at their next rank)"},
		{rd.Inactive.RepeatedRankings, prev.Inactive.RepeatedRankings, "at a candidate ranked twice"},
		{rd.Inactive.SkippedRankings, prev.Inactive.SkippedRankings, "after too many blank ranks"},
	} {
		if d := c.now.Units - c.then.Units; d > 0 {
			stopped += d
			why = append(why, rcv.Votes{Units: d, Places: c.now.Places}.String()+" "+c.when)
		}
	}
	change = fmt.Sprintf("%s than round %d's %s", dir, prev.Number, prev.Threshold)
	n := rcv.Votes{Units: stopped, Places: rd.Threshold.Places}.String()
	if len(why) == 1 {
		change += fmt.Sprintf(" because %s stopped counting %s", runoff.Plural(n, "ballot"), strings.TrimPrefix(why[0], n+" "))
	} else if len(why) > 1 {
		change += fmt.Sprintf(" because %s stopped counting (%s)", runoff.Plural(n, "ballot"), runoff.JoinAnd(why))
	}
	are := "are"
	if continuing == "1" {
		are = "is"
	}
	change += fmt.Sprintf(": %s %s still counting, against %s then.", runoff.Plural(continuing, "vote"), are,
		rcv.Votes{Units: before, Places: prev.Threshold.Places})
	return rule, change
}

// tieWords says in plain words how a tie was broken, in the terms of the
// rule that broke it: who tied, what the rule looked at, who was chosen.
func tieWords(tb rcv.TieBreak, outcome string, rounds []rcv.Round) string {
	s := fmt.Sprintf("%s were tied with %s each in round %d.", runoff.JoinAnd(tb.Tied), runoff.Plural(tb.Votes.String(), "vote"), tb.Round)
	electing := tb.Kind == rcv.TieElection
	listed := "listed last of them"
	if electing {
		listed = "listed first of them"
	}
	decided := func(contention []string, lead string) string {
		switch tb.Rule {
		case rcv.TiebreakUseCandidateOrder, rcv.TiebreakPreviousRoundCountsThenCandidateOrder:
			return fmt.Sprintf("%s the rules go by the order the candidates are listed: %s, %s, was %s.", lead, tb.Selected, listed, outcome)
		case rcv.TiebreakGeneratePermutation:
			return fmt.Sprintf("%s the rules go by a shuffled order of the candidates: %s, %s in it, was %s.", lead, tb.Selected, listed, outcome)
		case rcv.TiebreakRandom, rcv.TiebreakPreviousRoundCountsThenRandom:
			return fmt.Sprintf("%s a random draw among %s decided: %s was %s.", lead, runoff.JoinAnd(contention), tb.Selected, outcome)
		default: // the organizer was asked
			return fmt.Sprintf("%s the organizer broke the tie: %s was %s.", lead, tb.Selected, outcome)
		}
	}
	capital := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
	switch tb.Rule {
	case rcv.TiebreakPreviousRoundCountsThenCandidateOrder, rcv.TiebreakPreviousRoundCountsThenRandom, rcv.TiebreakPreviousRoundCountsThenAsk:
	default:
		return s + " " + capital(strings.TrimSpace(decided(tb.Tied, "")))
	}
	if tb.Round <= 1 {
		return s + " " + decided(tb.Tied, "The rules look first at earlier rounds, but this is the first round, so")
	}
	// Earlier rounds, latest first, narrow the tie to those with the
	// fewest (or, electing, most) votes, as the tabulator does.
	contention := slices.Clone(tb.Tied)
	for r := tb.Round - 1; r >= 1 && r <= len(rounds) && len(contention) > 1; r-- {
		rd := &rounds[r-1]
		var best int64
		for i, n := range contention {
			v, _ := rd.TallyOf(n)
			if i == 0 || (electing && v.Units > best) || (!electing && v.Units < best) {
				best = v.Units
			}
		}
		var next []string
		for _, n := range contention {
			if v, _ := rd.TallyOf(n); v.Units == best {
				next = append(next, n)
			}
		}
		if len(next) == 1 && next[0] == tb.Selected {
			var others []string
			for _, n := range contention {
				if n != tb.Selected {
					v, _ := rd.TallyOf(n)
					others = append(others, fmt.Sprintf("%s for %s", v, n))
				}
			}
			v, _ := rd.TallyOf(tb.Selected)
			more := "fewer"
			if electing {
				more = "more"
			}
			return s + fmt.Sprintf(" The rules look back at earlier rounds: in round %d %s had %s votes (%s, against %s), so was %s.",
				r, tb.Selected, more, v, runoff.JoinAnd(others), outcome)
		}
		contention = next
	}
	return s + " " + decided(contention, fmt.Sprintf("The rules look back at earlier rounds, but %s were level in each of them, so", runoff.JoinAnd(contention)))
}

// smithAndCycle finds, when no one beats everyone head to head, the Smith
// set (those who beat or tie, directly or through others, everyone) and
// the shortest circle of strict defeats among them.
func smithAndCycle(names []string, wins [][]int64) (smith, cycle []string) {
	k := len(names)
	reach := make([][]bool, k) // reach[i][j]: i beats or ties j, directly or through others
	for i := range k {
		reach[i] = make([]bool, k)
		for j := range k {
			reach[i][j] = i == j || wins[i][j] >= wins[j][i]
		}
	}
	for m := range k {
		for i := range k {
			if reach[i][m] {
				for j := range k {
					reach[i][j] = reach[i][j] || reach[m][j]
				}
			}
		}
	}
	in := make([]bool, k)
	for i := range k {
		in[i] = !slices.Contains(reach[i], false)
		if in[i] {
			smith = append(smith, names[i])
		}
	}
	// The shortest circle of strict defeats within the Smith set, by a
	// breadth-first search from each member back to itself.
	var best []int
	for s := range k {
		if !in[s] {
			continue
		}
		prev := make([]int, k)
		for i := range prev {
			prev[i] = -1
		}
		queue := []int{s}
		seen := make([]bool, k)
		seen[s] = true
	search:
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			for v := range k {
				if !in[v] || wins[u][v] <= wins[v][u] {
					continue
				}
				if v == s {
					path := []int{}
					for x := u; x != -1; x = prev[x] {
						path = append(path, x)
					}
					slices.Reverse(path)
					if best == nil || len(path) < len(best) {
						best = path
					}
					break search
				}
				if !seen[v] {
					seen[v], prev[v] = true, u
					queue = append(queue, v)
				}
			}
		}
	}
	for _, i := range best {
		cycle = append(cycle, names[i])
	}
	return smith, cycle
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
