package storetest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// MillionTally is a tally of 1,000,000 ballots for e, each ranking 1 to 6
// of its candidates at random (about 240,000 distinct rankings with 12
// candidates), like scripts/seed-million.sql: the benchmarks' large
// election. It sets e.BallotsCounted.
func MillionTally(e *runoff.Election) *store.Tally {
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[string]int{}
	t := &store.Tally{Election: e, ReadAt: time.Now()}
	for range 1_000_000 {
		perm := rng.Perm(len(e.Candidates))[:1+rng.IntN(6)]
		key := fmt.Sprint(perm)
		if i, ok := seen[key]; ok {
			t.Rankings[i].Count++
			continue
		}
		rc := store.RankingCount{Count: 1}
		for _, p := range perm {
			rc.Ranking = append(rc.Ranking, e.Candidates[p].ID)
		}
		seen[key] = len(t.Rankings)
		t.Rankings = append(t.Rankings, rc)
	}
	e.BallotsCounted = 1_000_000
	return t
}
