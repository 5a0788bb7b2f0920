package rcv

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func tennessee() (Rules, []Ballot) {
	r := DefaultRules()
	r.Candidates = []string{"Memphis", "Nashville", "Chattanooga", "Knoxville"}
	const M, N, C, K = 0, 1, 2, 3
	return r, []Ballot{
		Ranking(42, M, N, C, K),
		Ranking(26, N, C, K, M),
		Ranking(15, C, K, N, M),
		Ranking(17, K, C, N, M),
	}
}

func TestTennessee(t *testing.T) {
	rules, ballots := tennessee()
	res, err := Tabulate(rules, ballots)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Winners, []string{"Knoxville"}) {
		t.Fatalf("winners = %v, want Knoxville", res.Winners)
	}
	want := []struct {
		tally      map[string]string
		threshold  string
		eliminated []string
		elected    []string
	}{
		{map[string]string{"Memphis": "42", "Nashville": "26", "Chattanooga": "15", "Knoxville": "17"}, "51", []string{"Chattanooga"}, nil},
		{map[string]string{"Memphis": "42", "Nashville": "26", "Knoxville": "32"}, "51", []string{"Nashville"}, nil},
		{map[string]string{"Memphis": "42", "Knoxville": "58"}, "51", nil, []string{"Knoxville"}},
	}
	if len(res.Rounds) != len(want) {
		t.Fatalf("rounds = %d, want %d", len(res.Rounds), len(want))
	}
	for i, w := range want {
		rd := res.Rounds[i]
		for name, v := range w.tally {
			got, ok := rd.TallyOf(name)
			if !ok || got.String() != v {
				t.Errorf("round %d %s = %v, want %s", i+1, name, got, v)
			}
		}
		if len(rd.Tally) != len(w.tally) {
			t.Errorf("round %d has %d candidates, want %d", i+1, len(rd.Tally), len(w.tally))
		}
		if rd.Threshold.String() != w.threshold {
			t.Errorf("round %d threshold = %s, want %s", i+1, rd.Threshold, w.threshold)
		}
		if !slices.Equal(rd.Eliminated, append([]string{}, w.eliminated...)) || !slices.Equal(rd.Elected, append([]string{}, w.elected...)) {
			t.Errorf("round %d: elected %v eliminated %v, want %v %v", i+1, rd.Elected, rd.Eliminated, w.elected, w.eliminated)
		}
	}
	// Chattanooga's 15 go to Knoxville.
	if tr := res.Rounds[0].Transfers; len(tr) != 1 || tr[0].To != "Knoxville" || tr[0].Votes.String() != "15" {
		t.Errorf("round 1 transfers = %+v", tr)
	}
	// Nashville beats everyone head to head, though IRV elects Knoxville.
	if res.Pairwise.CondorcetWinner != "Nashville" {
		t.Errorf("Condorcet winner = %q, want Nashville", res.Pairwise.CondorcetWinner)
	}
	if got := res.Pairwise.Wins[1][0]; got != 58 { // Nashville over Memphis
		t.Errorf("Nashville over Memphis = %d, want 58", got)
	}
}

func TestSTVFractionalSurplus(t *testing.T) {
	// Two seats, 100 ballots: threshold floor(100/3)+1 = 34. A's surplus of
	// 26 of 60 (fraction 0.4333) moves to B and C by second choice.
	r := DefaultRules()
	r.WinnerElectionMode = MultiWinnerAllowMultipleWinnersPerRound
	r.NumberOfWinners = 2
	r.TiebreakMode = TiebreakUseCandidateOrder
	r.Candidates = []string{"A", "B", "C", "D"}
	res, err := Tabulate(r, []Ballot{Ranking(30, 0, 1), Ranking(30, 0, 2), Ranking(25, 3), Ranking(15, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rd := res.Rounds[1]
	if v, _ := rd.TallyOf("B"); v.String() != "27.9990" && v.String() != "27.999" {
		t.Errorf("round 2 B = %s, want 27.999 (15 + 30 × 0.4333)", v)
	}
	if v, _ := rd.TallyOf("A"); v.String() != "34" {
		t.Errorf("round 2 A = %s, want the threshold 34", v)
	}
	checkConservation(t, res)
}

func TestAskTieAndResume(t *testing.T) {
	r := DefaultRules()
	r.TiebreakMode = TiebreakStopCountingAndAsk
	r.Candidates = []string{"A", "B", "C"}
	ballots := []Ballot{Ranking(1, 0), Ranking(1, 1), Ranking(2, 2)}
	res, err := Tabulate(r, ballots)
	var tie *TieNeedsDecision
	if !errors.As(err, &tie) {
		t.Fatalf("want *TieNeedsDecision, got %v", err)
	}
	if tie.Round != 1 || tie.Kind != TieElimination || !slices.Equal(tie.Candidates, []string{"A", "B"}) {
		t.Fatalf("tie = %+v", tie)
	}
	if res == nil || len(res.Rounds) != 1 {
		t.Fatalf("want the partial result with round 1, got %+v", res)
	}
	r.TieDecisions = []TieDecision{tie.Decision("B")}
	res, err = Tabulate(r, ballots)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rounds[0].Eliminated; !slices.Equal(got, []string{"B"}) {
		t.Fatalf("eliminated %v, want B", got)
	}
	if len(res.TieBreaks) != 1 || res.TieBreaks[0].Selected != "B" || res.TieBreaks[0].Rule != TiebreakStopCountingAndAsk {
		t.Fatalf("tie breaks = %+v", res.TieBreaks)
	}
}

func TestPreviousRoundCountsThenCandidateOrder(t *testing.T) {
	r := DefaultRules()
	r.Candidates = []string{"A", "B", "C"}
	// A and B tie with 2; no earlier round, so the later-listed B goes.
	res, err := Tabulate(r, []Ballot{Ranking(2, 0), Ranking(2, 1), Ranking(3, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Rounds[0].Eliminated, []string{"B"}) {
		t.Fatalf("eliminated %v, want B", res.Rounds[0].Eliminated)
	}
	if res.TieBreaks[0].Rule != TiebreakPreviousRoundCountsThenCandidateOrder {
		t.Fatalf("rule = %q", res.TieBreaks[0].Rule)
	}
}

func TestJavaRandom(t *testing.T) {
	r := newJavaRandom(0)
	if got := r.next(32); got != -1155484576 { // new Random(0).nextInt()
		t.Fatalf("next(32) = %d", got)
	}
	if got := newJavaRandom(0).nextDouble(); fmt.Sprintf("%.15f", got) != "0.730967787376657" {
		t.Fatalf("nextDouble = %.15f", got)
	}
}

func TestVotesString(t *testing.T) {
	for _, c := range []struct {
		v    Votes
		want string
	}{{Votes{148660000, 4}, "14866"}, {Votes{72501, 4}, "7.2501"}, {Votes{5, 4}, "0.0005"}, {Votes{0, 4}, "0"}, {Votes{-15, 1}, "-1.5"}, {Votes{7, 0}, "7"}} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%+v = %q, want %q", c.v, got, c.want)
		}
		var back Votes
		if err := back.UnmarshalText([]byte(c.want)); err != nil || back.String() != c.want {
			t.Errorf("round trip %q: %v %v", c.want, back, err)
		}
	}
}

func TestParseRulesLenient(t *testing.T) {
	r, err := ParseRules(strings.NewReader(`{"winnerElectionMode":"multiWinnerAllowMultipleWinnersPerRound",
		"numberOfWinners":"3","maxSkippedRanksAllowed":"unlimited","maxRankingsAllowed":"max",
		"decimalPlacesForVoteArithmetic":6,"minimumVoteThreshold":"","randomSeed":"",
		"stopTabulationEarlyAfterRound":"","candidates":["A","B"],
		"undeclaredWriteIn":{"enabled":true,"name":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.NumberOfWinners != 3 || r.MaxSkippedRanksAllowed != Unlimited || r.MaxRankingsAllowed != Unlimited ||
		r.DecimalPlacesForVoteArithmetic != 6 || !r.UndeclaredWriteIn.Enabled {
		t.Fatalf("parsed %+v", r)
	}
	if _, err := ParseRules(strings.NewReader(`{"numberOfWinners":"three"}`)); err == nil {
		t.Fatal("want an error for a non-numeric numberOfWinners")
	}
}

func TestReadCSVErrorsAndForms(t *testing.T) {
	r := DefaultRules()
	r.Candidates = []string{"A", "B, Jr.", "C"}
	c, err := ReadCSV(strings.NewReader("rank1,rank2,rank3\r\nA,\"B, Jr.\",C\r\n,,\r\nA|C,overvote,\r\nA,\"B, Jr.\",C\r\n"), &r)
	if err != nil {
		t.Fatal(err)
	}
	if c.TotalBallots() != 4 || c.NumDistinct() != 2 {
		t.Fatalf("total %d distinct %d", c.TotalBallots(), c.NumDistinct())
	}
	bs := c.Ballots()
	if bs[0].Count != 2 || !slices.Equal(bs[1].Ranks[0], []int{0, 2}) || bs[1].Ranks[1][0] != Overvote {
		t.Fatalf("ballots %+v", bs)
	}
	_, err = ReadCSV(strings.NewReader("rank1,rank2\nA,B\nA,Nobody\n"), &Rules{Candidates: []string{"A", "B"}})
	var ce *CSVError
	if !errors.As(err, &ce) || ce.Line != 3 || ce.Column != 2 {
		t.Fatalf("want a CSVError at line 3 column 2, got %v", err)
	}
}

// randomElection draws ballots and rules from a seeded generator.
func randomElection(r *rand.Rand) (Rules, []Ballot) {
	nc := 2 + r.IntN(7)
	rules := DefaultRules()
	rules.Candidates = genCandidates(nc)
	modes := []string{SingleWinnerMajority, SingleWinnerMajority, MultiWinnerAllowMultipleWinnersPerRound,
		MultiWinnerAllowOnlyOneWinnerPerRound, BottomsUp, MultiPassIRV}
	rules.WinnerElectionMode = modes[r.IntN(len(modes))]
	if rules.WinnerElectionMode != SingleWinnerMajority {
		rules.NumberOfWinners = 1 + r.IntN(nc)
	}
	rules.TiebreakMode = []string{TiebreakUseCandidateOrder, TiebreakRandom, TiebreakPreviousRoundCountsThenRandom,
		TiebreakGeneratePermutation, TiebreakPreviousRoundCountsThenCandidateOrder}[r.IntN(5)]
	rules.RandomSeed = r.Int64N(1000)
	rules.OvervoteRule = []string{OvervoteAlwaysSkipToNextRank, OvervoteExhaustImmediately, OvervoteExhaustIfMultipleContinuing}[r.IntN(3)]
	rules.MaxSkippedRanksAllowed = r.IntN(3) - 1
	rules.ExhaustOnDuplicateCandidate = r.IntN(2) == 0
	rules.BatchElimination = r.IntN(2) == 0
	rules.ContinueUntilTwoCandidatesRemain = rules.WinnerElectionMode == SingleWinnerMajority && r.IntN(3) == 0
	rules.DecimalPlacesForVoteArithmetic = 1 + r.IntN(6)
	rules.NonIntegerWinningThreshold = r.IntN(2) == 0
	rules.UndeclaredWriteIn.Enabled = r.IntN(3) == 0
	if r.IntN(4) == 0 {
		rules.ExcludedCandidates = []string{rules.Candidates[r.IntN(nc)]}
	}
	nb := 1 + r.IntN(40)
	ballots := make([]Ballot, nb)
	for i := range ballots {
		nr := r.IntN(nc + 2)
		b := Ballot{Count: 1 + int64(r.IntN(20)), Ranks: make([][]int, nr)}
		for k := range b.Ranks {
			switch x := r.IntN(20); {
			case x == 0:
				b.Ranks[k] = []int{}
			case x == 1:
				b.Ranks[k] = []int{Overvote}
			case x == 2:
				b.Ranks[k] = []int{r.IntN(nc), r.IntN(nc)}
			case x == 3:
				b.Ranks[k] = []int{WriteIn}
			default:
				b.Ranks[k] = []int{r.IntN(nc)}
			}
		}
		ballots[i] = b
	}
	return rules, ballots
}

// checkConservation: every round, continuing tallies + inactive + residual
// surplus + undervotes = all ballots.
func checkConservation(t *testing.T, res *Result) {
	t.Helper()
	if len(res.Passes) > 0 {
		for _, p := range res.Passes {
			checkConservation(t, p)
		}
		return
	}
	scale := pow10[res.Places]
	for _, rd := range res.Rounds {
		sum := rd.Inactive.Total() + rd.ResidualSurplus.Units + res.Undervotes*scale
		for _, cv := range rd.Tally {
			sum += cv.Votes.Units
		}
		if sum != res.TotalBallots*scale {
			t.Fatalf("round %d: tallies+inactive+residual = %s, want %d ballots", rd.Number, Votes{sum, res.Places}, res.TotalBallots)
		}
	}
}

func TestPropertyConservation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		rules, ballots := randomElection(r)
		res, err := Tabulate(rules, ballots)
		if err != nil {
			if strings.Contains(err.Error(), "minimum vote threshold") || strings.Contains(err.Error(), "no continuing") {
				continue
			}
			t.Fatalf("case %d: %v", i, err)
		}
		checkConservation(t, res)
	}
}

func TestPropertyOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 1000 {
		rules, ballots := randomElection(r)
		a, errA := Tabulate(rules, ballots)
		shuffled := slices.Clone(ballots)
		r.Shuffle(len(shuffled), func(x, y int) { shuffled[x], shuffled[y] = shuffled[y], shuffled[x] })
		b, errB := Tabulate(rules, shuffled)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("case %d: errors differ: %v / %v", i, errA, errB)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("case %d: result depends on ballot order", i)
		}
	}
}

func TestPropertyMajorityWinsRoundOne(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 1000 {
		nc := 2 + r.IntN(8)
		rules := DefaultRules()
		rules.Candidates = genCandidates(nc)
		rules.TiebreakMode = TiebreakRandom
		maj := r.IntN(nc)
		var ballots []Ballot
		var first, total int64
		for range 1 + r.IntN(30) {
			perm := r.Perm(nc)[:1+r.IntN(nc)]
			n := int64(1 + r.IntN(10))
			ballots = append(ballots, Ranking(n, perm...))
			total += n
			if perm[0] == maj {
				first += n
			}
		}
		if first*2 <= total { // top up to a strict majority
			extra := total - 2*first + 1
			ballots = append(ballots, Ranking(extra, maj))
		}
		res, err := Tabulate(rules, ballots)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rounds[0].Elected) != 1 || res.Rounds[0].Elected[0] != rules.Candidates[maj] || len(res.Rounds) != 1 {
			t.Fatalf("case %d: majority candidate %s not elected in round 1: %+v", i, rules.Candidates[maj], res.Rounds[0])
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"rank1,rank2\nA,B\n,\nB|A,overvote\n",
		"rank1\n\"A\"\"x\",\n\"unterminated\n",
		"rank1,rank2,rank3\r\nA,,C\r\n\r\n",
		"",
		"rank1\nA|\n",
		"rank1,rank2\n\"B, Jr.\",A\nZ,A\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules := DefaultRules()
		rules.CandidatesFromBallots = true
		rules.UndeclaredWriteIn.Enabled = len(data)%2 == 0
		c, err := ParseCSV(data, &rules)
		if err != nil {
			var ce *CSVError
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a *CSVError: %v", err)
			}
			return
		}
		if _, err := TabulateContest(rules, c); err != nil && !strings.Contains(err.Error(), "no continuing") {
			t.Fatalf("tabulate: %v", err)
		}
	})
}

func FuzzTabulate(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42, 1000} {
		f.Add(s, uint64(7))
	}
	f.Fuzz(func(t *testing.T, a, b uint64) {
		rules, ballots := randomElection(rand.New(rand.NewPCG(a, b)))
		res, err := Tabulate(rules, ballots)
		if err != nil {
			return
		}
		checkConservation(t, res)
	})
}

// pairwiseReference counts head-to-head preferences the plain way, from
// expanded ballots: a beats b when a's first mark is at an earlier rank than
// b's, or b is not ranked.
func pairwiseReference(rules Rules, ballots []Ballot) [][]int64 {
	excluded := map[string]bool{}
	for _, x := range rules.ExcludedCandidates {
		excluded[x] = true
	}
	var cands []int
	for i, n := range rules.Candidates {
		if !excluded[n] {
			cands = append(cands, i)
		}
	}
	maxRank := rules.MaxRankingsAllowed
	if maxRank <= 0 {
		maxRank = len(rules.Candidates)
	}
	wins := make([][]int64, len(cands))
	for i := range wins {
		wins[i] = make([]int64, len(cands))
	}
	for _, b := range ballots {
		first := map[int]int{}
		for r, marks := range b.Ranks {
			if r+1 > maxRank {
				break
			}
			for _, m := range marks {
				if _, ok := first[m]; !ok && m >= 0 {
					first[m] = r + 1
				}
			}
		}
		for i, ci := range cands {
			for j, cj := range cands {
				ri, iok := first[ci]
				rj, jok := first[cj]
				if i != j && iok && (!jok || ri < rj) {
					wins[i][j] += b.Count
				}
			}
		}
	}
	return wins
}

func TestPairwiseMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 200 {
		rules, ballots := randomElection(r)
		rules.WinnerElectionMode, rules.NumberOfWinners = SingleWinnerMajority, 1
		rules.MaxRankingsAllowed = r.IntN(4) // 0 = max
		if r.IntN(3) == 0 && len(rules.Candidates) > 2 {
			rules.ExcludedCandidates = []string{rules.Candidates[r.IntN(len(rules.Candidates))]}
		}
		// Known overvotes (marks level with each other) and repeated marks.
		for bi := range ballots {
			if len(ballots[bi].Ranks) > 1 && r.IntN(4) == 0 {
				k := r.IntN(len(ballots[bi].Ranks))
				ballots[bi].Ranks[k] = append(slices.Clone(ballots[bi].Ranks[k]), r.IntN(len(rules.Candidates)))
			}
		}
		res, err := Tabulate(rules, ballots)
		var tie *TieNeedsDecision
		if errors.As(err, &tie) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want := pairwiseReference(rules, ballots)
		if res.Pairwise == nil {
			t.Fatal("no pairwise matrix for a single-winner contest")
		}
		for i := range want {
			if !slices.Equal(res.Pairwise.Wins[i], want[i]) {
				t.Fatalf("row %d (%s): got %v, want %v", i, res.Pairwise.Candidates[i], res.Pairwise.Wins[i], want[i])
			}
		}
	}
}

// The engine resumes a ballot's scan at the rank it counted at; RCTab
// rescans from rank 1. The results must be identical.
func TestPropertyResumeEqualsRescanFromRankOne(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for range 500 {
		rules, ballots := randomElection(r)
		rules.ExhaustOnDuplicateCandidate = false // that rule always rescans from rank 1
		got, gotErr := Tabulate(rules, ballots)
		want, wantErr := tabulateBallots(rules, ballots, countOptions{rescanFromRankOne: true})
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("errors differ: %v vs %v", gotErr, wantErr)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		if string(a) != string(b) {
			t.Fatalf("resumed scan differs from rescan from rank 1 (rules %+v)\n%s\n%s", rules, a, b)
		}
	}
}

// cutoffElimination removes everyone below the round's threshold at once,
// as RCTab's doCutoffElimination; a candidate exactly at it stays.
func TestCutoffElimination(t *testing.T) {
	r := DefaultRules()
	r.WinnerElectionMode = BottomsUpUsingPercentageThreshold
	r.NumberOfWinners = 0
	r.MultiSeatBottomsUpPercentageThreshold = "30"
	r.TiebreakMode = TiebreakUseCandidateOrder
	r.Candidates = []string{"A", "B", "C", "D"}
	ballots := []Ballot{Ranking(40, 0), Ranking(30, 1), Ranking(20, 2, 1), Ranking(10, 3, 0)}
	for _, tc := range []struct {
		cutoff bool
		want   []string
	}{
		{false, []string{"D"}},
		{true, []string{"C", "D"}},
	} {
		r.CutoffElimination = tc.cutoff
		res, err := Tabulate(r, ballots)
		if err != nil {
			t.Fatal(err)
		}
		if got := sorted(res.Rounds[0].Eliminated); !slices.Equal(got, tc.want) {
			t.Errorf("cutoff %v: round 1 eliminated %q, want %q", tc.cutoff, got, tc.want)
		}
		checkConservation(t, res)
	}
}
