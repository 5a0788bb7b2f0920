package rcv

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

type expectedRound struct {
	Round      int                          `json:"round"`
	Threshold  string                       `json:"threshold"`
	Tally      map[string]string            `json:"tally"`
	Elected    []string                     `json:"elected"`
	Eliminated []string                     `json:"eliminated"`
	Transfers  map[string]map[string]string `json:"transfers"`
	Inactive   map[string]string            `json:"inactive"`
}

type expectedResult struct {
	TotalNumBallots string           `json:"totalNumBallots"`
	Undervotes      int64            `json:"undervotes"`
	Winners         []string         `json:"winners"`
	Rounds          []expectedRound  `json:"rounds"`
	MultiPass       bool             `json:"multiPass"`
	Passes          []expectedResult `json:"passes"`
}

func loadCase(t *testing.T, dir string) (Rules, *Contest) {
	t.Helper()
	rf, err := os.Open(filepath.Join(dir, "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	rules, err := ParseRules(rf)
	if err != nil {
		t.Fatalf("rules.json: %v", err)
	}
	bf, err := os.Open(filepath.Join(dir, "ballots.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	contest, err := ReadCSV(bf, &rules)
	if err != nil {
		t.Fatalf("ballots.csv: %v", err)
	}
	return rules, contest
}

// TestConformance counts every neutral-form case (see conformanceSources
// for where they come from) and compares it round by round with RCTab's.
func TestConformance(t *testing.T) {
	for _, src := range conformanceSources(t, packNeutral) {
		t.Run(src.label, func(t *testing.T) {
			for _, c := range src.cases {
				t.Run(c.name, func(t *testing.T) { runNeutralCase(t, c.dir) })
			}
		})
	}
}

func runNeutralCase(t *testing.T, dir string) {
	rules, contest := loadCase(t, dir)
	var want expectedResult
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	got, err := TabulateContest(rules, contest)
	if err != nil {
		t.Fatalf("tabulate: %v", err)
	}
	var diffs []string
	compareExpected(&diffs, got, &want)
	// The JSON report must carry the same numbers and parse back.
	checkReportRoundTrip(t, got)
	if len(diffs) > 0 {
		t.Errorf("%d differences from RCTab:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
}

// compareExpected compares a result with an expected.json, pass by pass for
// multi-pass IRV.
func compareExpected(diffs *[]string, got *Result, want *expectedResult) {
	if !want.MultiPass {
		compareResult(diffs, "", got, want)
		compareRounds(diffs, "", got, want)
		return
	}
	compareResult(diffs, "", got, &expectedResult{TotalNumBallots: want.TotalNumBallots, Undervotes: want.Undervotes, Winners: want.Winners})
	if len(got.Passes) != len(want.Passes) {
		*diffs = append(*diffs, fmt.Sprintf("passes: got %d, want %d", len(got.Passes), len(want.Passes)))
	}
	for i := range min(len(got.Passes), len(want.Passes)) {
		compareResult(diffs, fmt.Sprintf("pass %d: ", i+1), got.Passes[i], &want.Passes[i])
		compareRounds(diffs, fmt.Sprintf("pass %d: ", i+1), got.Passes[i], &want.Passes[i])
	}
}

func decEq(a, b string) bool {
	x, ok1 := new(big.Rat).SetString(strings.TrimSpace(a))
	y, ok2 := new(big.Rat).SetString(strings.TrimSpace(b))
	return ok1 && ok2 && x.Cmp(y) == 0
}

func compareResult(diffs *[]string, p string, got *Result, want *expectedResult) {
	if !decEq(fmt.Sprint(got.TotalBallots), want.TotalNumBallots) {
		*diffs = append(*diffs, fmt.Sprintf("%stotal ballots: got %d, want %s", p, got.TotalBallots, want.TotalNumBallots))
	}
	if got.Undervotes != want.Undervotes {
		*diffs = append(*diffs, fmt.Sprintf("%sundervotes: got %d, want %d", p, got.Undervotes, want.Undervotes))
	}
	if !slices.Equal(sorted(got.Winners), sorted(want.Winners)) {
		*diffs = append(*diffs, fmt.Sprintf("%swinners: got %q, want %q", p, got.Winners, want.Winners))
	}
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

func compareRounds(diffs *[]string, p string, got *Result, want *expectedResult) {
	add := func(format string, args ...any) { *diffs = append(*diffs, p+fmt.Sprintf(format, args...)) }
	if len(got.Rounds) != len(want.Rounds) {
		add("rounds: got %d, want %d", len(got.Rounds), len(want.Rounds))
	}
	for i := range min(len(got.Rounds), len(want.Rounds)) {
		g, w := got.Rounds[i], want.Rounds[i]
		rp := fmt.Sprintf("round %d: ", w.Round)
		if !decEq(g.Threshold.String(), w.Threshold) {
			add("%sthreshold: got %s, want %s", rp, g.Threshold, w.Threshold)
		}
		gt := map[string]string{}
		for _, cv := range g.Tally {
			gt[cv.Name] = cv.Votes.String()
		}
		compareMap(add, rp+"tally", gt, w.Tally)
		if !slices.Equal(sorted(g.Elected), sorted(w.Elected)) {
			add("%selected: got %q, want %q", rp, g.Elected, w.Elected)
		}
		if !slices.Equal(sorted(g.Eliminated), sorted(w.Eliminated)) {
			add("%seliminated: got %q, want %q", rp, g.Eliminated, w.Eliminated)
		}
		gtr := map[string]map[string]string{}
		for _, tr := range g.Transfers {
			if gtr[tr.From] == nil {
				gtr[tr.From] = map[string]string{}
			}
			gtr[tr.From][tr.To] = tr.Votes.String()
		}
		from := map[string]bool{}
		for k := range gtr {
			from[k] = true
		}
		for k := range w.Transfers {
			from[k] = true
		}
		for k := range from {
			compareMap(add, rp+"transfers from "+k, gtr[k], w.Transfers[k])
		}
		gi := map[string]string{
			"exhaustedChoices": g.Inactive.ExhaustedChoices.String(),
			"overvotes":        g.Inactive.Overvotes.String(),
			"repeatedRankings": g.Inactive.RepeatedRankings.String(),
			"skippedRankings":  g.Inactive.SkippedRankings.String(),
		}
		if g.Inactive.ShowFinalRoundSurplus {
			gi["finalRoundSurplus"] = g.Inactive.FinalRoundSurplus.String()
		}
		compareMap(add, rp+"inactive", gi, w.Inactive)
	}
}

func compareMap(add func(string, ...any), what string, got, want map[string]string) {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			add("%s[%s]: missing, want %s", what, k, w)
		case !wok:
			add("%s[%s]: got %s, not expected", what, k, g)
		case !decEq(g, w):
			add("%s[%s]: got %s, want %s", what, k, g, w)
		}
	}
}

func checkReportRoundTrip(t *testing.T, res *Result) {
	t.Helper()
	var sb strings.Builder
	if err := res.WriteJSON(&sb, ReportMeta{Contest: "c"}); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	if len(res.Passes) > 0 {
		var reps []Report
		if err := json.Unmarshal([]byte(sb.String()), &reps); err != nil {
			t.Fatalf("report does not parse back: %v", err)
		}
		if len(reps) != len(res.Passes) {
			t.Fatalf("report has %d passes, want %d", len(reps), len(res.Passes))
		}
		return
	}
	var rep Report
	if err := json.Unmarshal([]byte(sb.String()), &rep); err != nil {
		t.Fatalf("report does not parse back: %v", err)
	}
	if len(rep.Results) != len(res.Rounds) {
		t.Fatalf("report has %d rounds, want %d", len(rep.Results), len(res.Rounds))
	}
	for i, rd := range res.Rounds {
		for _, cv := range rd.Tally {
			if rep.Results[i].Tally[cv.Name] != cv.Votes.String() {
				t.Fatalf("report round %d tally %s = %q, want %s", i+1, cv.Name, rep.Results[i].Tally[cv.Name], cv.Votes)
			}
		}
	}
}
