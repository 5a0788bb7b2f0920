package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/store"
)

const (
	demoEmail    = "demo@runoff.example"
	demoPassword = "runoff-demo-password"
)

// demoNS makes the demo's IDs deterministic, so running the demo twice
// publishes the same election and ballots, and the worker stores them once.
var demoNS = uuid.MustParse("0b4f6c1e-4a39-4c55-9d6e-52f5c1f0d7a1")

// runDemo publishes, through the real queues, the classic example of
// instant runoff (where should Tennessee's capital be?) with 300 ballots:
// Memphis leads on first choices, but Knoxville wins in round 3.
func runDemo(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer db.Close()
	owner, err := db.OrganizerByEmail(ctx, demoEmail)
	if errors.Is(err, runoff.ErrNotFound) {
		hash, _ := bcrypt.GenerateFromPassword([]byte(demoPassword), bcrypt.DefaultCost)
		owner = &runoff.Organizer{ID: uuid.NewSHA1(demoNS, []byte("organizer")), Email: demoEmail, PasswordHash: string(hash)}
		err = db.CreateOrganizer(ctx, owner)
	}
	if err != nil {
		return fmt.Errorf("demo: organizer: %w", err)
	}
	cities := []string{"Memphis", "Nashville", "Chattanooga", "Knoxville"}
	m := runoff.ElectionCreate{
		ElectionID:  uuid.NewSHA1(demoNS, []byte("election")),
		OwnerID:     owner.ID,
		Title:       "Where should Tennessee's capital be? (demo)",
		Description: "A demonstration election: rank the four cities. Memphis has the most first choices, but not a majority.",
		Seats:       1,
		RequestedAt: time.Now().UTC(),
	}
	for i, name := range cities {
		m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.NewSHA1(demoNS, []byte("candidate "+name)), Name: name, Position: i})
	}
	pub := rabbitmq.NewPublisher(cfg.WebAMQPURL, cfg.Topology, log)
	defer pub.Close()
	if err := publishJSON(ctx, pub, runoff.KeyElectionCreate, m.ElectionID.String(), m); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// Ballots are only accepted for a stored election (the web checks the
	// same before it publishes a vote), so wait for the worker.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := db.Election(ctx, m.ElectionID); err == nil {
			break
		} else if !errors.Is(err, runoff.ErrNotFound) || time.Now().After(deadline) {
			return fmt.Errorf("demo: the worker has not stored the election (is 'runoff worker' running?): %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c := m.Candidates
	// Each city's voters rank by distance from home.
	prefs := [][]int{{0, 1, 2, 3}, {1, 2, 3, 0}, {2, 3, 1, 0}, {3, 2, 1, 0}}
	shares := []int{126, 78, 45, 51} // 42%, 26%, 15%, 17% of 300
	rng := rand.New(rand.NewPCG(2026, 11))
	n := 0
	for city, count := range shares {
		for range count {
			depth := 4
			if rng.IntN(5) == 0 {
				depth = 1 + rng.IntN(3) // some voters rank only their nearest cities
			}
			v := runoff.VoteSubmit{BallotID: uuid.NewSHA1(demoNS, fmt.Appendf(nil, "ballot %d", n)), ElectionID: m.ElectionID, SubmittedAt: time.Now().UTC()}
			for _, ci := range prefs[city][:depth] {
				v.Ranking = append(v.Ranking, c[ci].ID)
			}
			if err := publishJSON(ctx, pub, runoff.KeyVoteSubmit, v.BallotID.String(), v); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			n++
		}
	}
	fmt.Fprintf(stdout, "Demo election published with %d ballots.\n  ballot:  /e/%s\n  results: /e/%s/results\n  sign in as %s with password %s\n",
		n, m.ElectionID, m.ElectionID, demoEmail, demoPassword)
	return nil
}

func publishJSON(ctx context.Context, pub *rabbitmq.Publisher, key, id string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return pub.Publish(ctx, key, id, body)
}
