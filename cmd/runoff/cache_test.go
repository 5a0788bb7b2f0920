package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
	"github.com/runoff-vote/runoff/worker"
)

// openElection stores an organizer and an open election of theirs.
func openElection(t *testing.T, db *store.DB) (owner, election uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	o := &runoff.Organizer{ID: uuid.New(), Email: uuid.NewString() + "@example.org", PasswordHash: "x"}
	if err := db.CreateOrganizer(ctx, o); err != nil {
		t.Fatal(err)
	}
	m := runoff.ElectionCreate{ElectionID: uuid.Must(uuid.NewV7()), OwnerID: o.ID, Title: "Cache", Seats: 1,
		Candidates: []runoff.Candidate{{ID: uuid.New(), Name: "A"}, {ID: uuid.New(), Name: "B", Position: 1}},
		Settings:   runoff.DefaultSettings(), RequestedAt: time.Now().UTC()}
	out, err := db.CreateElections(ctx, []runoff.ElectionCreate{m})
	if err != nil || out[0].Dead != "" {
		t.Fatalf("create election: %v %+v", err, out)
	}
	return o.ID, m.ElectionID
}

// Two web processes' caches, each listening on its own queue, both see
// the worker close an election: neither serves it as open after.
func TestElectionCacheInvalidationReachesEveryWeb(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	topo := rabbitmqtest.Topology(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	owner, id := openElection(t, db)

	cfg := config{WebAMQPURL: rabbitmqtest.URL(), Topology: topo}
	var caches []*store.ElectionCache
	for range 2 {
		c := store.NewElectionCache(db.Election)
		c.TTL = time.Hour // only a message may make it read again
		l := electionListener(cfg, c, log)
		done := make(chan struct{})
		go func() { defer close(done); l.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		caches = append(caches, c)
	}
	for i, c := range caches {
		rabbitmqtest.WaitFor(t, "the cache's listener", c.Live)
		for range 3 {
			e, err := c.Election(ctx, id)
			if err != nil || e.StateAt(time.Now()) != runoff.StatusOpen {
				t.Fatalf("cache %d: %v %+v", i, err, e)
			}
		}
		if hits, misses := c.Stats(); hits != 2 || misses != 1 {
			t.Errorf("cache %d: %d hits, %d misses; want the row read once and kept", i, hits, misses)
		}
	}

	// The worker carries out a close it got from its queue (not published
	// here: only the worker's announcement may tell the caches).
	pub := rabbitmq.NewPublisher(rabbitmqtest.URL(), topo, log)
	t.Cleanup(func() { pub.Close() })
	q := worker.NewQueues(db, pub, func([]uuid.UUID) {}, nil, nil, log)
	body, _ := json.Marshal(runoff.ElectionAction{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: id, OrganizerID: owner, At: time.Now().UTC()})
	dead, err := q.Organizers(ctx, []runoff.Message{{RoutingKey: runoff.KeyElectionClose, Body: body}})
	if err != nil || dead[0] != "" {
		t.Fatalf("close: %v %q", err, dead)
	}
	for i, c := range caches {
		rabbitmqtest.WaitFor(t, "the close to reach every cache", func() bool {
			e, err := c.Election(ctx, id)
			return err == nil && e.StateAt(time.Now()) == runoff.StatusClosed
		})
		_ = i
	}
}
