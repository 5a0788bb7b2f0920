package views

import (
	"strings"
	"testing"

	"github.com/runoff-vote/runoff"
)

func cand(name, votes string, share float64, status string) runoff.CandidateRound {
	return runoff.CandidateRound{Name: name, Votes: votes, Share: share, Status: status}
}

// scientists is a four-round instant runoff: Dijkstra out in round 1 (5
// of his 6 votes to Turing, 1 exhausted), Hopper in round 2, Lovelace
// elected in round 3 with 16 of 29.
func scientists() runoff.Results {
	return runoff.Results{Mode: runoff.WinnerIRV, Seats: 1, Winners: []string{"Ada Lovelace"}, Ballots: 30,
		Candidates: []string{"Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"},
		Rounds: []runoff.ResultRound{
			{Number: 1, Threshold: "16", Continuing: "30", ThresholdRule: "More than half of the 30 votes still counting in this round.",
				Eliminated: []string{"Edsger Dijkstra"}, Inactive: runoff.Inactive{Total: "0"},
				Tally: []runoff.CandidateRound{cand("Ada Lovelace", "10", 33.3, "continuing"), cand("Alan Turing", "7", 23.3, "continuing"),
					cand("Grace Hopper", "7", 23.3, "continuing"), cand("Edsger Dijkstra", "6", 20, "eliminated")},
				Transfers: []runoff.TransferGroup{{From: "Edsger Dijkstra", Why: "eliminated", To: []runoff.VoteAmount{{Name: "Alan Turing", Votes: "5"}}, Exhausted: "1"}}},
			{Number: 2, Threshold: "15", Continuing: "29", ThresholdRule: "More than half of the 29 votes still counting in this round.",
				ThresholdChange: "Lower than round 1's 16 because 1 ballot stopped counting when every candidate they ranked was out: 29 votes are still counting, against 30 then.",
				Eliminated:      []string{"Grace Hopper"}, Inactive: runoff.Inactive{Total: "1"},
				Tally: []runoff.CandidateRound{cand("Ada Lovelace", "10", 34.5, "continuing"), cand("Alan Turing", "12", 41.4, "continuing"),
					cand("Grace Hopper", "7", 24.1, "eliminated"), cand("Edsger Dijkstra", "", 0, "out")},
				Transfers: []runoff.TransferGroup{{From: "Grace Hopper", Why: "eliminated", To: []runoff.VoteAmount{{Name: "Ada Lovelace", Votes: "6"}, {Name: "Alan Turing", Votes: "1"}}}}},
			{Number: 3, Threshold: "15", Continuing: "29", ThresholdRule: "More than half of the 29 votes still counting in this round.",
				Elected: []string{"Ada Lovelace"}, Inactive: runoff.Inactive{Total: "1"},
				Tally: []runoff.CandidateRound{cand("Ada Lovelace", "16", 55.2, "elected"), cand("Alan Turing", "13", 44.8, "continuing"),
					cand("Grace Hopper", "", 0, "out"), cand("Edsger Dijkstra", "", 0, "out")}},
		},
		Pairwise: &runoff.Pairwise{Candidates: []string{"Ada Lovelace", "Alan Turing"}, Wins: [][]int64{{0, 16}, {13, 0}}, CondorcetWinner: "Ada Lovelace"},
	}
}

func TestBanner(t *testing.T) {
	m := scientists()
	for _, tc := range []struct {
		m    runoff.Results
		open bool
		want string
	}{
		{m, false, "Ada Lovelace wins with 16 of 29 votes still counting, after 3 rounds."},
		{m, true, "Ada Lovelace is leading with 16 of 29 votes still counting, after 3 rounds."},
		{runoff.Results{Seats: 1, Winners: []string{"Ada"}, Rounds: []runoff.ResultRound{{Number: 1, Continuing: "1",
			Tally: []runoff.CandidateRound{cand("Ada", "1", 100, "elected")}}}}, false, "Ada wins in the first round, with 1 of 1 vote."},
		{runoff.Results{Seats: 2, Winners: []string{"Ada", "Grace"}, Rounds: []runoff.ResultRound{{Number: 1}, {Number: 2}}}, false, "Ada and Grace win the 2 seats, after 2 rounds."},
		{runoff.Results{Seats: 2, Winners: []string{"Ada", "Grace"}, Rounds: []runoff.ResultRound{{Number: 1}}}, true, "Ada and Grace are leading for the 2 seats, after 1 round."},
		{runoff.Results{Seats: 3, Winners: []string{"Ada"}, Rounds: []runoff.ResultRound{{Number: 1}}}, false, "Elected so far: Ada (1 of 3 seats)."},
		{runoff.Results{Seats: 1, Rounds: []runoff.ResultRound{{Number: 1}}}, false, ""},
		{runoff.Results{Seats: 1, Winners: []string{"A"}}, true, "A is leading."},
		{runoff.Results{Seats: 2, Winners: []string{"A", "B"}}, false, "A and B win."},
	} {
		if got := Banner(tc.m, tc.open); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func TestRoundSentences(t *testing.T) {
	steps := resultSteps(scientists())
	for i, want := range []string{
		"Edsger Dijkstra had the fewest votes and was eliminated; 5 of those 6 votes went to Alan Turing and 1 had no further choice.",
		"Grace Hopper had the fewest votes and was eliminated; 6 of those 7 votes went to Ada Lovelace and 1 to Alan Turing.",
		"Ada Lovelace had more than half of the votes still counting (16 of 29) and won.",
	} {
		if got := RoundSentence(steps[i], false); got != want {
			t.Errorf("round %d:\ngot  %q\nwant %q", i+1, got, want)
		}
	}
	if got := RoundSentence(steps[2], true); !strings.HasSuffix(got, "and leads.") {
		t.Errorf("while open: %q", got)
	}
}

func TestMovedWords(t *testing.T) {
	for _, tc := range []struct {
		g    runoff.TransferGroup
		want string
	}{
		{runoff.TransferGroup{To: []runoff.VoteAmount{{Name: "Ada", Votes: "1"}}}, "the 1 vote went to Ada"},
		{runoff.TransferGroup{Exhausted: "1"}, "the 1 vote had no further choice"},
		{runoff.TransferGroup{To: []runoff.VoteAmount{{Name: "Ada", Votes: "6"}}}, "all 6 went to Ada"},
		{runoff.TransferGroup{To: []runoff.VoteAmount{{Name: "Ada", Votes: "2.5"}, {Name: "Bo", Votes: "0"}}, Exhausted: "0.5"}, "2.5 of those 3 votes went to Ada and 0.5 had no further choice"},
		{runoff.TransferGroup{To: []runoff.VoteAmount{{Name: "Cy", Votes: "0.75"}, {Name: "Bo", Votes: "2.25"}}}, "2.25 of those 3 votes went to Bo and 0.75 to Cy"},
		{runoff.TransferGroup{To: []runoff.VoteAmount{{Name: "Ada", Votes: "0"}}}, ""},
	} {
		if got := movedWords(tc.g); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// A tie for the fewest is told as a tie; a surplus as a surplus; several
// eliminated at once, each with where their votes went.
func TestRoundSentenceTiesSurplusesAndGroups(t *testing.T) {
	st := ResultStep{Index: 1, Label: "Round 1", Round: runoff.ResultRound{Number: 1, Threshold: "4", ThresholdRule: "The Droop quota: …",
		Elected: []string{"Ada"}, Eliminated: []string{"Cy"},
		Tally: []runoff.CandidateRound{cand("Ada", "6", 50, "elected"), cand("Bo", "3", 25, "continuing"), cand("Cy", "3", 25, "eliminated")},
		Transfers: []runoff.TransferGroup{{From: "Ada", Why: "elected", To: []runoff.VoteAmount{{Name: "Bo", Votes: "2"}}},
			{From: "Cy", Why: "eliminated", Exhausted: "3"}}},
		TieBreaks: []runoff.TieBreak{{Round: 1, Tied: []string{"Bo", "Cy"}, Chosen: "Cy", Outcome: "eliminated"}}}
	want := "Ada reached the 4 votes needed with 6 and was elected; the surplus moved on: all 2 went to Bo. " +
		"Cy tied with Bo for the fewest votes, lost the tie-break and was eliminated; all 3 had no further choice."
	if got := RoundSentence(st, false); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	st = ResultStep{Round: runoff.ResultRound{Eliminated: []string{"Bo", "Cy"},
		Tally:     []runoff.CandidateRound{cand("Bo", "0", 0, "eliminated"), cand("Cy", "1", 10, "eliminated")},
		Transfers: []runoff.TransferGroup{{From: "Cy", Why: "eliminated", To: []runoff.VoteAmount{{Name: "Ada", Votes: "1"}}}}}}
	if got, want := RoundSentence(st, false), "Bo and Cy had the fewest votes and were eliminated; Cy's votes: the 1 vote went to Ada."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := RoundSentence(ResultStep{Last: true}, false); !strings.Contains(got, "No one was elected or eliminated") {
		t.Errorf("empty round: %q", got)
	}
	// The last seats filled by the last candidates, short of the quota;
	// then a round that only shows the winners.
	st = ResultStep{Round: runoff.ResultRound{Threshold: "5", Elected: []string{"Cy"}, Tally: []runoff.CandidateRound{cand("Cy", "4.75", 48.7, "elected")}}}
	if got, want := RoundSentence(st, false), "Cy was elected with 4.75 votes, short of the 5 needed, because no more candidates were left than seats to fill."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	st = ResultStep{Last: true, Round: runoff.ResultRound{Tally: []runoff.CandidateRound{cand("Ada", "5", 51, "won"), cand("Cy", "4.75", 49, "won")}}}
	if got := RoundSentence(st, false); got != "Every seat is filled: this is the final tally." {
		t.Errorf("final tally: %q", got)
	}
}

func TestThresholdAndPairwiseWords(t *testing.T) {
	rd := scientists().Rounds[1]
	if got, want := ThresholdWords(rd), "15 votes needed to win. More than half of the 29 votes still counting in this round. Lower than round 1's 16 because 1 ballot stopped counting"; !strings.HasPrefix(got, want) {
		t.Errorf("got  %q\nwant %q…", got, want)
	}
	if got := PairwiseWords(scientists().Pairwise); got != "Ada Lovelace beats every other candidate head to head: the Condorcet winner." {
		t.Errorf("condorcet: %q", got)
	}
	cycle := &runoff.Pairwise{Candidates: []string{"A", "B", "C"}, Cycle: []string{"A", "B", "C"}, Smith: []string{"A", "B", "C"}}
	if got, want := PairwiseWords(cycle), "No candidate beats every other head to head: A beats B, B beats C and C beats A, a circle with no Condorcet winner."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	p := &runoff.Pairwise{Candidates: []string{"A", "B", "C"}, Wins: [][]int64{{0, 4, 6}, {4, 0, 7}, {2, 1, 0}}}
	if got := strings.Join(PairLines(p), "; "); got != "A is level with B, 4 to 4; A beats C, 6 to 2; B beats C, 7 to 1" {
		t.Errorf("pairs: %q", got)
	}
}

func TestHowItWorksPerMethod(t *testing.T) {
	for _, mode := range []string{runoff.WinnerIRV, runoff.WinnerSTV, runoff.WinnerBottomsUp, runoff.WinnerSequential} {
		got := HowItWorks(runoff.Results{Mode: mode, Seats: 3})
		if n := strings.Count(got, ". "); n != 1 || !strings.HasSuffix(got, ".") {
			t.Errorf("%s: not two sentences: %q", mode, got)
		}
	}
}

// Sequential instant runoff's passes step as one list, labelled by seat.
func TestStepsAcrossPasses(t *testing.T) {
	pass := func(winner string) runoff.Results {
		return runoff.Results{Seats: 1, Winners: []string{winner}, Rounds: []runoff.ResultRound{{Number: 1, Continuing: "9",
			Tally: []runoff.CandidateRound{cand(winner, "5", 55, "elected")}}},
			TieBreaks: []runoff.TieBreak{{Round: 1, Chosen: "X"}}}
	}
	m := runoff.Results{Seats: 2, Mode: runoff.WinnerSequential, Winners: []string{"Ada", "Bo"}, Passes: []runoff.Results{pass("Ada"), pass("Bo")}}
	steps := resultSteps(m)
	if len(steps) != 2 || steps[1].Label != "Seat 2, round 1" || steps[1].Index != 2 || len(steps[1].TieBreaks) != 1 || !steps[1].Last {
		t.Fatalf("steps %+v", steps)
	}
	if got := Banner(m, false); got != "Ada and Bo win the 2 seats, one count per seat." {
		t.Errorf("banner %q", got)
	}
	if got := WinnerLines(m); len(got) != 2 || got[1] != "Bo: elected in seat 2, round 1 with 5 votes." {
		t.Errorf("winner lines %q", got)
	}
}
