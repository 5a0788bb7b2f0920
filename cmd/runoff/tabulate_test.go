package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runoff-vote/runoff/rcv"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Tennessee capital: Knoxville wins in round 3.
var tennessee = "rank1,rank2,rank3,rank4\n" +
	strings.Repeat("Memphis,Nashville,Chattanooga,Knoxville\n", 42) +
	strings.Repeat("Nashville,Chattanooga,Knoxville,Memphis\n", 26) +
	strings.Repeat("Chattanooga,Knoxville,Nashville,Memphis\n", 15) +
	strings.Repeat("Knoxville,Chattanooga,Nashville,Memphis\n", 17)

func TestTabulateDefaultJSON(t *testing.T) {
	dir := t.TempDir()
	csv := writeFile(t, dir, "tn.csv", tennessee)
	var out, errOut bytes.Buffer
	if err := runTabulate(context.Background(), []string{csv}, &out, &errOut); err != nil {
		t.Fatalf("runTabulate: %v (stderr %s)", err, errOut.String())
	}
	var rep rcv.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not a report: %v\n%s", err, out.String())
	}
	if len(rep.Results) != 3 {
		t.Fatalf("rounds = %d, want 3", len(rep.Results))
	}
	last := rep.Results[2]
	if len(last.TallyResults) != 1 || last.TallyResults[0].Elected != "Knoxville" {
		t.Fatalf("round 3 results = %+v, want Knoxville elected", last.TallyResults)
	}
	if rep.Summary.TotalNumBallots != "100" || rep.Config.Contest != "tn" {
		t.Fatalf("summary/config = %+v / %+v", rep.Summary, rep.Config)
	}
	if rep.Runoff == nil || rep.Runoff.Pairwise == nil || rep.Runoff.Pairwise.CondorcetWinner != "Nashville" {
		t.Fatalf("want Nashville as Condorcet winner, got %+v", rep.Runoff)
	}
}

func TestTabulateTableWithRules(t *testing.T) {
	dir := t.TempDir()
	csv := writeFile(t, dir, "tn.csv", tennessee)
	rules := writeFile(t, dir, "rules.json", `{"winnerElectionMode":"singleWinnerMajority","numberOfWinners":"1",
		"tiebreakMode":"useCandidateOrder","overvoteRule":"exhaustImmediately","maxSkippedRanksAllowed":"1",
		"maxRankingsAllowed":"max","decimalPlacesForVoteArithmetic":4,
		"candidates":["Memphis","Nashville","Chattanooga","Knoxville"]}`)
	var out, errOut bytes.Buffer
	if err := runTabulate(context.Background(), []string{"--rules", rules, "--format", "table", csv}, &out, &errOut); err != nil {
		t.Fatalf("runTabulate: %v", err)
	}
	s := out.String()
	for _, want := range []string{"Round 3", "Winners: Knoxville", "Condorcet winner: Nashville"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
}

func TestTabulateErrorsNameFileLineColumn(t *testing.T) {
	dir := t.TempDir()
	csv := writeFile(t, dir, "bad.csv", "rank1,rank2\nA,B\nA,Zed\n")
	rules := writeFile(t, dir, "rules.json", `{"candidates":["A","B"]}`)
	var out, errOut bytes.Buffer
	err := runTabulate(context.Background(), []string{"--rules", rules, csv}, &out, &errOut)
	if err == nil {
		t.Fatal("want an error for an unknown candidate")
	}
	for _, want := range []string{"bad.csv", "line 3", "column 2", "Zed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestTabulateUsageErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runTabulate(context.Background(), nil, &out, &errOut); err == nil {
		t.Fatal("want an error without a ballot file")
	}
	if err := runTabulate(context.Background(), []string{"--format", "xml", "x.csv"}, &out, &errOut); err == nil {
		t.Fatal("want an error for a bad format")
	}
	if err := runTabulate(context.Background(), []string{"/does/not/exist.csv"}, &out, &errOut); err == nil {
		t.Fatal("want an error for a missing file")
	}
}

func TestTabulateAskStops(t *testing.T) {
	dir := t.TempDir()
	csv := writeFile(t, dir, "tie.csv", "rank1\nA\nB\nC\nC\n")
	rules := writeFile(t, dir, "rules.json", `{"tiebreakMode":"stopCountingAndAsk","candidates":["A","B","C"]}`)
	var out, errOut bytes.Buffer
	err := runTabulate(context.Background(), []string{"--rules", rules, csv}, &out, &errOut)
	var tie *rcv.TieNeedsDecision
	if !errors.As(err, &tie) || tie.Round != 1 {
		t.Fatalf("want a *rcv.TieNeedsDecision in round 1, got %v", err)
	}
	if out.Len() == 0 {
		t.Fatal("want the partial report on stdout")
	}
}

// Files exported on Windows or by spreadsheets: a UTF-8 byte-order mark,
// CRLF line endings, quoted names holding commas, a listed name holding "|",
// trailing empty columns, and a blank ballot.
func TestTabulateRealisticFile(t *testing.T) {
	dir := t.TempDir()
	body := "\xef\xbb\xbfrank1,rank2,rank3,,\r\n" +
		strings.Repeat("\"Smith, Jo\",\"Lee | Park\",,,\r\n", 4) +
		strings.Repeat("\"Lee | Park\",\"Smith, Jo\",Ng,,\r\n", 3) +
		strings.Repeat("Ng,\"Lee | Park\",,,\r\n", 2) +
		"\"Ng|Smith, Jo\",Ng,,,\r\n" + // overvote with known marks
		",,,,\r\n" // ranked nobody
	csv := writeFile(t, dir, "export.csv", body)
	rules := writeFile(t, dir, "rules.json", `{"winnerElectionMode":"singleWinnerMajority","numberOfWinners":1,
		"tiebreakMode":"useCandidateOrder","overvoteRule":"exhaustImmediately","maxSkippedRanksAllowed":"unlimited",
		"maxRankingsAllowed":"max","decimalPlacesForVoteArithmetic":"4",
		"candidates":["Smith, Jo","Lee | Park","Ng"]}`)
	var out, errOut bytes.Buffer
	if err := runTabulate(context.Background(), []string{"--rules", rules, csv}, &out, &errOut); err != nil {
		t.Fatalf("runTabulate: %v", err)
	}
	var rep rcv.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	r1 := rep.Results[0]
	want := map[string]string{"Smith, Jo": "4", "Lee | Park": "3", "Ng": "2"}
	for k, v := range want {
		if r1.Tally[k] != v {
			t.Errorf("round 1 tally[%q] = %q, want %q (all %v)", k, r1.Tally[k], v, r1.Tally)
		}
	}
	if r1.InactiveBallots.Overvotes != "1" || rep.Summary.TotalNumBallots != "11" || rep.Summary.Undervotes != 1 {
		t.Errorf("overvotes %s, total %s, undervotes %d; want 1, 11, 1",
			r1.InactiveBallots.Overvotes, rep.Summary.TotalNumBallots, rep.Summary.Undervotes)
	}
}

// nativeCase is one of RCTab's regression cases kept in rcv/testdata.
func nativeCase(name string) string {
	return filepath.Join("..", "..", "rcv", "testdata", "rctab-native", name, name+"_config.json")
}

func TestTabulateConfig(t *testing.T) {
	// A Dominion export and an ES&S workbook through the command, as an
	// office would run them; every case is compared round by round in
	// rcv's TestConformanceNative.
	for _, tc := range []struct{ name string }{
		{"dominion_alaska"},
		{"2015_portland_mayor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := runTabulate(context.Background(), []string{"--config", nativeCase(tc.name)}, &out, &errOut); err != nil {
				t.Fatalf("runTabulate: %v (stderr %s)", err, errOut.String())
			}
			var got rcv.Report
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("output is not a report: %v\n%s", err, out.String())
			}
			b, err := os.ReadFile(filepath.Join(filepath.Dir(nativeCase(tc.name)), tc.name+"_expected_detailed_report.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want rcv.Report
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if got.Config.Contest != want.Config.Contest || got.Config.Jurisdiction != want.Config.Jurisdiction {
				t.Errorf("config = %+v, want contest and jurisdiction of %+v", got.Config, want.Config)
			}
			if len(got.Results) != len(want.Results) || got.Summary.TotalNumBallots != want.Summary.TotalNumBallots {
				t.Fatalf("%d rounds of %s ballots, want %d of %s", len(got.Results), got.Summary.TotalNumBallots, len(want.Results), want.Summary.TotalNumBallots)
			}
			last, wantLast := got.Results[len(got.Results)-1], want.Results[len(want.Results)-1]
			if last.TallyResults[0].Elected != wantLast.TallyResults[0].Elected {
				t.Errorf("last round elected %q, want %q", last.TallyResults[0].Elected, wantLast.TallyResults[0].Elected)
			}
		})
	}
	t.Run("table", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if err := runTabulate(context.Background(), []string{"--config", nativeCase("hart_cedar_park_school_board"), "--format", "table"}, &out, &errOut); err != nil {
			t.Fatalf("runTabulate: %v", err)
		}
		if !strings.Contains(out.String(), "Round") {
			t.Fatalf("want a round table, got\n%s", out.String())
		}
	})
}

// Bad configs fail before counting, print nothing on stdout, and say what
// is wrong where.
func TestTabulateConfigErrors(t *testing.T) {
	src, err := os.ReadFile(nativeCase("generic_csv_test"))
	if err != nil {
		t.Fatal(err)
	}
	cvr, err := os.ReadFile(filepath.Join(filepath.Dir(nativeCase("generic_csv_test")), "generic_csv_test_cvr.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		config     func(string) string
		cvr        func(string) string
		wantErrors []string
	}{
		{
			name:       "missing file",
			config:     func(s string) string { return strings.Replace(s, `"generic_csv_test_cvr.csv"`, `"nowhere.csv"`, 1) },
			wantErrors: []string{"cvrFileSources[0]: nowhere.csv: no such file or folder"},
		},
		{
			name:       "unknown provider",
			config:     func(s string) string { return strings.Replace(s, `"genericCsv"`, `"abacus"`, 1) },
			wantErrors: []string{`cvrFileSources[0]: unknown provider "abacus"`},
		},
		{
			name: "unknown candidate",
			cvr:  func(s string) string { return strings.Replace(s, "Cauliflower", "Kale", 1) },
			wantErrors: []string{
				`generic_csv_test_cvr.csv (genericCsv): unrecognized candidate "Kale" appears 24 time(s), first at generic_csv_test_cvr.csv line 3`,
				`"Broccoli"`,
			},
		},
		{
			name:       "bad rank",
			cvr:        func(s string) string { return strings.Replace(s, "p1,b1,,2,1", "p1,b1,,two,1", 1) },
			wantErrors: []string{`generic_csv_test_cvr.csv line 2 column 5: want a rank number, got "two"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, b := string(src), string(cvr)
			if tc.config != nil {
				c = tc.config(c)
			}
			if tc.cvr != nil {
				b = tc.cvr(b)
			}
			cfg := writeFile(t, dir, "generic_csv_test_config.json", c)
			writeFile(t, dir, "generic_csv_test_cvr.csv", b)
			var out, errOut bytes.Buffer
			err := runTabulate(context.Background(), []string{"--config", cfg}, &out, &errOut)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.wantErrors {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout not empty:\n%s", out.String())
			}
		})
	}
}
