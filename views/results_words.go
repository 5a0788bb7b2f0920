package views

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/runoff-vote/runoff"
)

// The results page tells the count as a story: these helpers put the
// stored results model into sentences. They only format: every figure
// comes from the model.

// ResultStep is one round as the page steps through it. Sequential
// instant runoff counts once per seat, so its rounds are numbered within
// each pass and labelled with the seat.
type ResultStep struct {
	Index     int    // 1-based over every step, for ?round=
	Label     string // "Round 2", or "Seat 1, round 2"
	Round     runoff.ResultRound
	TieBreaks []runoff.TieBreak // broken in this round
	Last      bool              // the last round of its count
}

// resultSteps flattens the model's rounds (or its passes' rounds).
func resultSteps(m runoff.Results) []ResultStep {
	passes := []runoff.Results{m}
	if len(m.Passes) > 0 {
		passes = m.Passes
	}
	var steps []ResultStep
	for p, pass := range passes {
		for i, rd := range pass.Rounds {
			st := ResultStep{Index: len(steps) + 1, Label: "Round " + strconv.Itoa(rd.Number), Round: rd, Last: i == len(pass.Rounds)-1}
			if len(passes) > 1 {
				st.Label = fmt.Sprintf("Seat %d, round %d", p+1, rd.Number)
			}
			for _, tb := range pass.TieBreaks {
				if tb.Round == rd.Number {
					st.TieBreaks = append(st.TieBreaks, tb)
				}
			}
			steps = append(steps, st)
		}
	}
	return steps
}

func plural(n, noun string) string { return runoff.Plural(n, noun) }

// rounds says "1 round", "4 rounds".
func rounds(n int) string { return plural(strconv.Itoa(n), "round") }

// electedIn finds the round a candidate was elected in, and their votes
// and the votes still counting then.
func electedIn(steps []ResultStep, name string) (st ResultStep, votes string, ok bool) {
	for _, s := range steps {
		for _, c := range s.Round.Tally {
			if c.Name == name && c.Status == runoff.CandidateElected {
				return s, c.Votes, true
			}
		}
	}
	return ResultStep{}, "", false
}

// Banner is the story's first line: who won (or leads while voting is
// open), with how many votes, after how many rounds. "" when the count
// has elected no one yet.
func Banner(m runoff.Results, open bool) string {
	steps := resultSteps(m)
	if len(m.Winners) == 0 {
		return ""
	}
	if len(steps) == 0 { // a model without its rounds: the names alone
		if open {
			return runoff.JoinAnd(m.Winners) + map[bool]string{true: " is", false: " are"}[len(m.Winners) == 1] + " leading."
		}
		return runoff.JoinAnd(m.Winners) + map[bool]string{true: " wins.", false: " win."}[len(m.Winners) == 1]
	}
	if m.Seats <= 1 && len(m.Winners) == 1 {
		w := m.Winners[0]
		st, votes, ok := electedIn(steps, w)
		verb := "wins"
		if open {
			verb = "is leading"
		}
		if !ok {
			return fmt.Sprintf("%s %s.", w, verb)
		}
		of := votes + " of " + plural(st.Round.Continuing, "vote")
		if st.Index == 1 {
			return fmt.Sprintf("%s %s in the first round, with %s.", w, verb, of)
		}
		return fmt.Sprintf("%s %s with %s still counting, after %s.", w, verb, of, rounds(st.Index))
	}
	after := "after " + rounds(len(steps))
	if len(m.Passes) > 0 {
		after = "one count per seat"
	}
	if len(m.Winners) < m.Seats {
		return fmt.Sprintf("Elected so far: %s (%d of %d seats).", runoff.JoinAnd(m.Winners), len(m.Winners), m.Seats)
	}
	if open {
		return fmt.Sprintf("%s are leading for the %d seats, %s.", runoff.JoinAnd(m.Winners), m.Seats, after)
	}
	return fmt.Sprintf("%s win the %d seats, %s.", runoff.JoinAnd(m.Winners), m.Seats, after)
}

// WinnerLines say, for several seats, when and with what each winner was
// elected.
func WinnerLines(m runoff.Results) []string {
	if m.Seats <= 1 {
		return nil
	}
	steps := resultSteps(m)
	var out []string
	for _, w := range m.Winners {
		if st, votes, ok := electedIn(steps, w); ok {
			line := fmt.Sprintf("%s: elected in %s with %s", w, lowerFirst(st.Label), plural(votes, "vote"))
			if st.Round.Threshold != "" {
				line += fmt.Sprintf(" (%s needed)", st.Round.Threshold)
			}
			out = append(out, line+".")
		}
	}
	return out
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// HowItWorks says in two sentences how this count works.
func HowItWorks(m runoff.Results) string {
	mode := m.Mode
	if mode == "" && m.Seats <= 1 {
		mode = runoff.WinnerIRV
	}
	switch mode {
	case runoff.WinnerIRV:
		return "Each ballot counts for its highest-ranked candidate still in the race. " +
			"If no one has more than half of those votes, the candidate with the fewest is eliminated and their ballots move to each voter's next choice, round after round, until someone does."
	case runoff.WinnerSTV:
		return fmt.Sprintf("Each ballot counts for its highest-ranked candidate still in the race, and a candidate who reaches the quota is elected, for %d seats. "+
			"Votes beyond the quota (the surplus) move on to their voters' next choices as fractions of a vote; when no one reaches the quota, the candidate with the fewest votes is eliminated and their ballots move on.", m.Seats)
	case runoff.WinnerBottomsUp:
		return fmt.Sprintf("Each ballot counts for its highest-ranked candidate still in the race. "+
			"Round after round the candidate with the fewest votes is eliminated and their ballots move to each voter's next choice, until only %d candidates remain: they win the %d seats.", m.Seats, m.Seats)
	case runoff.WinnerSequential:
		return fmt.Sprintf("One instant runoff for each of the %d seats: each ballot counts for its highest-ranked candidate still in the race, and the candidate with the fewest votes is eliminated until someone has more than half. "+
			"Each count after the first starts again from every ballot, without the candidates already elected.", m.Seats)
	}
	return "Each ballot counts for its highest-ranked candidate still in the race. Candidates are elected or eliminated round by round, by " + m.Method + "."
}

// RoundSentence says in one plain sentence what happened in a round: who
// was elected or eliminated and why, and where their votes went.
func RoundSentence(st ResultStep, open bool) string {
	rd := st.Round
	var parts []string
	for _, name := range rd.Elected {
		votes := votesOf(rd, name)
		s := fmt.Sprintf("%s reached the %s needed with %s and was elected", name, plural(rd.Threshold, "vote"), votes)
		if rd.Threshold != "" && num(votes) < num(rd.Threshold) {
			// The tabulator fills the last seats with the last candidates.
			s = fmt.Sprintf("%s was elected with %s, short of the %s needed, because no more candidates were left than seats to fill", name, plural(votes, "vote"), rd.Threshold)
		} else if strings.HasPrefix(rd.ThresholdRule, "More than half") {
			verb := "won"
			if open {
				verb = "leads"
			}
			s = fmt.Sprintf("%s had more than half of the votes still counting (%s of %s) and %s", name, votes, rd.Continuing, verb)
		}
		if g, ok := transferFrom(rd, name); ok {
			if moved := movedWords(g); moved != "" {
				s += "; the surplus moved on: " + moved
			}
		}
		parts = append(parts, s)
	}
	switch len(rd.Eliminated) {
	case 0:
	case 1:
		name := rd.Eliminated[0]
		why := "had the fewest votes"
		if votesOf(rd, name) == "0" {
			why = "had no votes"
		}
		for _, tb := range st.TieBreaks {
			if tb.Chosen == name && tb.Outcome == runoff.CandidateEliminated {
				why = fmt.Sprintf("tied with %s for the fewest votes, lost the tie-break", runoff.JoinAnd(others(tb.Tied, name)))
			}
		}
		s := fmt.Sprintf("%s %s and was eliminated", name, why)
		if g, ok := transferFrom(rd, name); ok {
			if moved := movedWords(g); moved != "" {
				s += "; " + moved
			}
		}
		parts = append(parts, s)
	default:
		s := fmt.Sprintf("%s had the fewest votes and were eliminated", runoff.JoinAnd(rd.Eliminated))
		var moves []string
		for _, name := range rd.Eliminated {
			if g, ok := transferFrom(rd, name); ok {
				if moved := movedWords(g); moved != "" {
					moves = append(moves, name+"'s votes: "+moved)
				}
			}
		}
		if len(moves) > 0 {
			s += "; " + strings.Join(moves, "; ")
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		if st.Last && allSeatsFilled(rd) {
			return "Every seat is filled: this is the final tally."
		}
		if st.Last {
			return "No one was elected or eliminated in this round; the count stops here."
		}
		return "No one was elected or eliminated in this round."
	}
	return upperFirst(strings.Join(parts, ". ")) + "."
}

// allSeatsFilled says whether a round only shows the winners: everyone
// still counted was elected earlier.
func allSeatsFilled(rd runoff.ResultRound) bool {
	won := 0
	for _, c := range rd.Tally {
		switch c.Status {
		case runoff.CandidateWon:
			won++
		case runoff.CandidateContinuing:
			return false
		}
	}
	return won > 0
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func others(names []string, not string) []string {
	var out []string
	for _, n := range names {
		if n != not {
			out = append(out, n)
		}
	}
	return out
}

func votesOf(rd runoff.ResultRound, name string) string {
	for _, c := range rd.Tally {
		if c.Name == name {
			return c.Votes
		}
	}
	return ""
}

func transferFrom(rd runoff.ResultRound, name string) (runoff.TransferGroup, bool) {
	for _, g := range rd.Transfers {
		if g.From == name {
			return g, true
		}
	}
	return runoff.TransferGroup{}, false
}

// movedWords says where a group of votes went: "5 of those 6 votes went
// to Alan Turing and 1 had no further choice", "all 6 went to Alan
// Turing", "the 1 vote had no further choice". "" when nothing moved.
func movedWords(g runoff.TransferGroup) string {
	var total float64
	var parts []string
	n := 0
	to := slices.Clone(g.To) // the most first
	slices.SortStableFunc(to, func(a, b runoff.VoteAmount) int { return cmp.Compare(num(b.Votes), num(a.Votes)) })
	for _, t := range to {
		if num(t.Votes) == 0 {
			continue
		}
		total += num(t.Votes)
		if n == 0 {
			parts = append(parts, t.Votes+" went to "+t.Name)
		} else {
			parts = append(parts, t.Votes+" to "+t.Name)
		}
		n++
	}
	if e := num(g.Exhausted); e > 0 {
		total += e
		parts = append(parts, g.Exhausted+" had no further choice")
	}
	if r := num(g.Residual); r > 0 {
		total += r
		parts = append(parts, g.Residual+" were lost to rounding")
	}
	if len(parts) == 0 {
		return ""
	}
	all := fmtNum(total)
	if len(parts) == 1 {
		if all == "1" {
			return "the 1 vote " + strings.TrimPrefix(parts[0], "1 ")
		}
		return "all " + all + " " + strings.TrimPrefix(parts[0], all+" ")
	}
	first := strings.SplitN(parts[0], " ", 2)
	parts[0] = first[0] + " of those " + plural(all, "vote") + " " + first[1]
	return runoff.JoinAnd(parts)
}

// num reads a vote count as the model writes it ("42", "12.5", "").
func num(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// ThresholdWords says how many votes win in a round, how that is worked
// out and, when it moved, why.
func ThresholdWords(rd runoff.ResultRound) string {
	s := plural(rd.Threshold, "vote") + " needed to win. " + rd.ThresholdRule
	if rd.ThresholdChange != "" {
		s += " " + rd.ThresholdChange
	}
	return s
}

// PairwiseWords sums up the head-to-head counts: the Condorcet winner, or
// the circle of defeats (or the level pairs) that leaves none.
func PairwiseWords(p *runoff.Pairwise) string {
	if p == nil || len(p.Candidates) < 2 {
		return ""
	}
	if p.CondorcetWinner != "" {
		return p.CondorcetWinner + " beats every other candidate head to head: the Condorcet winner."
	}
	if len(p.Cycle) > 1 {
		var beats []string
		for i, n := range p.Cycle {
			beats = append(beats, n+" beats "+p.Cycle[(i+1)%len(p.Cycle)])
		}
		return "No candidate beats every other head to head: " + runoff.JoinAnd(beats) + ", a circle with no Condorcet winner."
	}
	if len(p.Smith) > 1 {
		return "No candidate beats every other head to head: " + runoff.JoinAnd(p.Smith) + " are level with one another where it matters, so there is no Condorcet winner."
	}
	return "No candidate beats every other head to head, so there is no Condorcet winner."
}

// PairLines says each head-to-head contest in words, the winner first:
// "Ada Lovelace beats Alan Turing, 16 to 12". For a phone, where the
// matrix is too wide.
func PairLines(p *runoff.Pairwise) []string {
	var out []string
	for i := range p.Candidates {
		for j := i + 1; j < len(p.Candidates); j++ {
			a, b := i, j
			if p.Wins[j][i] > p.Wins[i][j] {
				a, b = j, i
			}
			verb := "beats"
			if p.Wins[a][b] == p.Wins[b][a] {
				verb = "is level with"
			}
			out = append(out, fmt.Sprintf("%s %s %s, %d to %d", p.Candidates[a], verb, p.Candidates[b], p.Wins[a][b], p.Wins[b][a]))
		}
	}
	return out
}
