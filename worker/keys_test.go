package worker_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

// Keys through the real broker: the owner's election.keys is recorded, a
// forged one is refused with the reason among held messages, and a vote
// changed with a key moves the published results.
func TestKeysThroughTheBroker(t *testing.T) {
	f := newFixture(t)
	f.startWorker(t)
	ctx := context.Background()
	m := runoff.ElectionCreate{ElectionID: uuid.Must(uuid.NewV7()), OwnerID: f.owner.ID, Title: "Board", Seats: 1, RequestedAt: time.Now(),
		Settings: runoff.Settings{Access: runoff.AccessKeys, Changes: runoff.ChangesAllowed}}
	for i, n := range []string{"Ann", "Bob"} {
		m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: n, Position: i})
	}
	f.publish(t, runoff.KeyElectionCreate, m.ElectionID.String(), m)
	rabbitmqtest.WaitFor(t, "election stored", func() bool { _, err := f.db.Election(ctx, m.ElectionID); return err == nil })

	secret := []byte("worker test secret, 32 bytes long")
	batch := runoff.ElectionKeys{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, OrganizerID: f.owner.ID, RequestedAt: time.Now()}
	var keys []string
	for i := range 3 {
		keys = append(keys, runoff.DeriveKey(secret, m.ElectionID, batch.ChangeID, i))
		batch.Hashes = append(batch.Hashes, runoff.HashKey(m.ElectionID, keys[i]))
	}
	forged := batch
	forged.ChangeID, forged.OrganizerID = uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	f.publish(t, runoff.KeyElectionKeys, forged.ChangeID.String(), forged)
	f.publish(t, runoff.KeyElectionKeys, batch.ChangeID.String(), batch)
	f.publish(t, runoff.KeyElectionKeys, batch.ChangeID.String(), batch) // twice: issued once
	rabbitmqtest.WaitFor(t, "forged keys refused", func() bool {
		dl, err := f.db.DeadLetterByMessage(ctx, forged.ChangeID.String())
		return err == nil && dl.Reason == fmt.Sprintf("Organizer %s does not own election %s, so it is not theirs to issue keys for.", forged.OrganizerID, m.ElectionID)
	})
	rabbitmqtest.WaitFor(t, "keys issued", func() bool {
		applied, _ := f.db.ChangeApplied(ctx, batch.ChangeID)
		return applied
	})
	rabbitmqtest.WaitFor(t, "elections queue drained", func() bool { return rabbitmqtest.Depth(t, f.topo.Elections) == 0 })
	e, _ := f.db.Election(ctx, m.ElectionID)
	if e.KeysIssued != 3 {
		t.Fatalf("%d keys issued, want 3", e.KeysIssued)
	}

	ann, bob := m.Candidates[0].ID, m.Candidates[1].ID
	cast := func(key string, at time.Time, c uuid.UUID) runoff.VoteSubmit {
		v := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: []uuid.UUID{c},
			SubmittedAt: at, KeyHash: runoff.HashKey(m.ElectionID, key)}
		f.publish(t, runoff.KeyVoteSubmit, v.BallotID.String(), v)
		return v
	}
	t0 := time.Now()
	first := cast(keys[0], t0, ann)
	cast(keys[1], t0, ann)
	cast(keys[2], t0, bob)
	winners := func(want ...string) {
		t.Helper()
		rabbitmqtest.WaitFor(t, fmt.Sprintf("winners %v", want), func() bool {
			snap, err := f.db.Result(ctx, m.ElectionID)
			return err == nil && snap.BallotsCounted == 3 && slices.Equal(snap.Model.Winners, want)
		})
	}
	winners("Ann")
	// Two voters change their minds: the count stays at 3, the winner
	// changes.
	cast(keys[0], t0.Add(time.Second), bob)
	cast(keys[1], t0.Add(time.Second), bob)
	winners("Bob")
	if b, err := f.db.Ballot(ctx, first.BallotID); err != nil || b.Status != runoff.BallotReplaced {
		t.Fatalf("first ballot: %+v, %v; want replaced", b, err)
	}
	e, _ = f.db.Election(ctx, m.ElectionID)
	if e.KeysUsed != 3 || e.BallotsCounted != 3 {
		t.Fatalf("keys used %d, counted %d; want 3 and 3", e.KeysUsed, e.BallotsCounted)
	}
}
