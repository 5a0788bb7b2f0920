package rcv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestConformanceNative counts every native case (RCTab's own contest
// config and CVR files in the vendors' formats; see conformanceSources) the
// way "runoff tabulate --config" does — read the config, read the CVRs,
// tabulate, write the RCTab report — and compares the report round by round
// with RCTab's expected detailed report(s).
func TestConformanceNative(t *testing.T) {
	for _, src := range conformanceSources(t, packNative) {
		t.Run(src.label, func(t *testing.T) {
			for _, c := range src.cases {
				t.Run(c.name, func(t *testing.T) { runNativeCase(t, c.dir) })
			}
		})
	}
}

func runNativeCase(t *testing.T, dir string) {
	name := filepath.Base(dir)
	cfg, err := ReadContestConfig(filepath.Join(dir, name+"_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	contest, err := cfg.ReadCVRs()
	if err != nil {
		t.Fatal(err)
	}
	res, err := TabulateContest(cfg.Rules, contest)
	if err != nil {
		t.Fatalf("tabulate: %v", err)
	}
	var out bytes.Buffer
	meta := ReportMeta{Contest: cfg.Meta.Contest, Date: cfg.Meta.Date, Jurisdiction: cfg.Meta.Jurisdiction, Office: cfg.Meta.Office}
	if err := res.WriteJSON(&out, meta); err != nil {
		t.Fatal(err)
	}
	var got []Report
	if res.Mode == MultiPassIRV {
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("our report: %v", err)
		}
	} else {
		var one Report
		if err := json.Unmarshal(out.Bytes(), &one); err != nil {
			t.Fatalf("our report: %v", err)
		}
		got = []Report{one}
	}
	want := expectedReports(t, dir, name)
	var diffs []string
	if len(got) != len(want) {
		diffs = append(diffs, fmt.Sprintf("reports (passes): got %d, want %d", len(got), len(want)))
	}
	for i := range min(len(got), len(want)) {
		p := ""
		if len(want) > 1 {
			p = fmt.Sprintf("pass %d: ", i+1)
		}
		compareReports(&diffs, p, &got[i], &want[i])
	}
	if len(diffs) > 0 {
		t.Errorf("%d differences from RCTab:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
}

// expectedReports reads NAME_expected_detailed_report.json, or
// NAME_1_expected_detailed_report.json, _2_, … for a sequential contest.
func expectedReports(t *testing.T, dir, name string) []Report {
	t.Helper()
	paths := []string{filepath.Join(dir, name+"_expected_detailed_report.json")}
	if _, err := os.Stat(paths[0]); err != nil {
		paths = paths[:0]
		for i := 1; ; i++ {
			p := filepath.Join(dir, fmt.Sprintf("%s_%d_expected_detailed_report.json", name, i))
			if _, err := os.Stat(p); err != nil {
				break
			}
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		t.Fatalf("no expected detailed report in %s", dir)
	}
	var out []Report
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, r)
	}
	return out
}

// compareReports compares two RCTab detailed reports as decimals: the
// summary, then each round's threshold, tally, elected, eliminated,
// transfers and inactive ballots.
func compareReports(diffs *[]string, p string, got, want *Report) {
	add := func(format string, args ...any) { *diffs = append(*diffs, p+fmt.Sprintf(format, args...)) }
	gs, ws := got.Summary, want.Summary
	if !decEq(gs.TotalNumBallots, ws.TotalNumBallots) {
		add("totalNumBallots: got %s, want %s", gs.TotalNumBallots, ws.TotalNumBallots)
	}
	if gs.Undervotes != ws.Undervotes {
		add("undervotes: got %d, want %d", gs.Undervotes, ws.Undervotes)
	}
	if gs.NumWinners != ws.NumWinners {
		add("numWinners: got %d, want %d", gs.NumWinners, ws.NumWinners)
	}
	if gs.NumCandidates != ws.NumCandidates {
		add("numCandidates: got %d, want %d", gs.NumCandidates, ws.NumCandidates)
	}
	if !decEq(gs.FinalThreshold, ws.FinalThreshold) {
		add("finalThreshold: got %s, want %s", gs.FinalThreshold, ws.FinalThreshold)
	}
	if len(got.Results) != len(want.Results) {
		add("rounds: got %d, want %d", len(got.Results), len(want.Results))
	}
	for i := range min(len(got.Results), len(want.Results)) {
		g, w := got.Results[i], want.Results[i]
		rp := fmt.Sprintf("round %d: ", w.Round)
		if !decEq(g.Threshold, w.Threshold) {
			add("%sthreshold: got %s, want %s", rp, g.Threshold, w.Threshold)
		}
		compareMap(add, rp+"tally", g.Tally, w.Tally)
		ge, gx, gt := tallyResults(g)
		we, wx, wt := tallyResults(w)
		if !slices.Equal(ge, we) {
			add("%selected: got %q, want %q", rp, ge, we)
		}
		if !slices.Equal(gx, wx) {
			add("%seliminated: got %q, want %q", rp, gx, wx)
		}
		from := map[string]bool{}
		for k := range gt {
			from[k] = true
		}
		for k := range wt {
			from[k] = true
		}
		for k := range from {
			compareMap(add, rp+"transfers from "+k, gt[k], wt[k])
		}
		compareMap(add, rp+"inactive", inactiveMap(g.InactiveBallots), inactiveMap(w.InactiveBallots))
	}
}

func tallyResults(r ReportRound) (elected, eliminated []string, transfers map[string]map[string]string) {
	transfers = map[string]map[string]string{}
	for _, tr := range r.TallyResults {
		who := tr.Elected
		if who != "" {
			elected = append(elected, who)
		} else {
			who = tr.Eliminated
			eliminated = append(eliminated, who)
		}
		if len(tr.Transfers) > 0 {
			transfers[who] = tr.Transfers
		}
	}
	slices.Sort(elected)
	slices.Sort(eliminated)
	return elected, eliminated, transfers
}

func inactiveMap(in ReportInactive) map[string]string {
	m := map[string]string{
		"exhaustedChoices": in.ExhaustedChoices,
		"overvotes":        in.Overvotes,
		"repeatedRankings": in.RepeatedRankings,
		"skippedRankings":  in.SkippedRankings,
	}
	if in.FinalRoundSurplus != "" {
		m["finalRoundSurplus"] = in.FinalRoundSurplus
	}
	return m
}
