package store_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
)

// benchElection stores an open election with n candidates.
func benchElection(b *testing.B, db *store.DB, n int) runoff.ElectionCreate {
	b.Helper()
	ctx := context.Background()
	o := &runoff.Organizer{ID: uuid.New(), Email: uuid.NewString() + "@example.org", PasswordHash: "x"}
	if err := db.CreateOrganizer(ctx, o); err != nil {
		b.Fatal(err)
	}
	m := runoff.ElectionCreate{ElectionID: uuid.Must(uuid.NewV7()), OwnerID: o.ID, Title: "Bench", Seats: 1,
		Settings: runoff.DefaultSettings(), RequestedAt: time.Now().UTC()}
	for i := range n {
		m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: string(rune('A' + i)), Position: i})
	}
	if out, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil || out[0].Dead != "" {
		b.Fatalf("%v %+v", err, out)
	}
	return m
}

// A worker batch: 200 ballots of one election stored in one transaction
// with their distinct-ranking counts, as the votes queue delivers them.
// ns/op is per batch; ballots/s = 200 / (ns/op).
func BenchmarkStoreVotesBatch200(b *testing.B) {
	db, _ := storetest.MustOpen(b)
	m := benchElection(b, db, 12)
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]runoff.VoteSubmit, 200)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			v := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, SubmittedAt: time.Now().UTC()}
			for _, p := range rng.Perm(12)[:1+rng.IntN(6)] {
				v.Ranking = append(v.Ranking, m.Candidates[p].ID)
			}
			batch[i] = v
		}
		b.StartTimer()
		if _, _, err := db.StoreVotes(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch))/1000, "µs/ballot")
}
