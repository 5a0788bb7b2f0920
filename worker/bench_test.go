package worker

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
)

// millionTally is 1,000,000 ballots over 12 candidates in about 240,000
// distinct rankings of 1 to 6 ranks, like scripts/seed-million.sql.
func millionTally() *store.Tally {
	e := &runoff.Election{ID: uuid.Must(uuid.NewV7()), Title: "A million ballots", Seats: 1, Status: runoff.StatusOpen,
		CreatedAt: time.Now(), Settings: runoff.DefaultSettings(), BallotsCounted: 1_000_000, CountsVersion: 1}
	for i := range 12 {
		e.Candidates = append(e.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: "Candidate " + string(rune('A'+i)), Position: i})
	}
	ids := make([]uuid.UUID, len(e.Candidates))
	for i, c := range e.Candidates {
		ids[i] = c.ID
	}
	return &store.Tally{Election: e, ReadAt: time.Now(), Rankings: storetest.MillionRankings(ids)}
}

// keep reads a tally into a new kept tally, as a recompute's first read
// of an election does.
func keep(b *testing.B, t *store.Tally) *tallyRead {
	r := &tallyRead{}
	r.Since(t.Election)
	marks := 0
	for _, rc := range t.Rankings {
		marks += len(rc.Ranking)
	}
	r.Expect(len(t.Rankings), marks)
	for _, rc := range t.Rankings {
		if err := r.Ranking(rc.Ranking, rc.Count); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// recountKept is a recompute's work once its tally is read: count, and
// make the snapshot (report, rules, model).
func recountKept(b *testing.B, r *tallyRead, t *store.Tally) {
	rules := rulesWithDecisions(t.Election, t.Decisions)
	if err := r.kept.counter.SetRules(rules); err != nil {
		b.Fatal(err)
	}
	res, err := r.kept.counter.Count()
	if _, err := snapshot(t.Election, rules, res, err, t.ReadAt); err != nil {
		b.Fatal(err)
	}
	r.kept.version = t.Election.CountsVersion
}

// A recompute of the million-ballot election after a batch of 2,000 new
// ballots, as the load generator casts them (1 to 12 ranks): the changed
// rankings applied to the kept tally (what Postgres returns: each with its
// count now), the count, the report and the results model. Without
// Postgres. replayed/op says how many counts replayed the one before.
func BenchmarkRecount1MAfter2000(b *testing.B) {
	t := millionTally()
	e := t.Election
	counts := make(map[string]int64, len(t.Rankings))
	for _, rc := range t.Rankings {
		counts[fmt.Sprint(rc.Ranking)] = rc.Count
	}
	r := keep(b, t)
	t.Rankings = nil
	recountKept(b, r, t)
	rng := rand.New(rand.NewPCG(5, 6))
	replayed := 0
	for b.Loop() {
		b.StopTimer()
		batch := map[string][]uuid.UUID{}
		for range 2000 {
			var ranking []uuid.UUID
			for _, p := range rng.Perm(12)[:1+rng.IntN(12)] {
				ranking = append(ranking, e.Candidates[p].ID)
			}
			k := fmt.Sprint(ranking)
			counts[k]++
			batch[k] = ranking
		}
		e.BallotsCounted += 2000
		e.CountsVersion++
		b.StartTimer()
		r.full = false
		for k, ranking := range batch {
			if err := r.Ranking(ranking, counts[k]); err != nil {
				b.Fatal(err)
			}
		}
		recountKept(b, r, t)
		if r.kept.counter.Replayed() {
			replayed++
		}
	}
	b.ReportMetric(float64(replayed)/float64(b.N), "replayed/op")
}

// The first recompute of the million-ballot election by a worker: every
// ranking read into a new kept tally and counted in full (without
// Postgres's part of the read).
func BenchmarkRecount1MFirst(b *testing.B) {
	t := millionTally()
	b.ResetTimer()
	for b.Loop() {
		recountKept(b, keep(b, t), t)
	}
}
