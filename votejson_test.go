package runoff

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The hand-written encoding is json.Marshal's, byte for byte, so the
// worker reads it as before and nothing else need know.
func TestVoteSubmitAppendJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	id := func() uuid.UUID {
		var u uuid.UUID
		for i := range u {
			u[i] = byte(rng.UintN(256))
		}
		return u
	}
	cases := []VoteSubmit{
		{},
		{BallotID: id(), ElectionID: id(), Ranking: []uuid.UUID{}, SubmittedAt: time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)},
		{BallotID: id(), ElectionID: id(), Ranking: []uuid.UUID{id()}, SubmittedAt: time.Date(2026, 11, 26, 1, 2, 3, 400, time.FixedZone("x", 3600)), KeyHash: "abc123"},
		{BallotID: id(), KeyHash: "quote\" back\\slash <b>&amp; \x01 é \u2028 \xff"},
	}
	for range 200 {
		v := VoteSubmit{BallotID: id(), ElectionID: id(), SubmittedAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC()}
		for range rng.IntN(13) {
			v.Ranking = append(v.Ranking, id())
		}
		if rng.IntN(2) == 0 {
			v.KeyHash = id().String()
		}
		cases = append(cases, v)
	}
	for _, v := range cases {
		want, err := json.Marshal(v)
		got := v.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("\n got  %s\n want %s", got, want)
		}
	}
}
