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
