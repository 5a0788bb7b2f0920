package storetest

import (
	"fmt"
	"math/rand/v2"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff/store"
)

// MillionRankings are 1,000,000 ballots over these candidates, each
// ranking 1 to 6 of them at random (about 240,000 distinct rankings with
// 12 candidates), like scripts/seed-million.sql: the benchmarks' large
// election.
func MillionRankings(candidates []uuid.UUID) []store.RankingCount {
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[string]int{}
	var out []store.RankingCount
	for range 1_000_000 {
		perm := rng.Perm(len(candidates))[:1+rng.IntN(6)]
		key := fmt.Sprint(perm)
		if i, ok := seen[key]; ok {
			out[i].Count++
			continue
		}
		rc := store.RankingCount{Count: 1}
		for _, p := range perm {
			rc.Ranking = append(rc.Ranking, candidates[p])
		}
		seen[key] = len(out)
		out = append(out, rc)
	}
	return out
}
