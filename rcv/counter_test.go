package rcv

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countersAgree checks a Counter's count against a full Tabulate of the
// same ballots: the same result, field for field, and the same error.
func countersAgree(t *testing.T, what string, c *Counter, rules Rules, ballots []Ballot) {
	t.Helper()
	got, gotErr := c.Count()
	want, wantErr := Tabulate(rules, ballots)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: errors differ: counter %v, tabulate %v", what, gotErr, wantErr)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Fatalf("%s (replayed %v): counter differs from a full count\ncounter:  %s\ntabulate: %s", what, c.Replayed(), a, b)
	}
	var total int64
	for _, b := range ballots {
		total += b.Count
	}
	if c.Total() != total {
		t.Fatalf("%s: counter holds %d ballots, want %d", what, c.Total(), total)
	}
}

// distinct drops ballots whose ranking an earlier one has, so that Set on
// one of them means that ranking's whole count.
func distinct(ballots []Ballot, nDeclared int) []Ballot {
	seen := map[string]bool{}
	var out []Ballot
	for _, b := range ballots {
		toks, err := ballotTokens(nil, b, nDeclared)
		if err != nil {
			panic(err)
		}
		if k := fmt.Sprint(toks); !seen[k] {
			seen[k] = true
			out = append(out, b)
		}
	}
	return out
}

// After any sequence of changes (new rankings, more or fewer ballots of
// one, none left, a change of rules), a Counter's count is exactly a full
// count of the same ballots, under every winner mode, tie-break and
// ballot rule, including overvotes, skipped ranks, duplicates, write-ins
// and blank ballots. Both ways of counting must be taken: replays, and
// full counts when a decision moves.
func TestPropertyCounterEqualsFullCount(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	replays, fulls, older := 0, 0, 0
	for i := range 400 {
		rules, pool := randomElection(r)
		if r.IntN(4) == 0 {
			rules.TiebreakMode = TiebreakStopCountingAndAsk
		}
		pool = distinct(pool, len(rules.Candidates))
		c, err := NewCounter(rules)
		if err != nil {
			t.Fatal(err)
		}
		c.Grow(r.IntN(len(pool)+1), r.IntN(3*len(pool)+1))
		counts := make([]int64, len(pool))
		for step := range 25 {
			for range 1 + r.IntN(4) {
				j := r.IntN(len(pool))
				b := pool[j]
				switch op := r.IntN(5); {
				case op == 0 && counts[j] > 0: // some taken out (a replaced vote)
					b.Count = -1 - r.Int64N(counts[j])
					if err := c.Add(b); err != nil {
						t.Fatal(err)
					}
					counts[j] += b.Count
				case op == 1: // a new count, perhaps none
					b.Count = r.Int64N(6)
					if err := c.Set(b); err != nil {
						t.Fatal(err)
					}
					counts[j] = b.Count
				default:
					b.Count = 1 + r.Int64N(3)
					if err := c.Add(b); err != nil {
						t.Fatal(err)
					}
					counts[j] += b.Count
				}
			}
			if step == 12 && r.IntN(3) == 0 {
				rules.TiebreakMode = TiebreakUseCandidateOrder
				if err := c.SetRules(rules); err != nil {
					t.Fatal(err)
				}
			}
			var now []Ballot
			for j, b := range pool {
				if counts[j] > 0 {
					b.Count = counts[j]
					now = append(now, b)
				}
			}
			countersAgree(t, fmt.Sprintf("case %d step %d (%s, %+v)", i, step, rules.WinnerElectionMode, rules), c, rules, now)
			if c.older {
				older++
			}
			if c.Replayed() {
				replays++
			} else {
				fulls++
			}
		}
	}
	t.Logf("%d counts replayed (%d of an older count's plan), %d counted in full", replays, older, fulls)
	if replays < 1000 || fulls < 1000 || older < 100 {
		t.Errorf("%d counts replayed (%d an older plan) and %d in full: the test should take every way often", replays, older, fulls)
	}
}

// Every conformance case, fed to a Counter in batches (and some batches
// taken out and put back, as replaced votes are), counts as a full count
// of the ballots so far after each batch, and as RCTab at the end.
func TestConformanceCounter(t *testing.T) {
	for _, src := range conformanceSources(t, packNeutral) {
		t.Run(src.label, func(t *testing.T) {
			for _, cs := range src.cases {
				t.Run(cs.name, func(t *testing.T) { runCounterCase(t, cs.dir) })
			}
		})
	}
}

func runCounterCase(t *testing.T, dir string) {
	rules, contest := loadCase(t, dir)
	ballots := contest.Ballots()
	r := rand.New(rand.NewPCG(uint64(len(ballots)), 7))
	r.Shuffle(len(ballots), func(i, j int) { ballots[i], ballots[j] = ballots[j], ballots[i] })
	c, err := NewCounter(rules)
	if err != nil {
		t.Fatal(err)
	}
	// Ballots one at a time, in batches: a ranking's count grows as the
	// worker's does.
	var singles []Ballot
	for _, b := range ballots {
		for range min(b.Count, 50) {
			singles = append(singles, Ballot{Ranks: b.Ranks, Count: 1})
		}
		if b.Count > 50 {
			singles = append(singles, Ballot{Ranks: b.Ranks, Count: b.Count - 50})
		}
	}
	r.Shuffle(len(singles), func(i, j int) { singles[i], singles[j] = singles[j], singles[i] })
	batch := max(1, len(singles)/6)
	for at := 0; at < len(singles); at += batch {
		end := min(at+batch, len(singles))
		for _, b := range singles[at:end] {
			if err := c.Add(b); err != nil {
				t.Fatal(err)
			}
		}
		if end < len(singles) {
			countersAgree(t, fmt.Sprintf("after %d of %d", end, len(singles)), c, rules, singles[:end])
		}
	}
	// Take a batch out, count, put it back.
	out := singles[len(singles)/3 : len(singles)/3+batch/4]
	for _, b := range out {
		b.Count = -b.Count
		if err := c.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	rest := append(append([]Ballot{}, singles[:len(singles)/3]...), singles[len(singles)/3+batch/4:]...)
	countersAgree(t, "with a batch taken out", c, rules, rest)
	for _, b := range out {
		if err := c.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Count()
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	var want expectedResult
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	var diffs []string
	compareExpected(&diffs, got, &want)
	if len(diffs) > 0 {
		t.Errorf("%d differences from RCTab (replayed %v):\n%s", len(diffs), c.Replayed(), strings.Join(diffs, "\n"))
	}
}
