package rcv

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// genCandidates returns n candidate names.
func genCandidates(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "Candidate " + strconv.Itoa(i+1)
	}
	return out
}

// genCSV writes a seeded, municipal-looking ballot file: candidate popularity
// falls off with index, most voters rank a handful of candidates, a few skip
// ranks, overvote or leave the ballot blank.
func genCSV(nBallots, nCands, nRanks int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	names := genCandidates(nCands)
	weights := make([]float64, nCands)
	var total float64
	for i := range weights {
		weights[i] = 1 / float64(i+2)
		total += weights[i]
	}
	var buf bytes.Buffer
	buf.Grow(nBallots * 40)
	for i := range nRanks {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "rank%d", i+1)
	}
	buf.WriteByte('\n')
	used := make([]bool, nCands)
	for range nBallots {
		clear(used)
		k := 1 + int(r.ExpFloat64()*2.5)
		if k > nRanks {
			k = nRanks
		}
		if r.IntN(200) == 0 {
			k = 0 // blank ballot
		}
		for rank := 0; rank < nRanks; rank++ {
			if rank > 0 {
				buf.WriteByte(',')
			}
			if rank >= k || r.IntN(100) == 0 { // trailing blanks, occasional skip
				continue
			}
			if r.IntN(500) == 0 {
				buf.WriteString("overvote")
				continue
			}
			// weighted pick without replacement
			for {
				x := r.Float64() * total
				c := 0
				for c < nCands-1 && x > weights[c] {
					x -= weights[c]
					c++
				}
				if !used[c] {
					used[c] = true
					buf.WriteString(names[c])
					break
				}
			}
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// TestWriteBenchCSV writes a generated file for measuring the CLI:
// RUNOFF_WRITE_BENCH_CSV=/tmp/ballots.csv go test -run TestWriteBenchCSV ./rcv/
func TestWriteBenchCSV(t *testing.T) {
	path := os.Getenv("RUNOFF_WRITE_BENCH_CSV")
	if path == "" {
		t.Skip("set RUNOFF_WRITE_BENCH_CSV to write a 1,000,000-ballot, 35-candidate file")
	}
	if err := os.WriteFile(path, genCSV(1_000_000, 35, 15, 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func benchRules(n int) Rules {
	r := DefaultRules()
	r.Candidates = genCandidates(n)
	r.TiebreakMode = TiebreakUseCandidateOrder
	r.OvervoteRule = OvervoteExhaustImmediately
	r.MaxSkippedRanksAllowed = 1
	return r
}

var benchSizes = []int{10_000, 100_000, 1_000_000}

func BenchmarkParseCSV(b *testing.B) {
	for _, n := range benchSizes {
		data := genCSV(n, 35, 15, 1)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				rules := benchRules(35)
				if _, err := ParseCSV(data, &rules); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTabulate(b *testing.B) {
	for _, n := range benchSizes {
		rules := benchRules(35)
		c, err := ParseCSV(genCSV(n, 35, 15, 1), &rules)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%d/distinct=%d", n, c.NumDistinct()), func(b *testing.B) {
			for b.Loop() {
				if _, err := TabulateContest(rules, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTabulateNoPairwise isolates the round-by-round count.
func BenchmarkTabulateNoPairwise(b *testing.B) {
	for _, n := range benchSizes {
		rules := benchRules(35)
		c, err := ParseCSV(genCSV(n, 35, 15, 1), &rules)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := runPass(rules, c.set, nil, 0, countOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPairwise isolates the head-to-head matrix (Tabulate computes it
// concurrently with the rounds for single-winner contests).
func BenchmarkPairwise(b *testing.B) {
	for _, n := range benchSizes {
		rules := benchRules(35)
		c, err := ParseCSV(genCSV(n, 35, 15, 1), &rules)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				computePairwise(rules, c.set)
			}
		})
	}
}
