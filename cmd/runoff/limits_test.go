package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// The worker's size limit holds the largest messages the domain allows,
// whatever their characters, and stays under the max_message_size that
// scripts/cluster-lib.sh gives the broker (16 MiB).
func TestMaxMessageBytes(t *testing.T) {
	limit := maxMessageBytes()
	if limit >= 16<<20 {
		t.Fatalf("maxMessageBytes() = %d, at or above the broker's max_message_size", limit)
	}
	for _, char := range []string{"a", "é", "<", "\u2028", "😀", "\x01"} {
		text := func(n int) string { return strings.Repeat(char, n) }
		now := time.Now()
		seed := int64(-1 << 62)
		m := runoff.ElectionUpdate{ChangeID: uuid.New(), ElectionID: uuid.New(), OrganizerID: uuid.New(),
			Title: text(runoff.MaxTitle), Description: text(runoff.MaxDescription), Seats: runoff.MaxSeats,
			Settings: runoff.Settings{WinnerMode: "multi_seat_bottoms_up", Tiebreak: "previous_round_counts_then_random",
				Results: "after_close", Access: "anyone", Timezone: "America/Argentina/ComodRivadavia",
				RandomSeed: &seed, OpensAt: &now, ClosesAt: &now, MaxRanks: runoff.MaxCandidates},
			RequestedAt: now}
		for i := range runoff.MaxCandidates {
			m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.New(), Position: i,
				Name: text(runoff.MaxCandidateName), Description: text(runoff.MaxCandidateDescription)})
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > limit {
			t.Errorf("an election.update of %q characters is %d bytes, over the limit %d", char, len(b), limit)
		}
	}
	t.Logf("largest message allowed: %d bytes", limit)
}
