package rcv

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// simpleElection is randomElection's rules with simple ballots only: one
// candidate at each rank from rank 1 (write-ins among them), no overvote
// and no rank skipped; repeated candidates are allowed.
func simpleElection(r *rand.Rand) (Rules, []Ballot) {
	rules, ballots := randomElection(r)
	nc := len(rules.Candidates)
	for i := range ballots {
		b := &ballots[i]
		b.Ranks = b.Ranks[:0]
		for range r.IntN(nc + 2) {
			m := r.IntN(nc)
			if r.IntN(15) == 0 {
				m = WriteIn
			}
			b.Ranks = append(b.Ranks, []int{m})
		}
	}
	if r.IntN(3) == 0 {
		rules.MaxRankingsAllowed = 1 + r.IntN(nc)
	}
	return rules, ballots
}

// Walking simple ballots in their compact form counts exactly as walking
// their tokens, under every rule (the rules that need the tokens, such as
// exhausting on a repeated candidate or surplus transfers, make the
// engine walk the tokens anyway).
func TestPropertySimpleWalkEqualsScan(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	walked := 0
	for i := range 2000 {
		rules, ballots := simpleElection(r)
		set, err := ballotsToSet(ballots, len(rules.Candidates))
		if err != nil {
			t.Fatal(err)
		}
		e := newEngine(rules, set, nil, 0, countOptions{})
		if e.walksSimply() {
			walked++
		}
		got, gotErr := tabulateBallots(rules, ballots, countOptions{})
		want, wantErr := tabulateBallots(rules, ballots, countOptions{noSimpleWalk: true})
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("case %d: errors differ: %v vs %v", i, gotErr, wantErr)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		if string(a) != string(b) {
			t.Fatalf("case %d: the compact walk differs from the tokens' (rules %+v)\n%s\n%s", i, rules, a, b)
		}
	}
	if walked < 500 {
		t.Errorf("only %d of 2000 counts walked the compact form", walked)
	}
}

// millionBallots is 1,000,000 ballots over 12 candidates, each ranking 1
// to 6 of them at random (about 240,000 distinct rankings), like the
// million-ballot election of docs/performance.md.
func millionBallots() (Rules, []Ballot) {
	rules := DefaultRules()
	rules.Candidates = genCandidates(12)
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[[6]int8]int{}
	var out []Ballot
	for range 1_000_000 {
		perm := rng.Perm(12)[:1+rng.IntN(6)]
		k := [6]int8{-1, -1, -1, -1, -1, -1}
		for i, p := range perm {
			k[i] = int8(p)
		}
		if i, ok := seen[k]; ok {
			out[i].Count++
			continue
		}
		seen[k] = len(out)
		out = append(out, Ranking(1, perm...))
	}
	return rules, out
}

// The rounds of a count of the million-ballot election (no head-to-head
// matrix), walking the compact form and walking the tokens.
func BenchmarkRounds1M(b *testing.B) {
	rules, ballots := millionBallots()
	set, err := ballotsToSet(ballots, len(rules.Candidates))
	if err != nil {
		b.Fatal(err)
	}
	for _, walk := range []struct {
		name string
		opts countOptions
	}{{"compact", countOptions{}}, {"tokens", countOptions{noSimpleWalk: true}}} {
		b.Run(walk.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := runPass(rules, set, nil, 0, walk.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A Counter holding the million-ballot election counts again after 2,000
// new ballots (1 to 12 ranks, as the load generator casts them): replayed
// when the decisions hold, in full when not. In full, every time, for
// comparison.
func BenchmarkCounter1M(b *testing.B) {
	rules, ballots := millionBallots()
	for _, full := range []bool{false, true} {
		b.Run(map[bool]string{false: "after2000", true: "full"}[full], func(b *testing.B) {
			c, err := NewCounter(rules)
			if err != nil {
				b.Fatal(err)
			}
			for _, bl := range ballots {
				if err := c.Add(bl); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := c.Count(); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			replayed := 0
			for b.Loop() {
				for range 2000 {
					if err := c.Add(Ranking(1, rng.Perm(12)[:1+rng.IntN(12)]...)); err != nil {
						b.Fatal(err)
					}
				}
				if full {
					c.plans = nil
				}
				if _, err := c.Count(); err != nil {
					b.Fatal(err)
				}
				if c.Replayed() {
					replayed++
				}
			}
			b.ReportMetric(float64(replayed)/float64(b.N), "replayed/op")
		})
	}
}
