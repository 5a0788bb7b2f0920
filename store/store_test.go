package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
)

func newOrganizer(t *testing.T, db *store.DB) *runoff.Organizer {
	t.Helper()
	o := &runoff.Organizer{ID: uuid.Must(uuid.NewV7()), Email: uuid.NewString() + "@example.org", PasswordHash: "x"}
	if err := db.CreateOrganizer(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return o
}

func electionMsg(owner uuid.UUID, names ...string) runoff.ElectionCreate {
	m := runoff.ElectionCreate{ElectionID: uuid.Must(uuid.NewV7()), OwnerID: owner, Title: "Capital", Seats: 1, RequestedAt: time.Now()}
	for i, n := range names {
		m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: n, Position: i})
	}
	return m
}

func TestMigrateTwice(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ran, err := db.Migrate(context.Background())
	if err != nil || len(ran) != 0 {
		t.Fatalf("second migrate ran %v, %v; want nothing", ran, err)
	}
}

func TestOrganizers(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	dup := &runoff.Organizer{ID: uuid.Must(uuid.NewV7()), Email: o.Email, PasswordHash: "y"}
	if err := db.CreateOrganizer(ctx, dup); !errors.Is(err, runoff.ErrConflict) {
		t.Fatalf("duplicate email: got %v, want ErrConflict", err)
	}
	got, err := db.OrganizerByEmail(ctx, o.Email)
	if err != nil || got.ID != o.ID {
		t.Fatalf("OrganizerByEmail = %v, %v", got, err)
	}
	if _, err := db.OrganizerByEmail(ctx, "nobody@example.org"); !errors.Is(err, runoff.ErrNotFound) {
		t.Fatalf("unknown email: got %v, want ErrNotFound", err)
	}
}

func TestCreateElectionsIdempotent(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "Memphis", "Nashville", "Chattanooga", "Knoxville")
	bad := electionMsg(uuid.Must(uuid.NewV7()), "A", "B") // no such organizer
	invalid := electionMsg(o.ID, "Only one")
	out, err := db.CreateElections(ctx, []runoff.ElectionCreate{m, m, bad, invalid})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Dead != "" || out[1].Dead != "" || out[2].Dead == "" || out[3].Dead == "" {
		t.Fatalf("outcomes = %+v", out)
	}
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	e, err := db.Election(ctx, m.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Candidates) != 4 || e.Candidates[3].Name != "Knoxville" || e.Status != runoff.StatusOpen {
		t.Fatalf("election = %+v", e)
	}
	list, err := db.ElectionsByOwner(ctx, o.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("ElectionsByOwner = %v, %v", list, err)
	}
	if _, err := db.Election(ctx, bad.ElectionID); !errors.Is(err, runoff.ErrNotFound) {
		t.Fatalf("election of unknown owner stored: %v", err)
	}
}

func TestStoreVotes(t *testing.T) {
	db, u := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B", "C")
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	a, b, c := m.Candidates[0].ID, m.Candidates[1].ID, m.Candidates[2].ID
	vote := func(r ...uuid.UUID) runoff.VoteSubmit {
		return runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: r, SubmittedAt: time.Now()}
	}
	v1, v2, v3 := vote(a, b), vote(a, b), vote(c)
	dupCand := vote(a, a)
	orphan := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: uuid.Must(uuid.NewV7()), Ranking: []uuid.UUID{a}}
	out, touched, err := db.StoreVotes(ctx, []runoff.VoteSubmit{v1, v2, v3, v1, dupCand, orphan})
	if err != nil {
		t.Fatal(err)
	}
	if out[5].Dead == "" || out[0].Dead != "" || out[4].Dead != "" {
		t.Fatalf("outcomes = %+v", out)
	}
	if len(touched) != 1 || touched[0] != m.ElectionID {
		t.Fatalf("touched = %v", touched)
	}
	// Redelivery of the whole batch changes nothing.
	if _, touched, err = db.StoreVotes(ctx, []runoff.VoteSubmit{v1, v2, v3}); err != nil || len(touched) != 0 {
		t.Fatalf("redelivery: touched %v, %v", touched, err)
	}
	tally, err := db.Tally(ctx, m.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Election.BallotsCounted != 3 || len(tally.Rankings) != 2 {
		t.Fatalf("tally = %+v (counted %d)", tally.Rankings, tally.Election.BallotsCounted)
	}
	for _, rc := range tally.Rankings {
		if len(rc.Ranking) == 2 && rc.Count != 2 || len(rc.Ranking) == 1 && rc.Count != 1 {
			t.Fatalf("ranking %v count %d", rc.Ranking, rc.Count)
		}
	}
	got, err := db.Ballot(ctx, dupCand.BallotID)
	if err != nil || got.Status != runoff.BallotRejected || got.Reason == "" {
		t.Fatalf("duplicate-candidate ballot = %+v, %v", got, err)
	}
	got, err = db.Ballot(ctx, v1.BallotID)
	if err != nil || got.Status != runoff.BallotCounted || len(got.Ranking) != 2 || got.Ranking[1] != b {
		t.Fatalf("ballot = %+v, %v", got, err)
	}

	// A closed election rejects with a reason and counts nothing.
	closeElection(t, u, m.ElectionID)
	late := vote(b)
	if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{late}); err != nil {
		t.Fatal(err)
	}
	got, err = db.Ballot(ctx, late.BallotID)
	if err != nil || got.Status != runoff.BallotRejected {
		t.Fatalf("late ballot = %+v, %v", got, err)
	}
	if tally, _ := db.Tally(ctx, m.ElectionID); tally.Election.BallotsCounted != 3 {
		t.Fatalf("closed election counted a ballot: %d", tally.Election.BallotsCounted)
	}
}

// Concurrent batches over the same elections, with overlapping redeliveries,
// must neither deadlock nor count a ballot twice.
func TestStoreVotesConcurrent(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	var ms []runoff.ElectionCreate
	for range 3 {
		ms = append(ms, electionMsg(o.ID, "A", "B", "C", "D"))
	}
	if _, err := db.CreateElections(ctx, ms); err != nil {
		t.Fatal(err)
	}
	var votes []runoff.VoteSubmit
	for i := range 600 {
		m := ms[i%3]
		r := []uuid.UUID{m.Candidates[i%4].ID, m.Candidates[(i+1)%4].ID}
		votes = append(votes, runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: r, SubmittedAt: time.Now()})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker takes overlapping windows: every ballot is seen twice.
			for start := w * 50; start < len(votes); start += 100 {
				end := min(start+100, len(votes))
				if _, _, err := db.StoreVotes(ctx, votes[start:end]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int64
	for _, m := range ms {
		tally, err := db.Tally(ctx, m.ElectionID)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, rc := range tally.Rankings {
			sum += rc.Count
		}
		if sum != tally.Election.BallotsCounted {
			t.Fatalf("ranking counts sum %d != ballots_counted %d", sum, tally.Election.BallotsCounted)
		}
		total += sum
	}
	if total != int64(len(votes)) {
		t.Fatalf("counted %d ballots, want %d", total, len(votes))
	}
}

func TestResultsSnapshotMonotonic(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Result(ctx, m.ElectionID); !errors.Is(err, runoff.ErrNotFound) {
		t.Fatalf("result before any: %v", err)
	}
	v := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: []uuid.UUID{m.Candidates[0].ID}}
	if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{v}); err != nil {
		t.Fatal(err)
	}
	stale, err := db.StaleElections(ctx, 10)
	if err != nil || len(stale) != 1 || stale[0] != m.ElectionID {
		t.Fatalf("stale = %v, %v", stale, err)
	}
	save := func(n int64) {
		t.Helper()
		err := db.SaveResult(ctx, runoff.ResultSnapshot{ElectionID: m.ElectionID, BallotsCounted: n, CountsVersion: n, Report: []byte(fmt.Sprintf(`{"n":%d}`, n))})
		if err != nil {
			t.Fatal(err)
		}
	}
	save(1)
	save(0) // older: must not replace
	r, err := db.Result(ctx, m.ElectionID)
	if err != nil || r.BallotsCounted != 1 {
		t.Fatalf("result = %+v, %v", r, err)
	}
	if stale, _ := db.StaleElections(ctx, 10); len(stale) != 0 {
		t.Fatalf("still stale: %v", stale)
	}
}

// Postgres not answering is "unavailable" (the web's 503), not a bug (500).
func TestUnreachableIsUnavailable(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://runoff@127.0.0.1:1/runoff?sslmode=disable&connect_timeout=2")
	if !errors.Is(err, runoff.ErrUnavailable) {
		t.Fatalf("Open of a closed port: %v, want ErrUnavailable", err)
	}
	db, _ := storetest.MustOpen(t)
	db.Close()
	if _, err := db.Election(context.Background(), uuid.New()); errors.Is(err, runoff.ErrUnavailable) || errors.Is(err, runoff.ErrNotFound) {
		t.Fatalf("a closed pool is a bug, not an outage: %v", err)
	}
}

// An ID that names something already stored with different content is
// refused with a reason, not dropped in silence: another organizer's
// election ID in a new-election form, a receipt number reused for another
// ballot. The same content again changes nothing.
func TestIDConflictsRefused(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	alice, bob := newOrganizer(t, db), newOrganizer(t, db)
	m := electionMsg(alice.ID, "A", "B")
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	theft := electionMsg(bob.ID, "X", "Y")
	theft.ElectionID = m.ElectionID
	out, err := db.CreateElections(ctx, []runoff.ElectionCreate{m, theft})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Election ID %s is already taken by another election, so this one was not created. Open the new-election form again and submit it from there.", m.ElectionID)
	if out[0].Dead != "" || out[1].Dead != want {
		t.Fatalf("outcomes %+v", out)
	}
	if e, _ := db.Election(ctx, m.ElectionID); e.OwnerID != alice.ID || e.Candidates[0].Name != "A" {
		t.Fatalf("election now %+v", e)
	}

	a, b := m.Candidates[0].ID, m.Candidates[1].ID
	v := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: []uuid.UUID{a, b}, SubmittedAt: time.Now()}
	changed := v
	changed.Ranking = []uuid.UUID{b, a}
	// In one batch, and in a later one.
	out, _, err = db.StoreVotes(ctx, []runoff.VoteSubmit{v, changed})
	if err != nil {
		t.Fatal(err)
	}
	refused := fmt.Sprintf("A different ballot was already stored under receipt number %s, so this one was not counted. Open the ballot page again to vote with a new ballot.", v.BallotID)
	if out[0].Dead != "" || out[1].Dead != refused {
		t.Fatalf("same batch: %+v", out)
	}
	out, _, err = db.StoreVotes(ctx, []runoff.VoteSubmit{changed, v})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Dead != refused || out[1].Dead != "" {
		t.Fatalf("later batch: %+v", out)
	}
	if got, _ := db.Ballot(ctx, v.BallotID); got.Ranking[0] != a {
		t.Fatalf("stored ranking changed: %v", got.Ranking)
	}
	if tally, _ := db.Tally(ctx, m.ElectionID); tally.Election.BallotsCounted != 1 {
		t.Fatalf("counted %d, want 1", tally.Election.BallotsCounted)
	}
}

// Data Postgres refuses is classified as runoff.ErrInvalid, so the worker
// dead-letters the culprit instead of retrying for ever.
func TestRefusedDataIsInvalid(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	// A future timestamp Postgres cannot hold: a data exception (22008).
	m.RequestedAt = time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := db.CreateElections(ctx, []runoff.ElectionCreate{m})
	if !errors.Is(err, runoff.ErrInvalid) || errors.Is(err, runoff.ErrUnavailable) {
		t.Fatalf("refused data: %v, want ErrInvalid", err)
	}
}

// The RCTab report is kept byte for byte, and the results model round-trips.
func TestResultSnapshotKeepsReportAndModel(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	report := []byte("{\n  \"zeta\": 1,\n  \"alpha\": [ \"kept as written\" ]\n}\n")
	model := runoff.Results{Seats: 1, Winners: []string{"A"}, Candidates: []string{"A", "B"}, Ballots: 3,
		Rounds: []runoff.ResultRound{{Number: 1, Threshold: "2", ThresholdRule: "More than half", Continuing: "3",
			Tally: []runoff.CandidateRound{{Name: "A", Votes: "2", Share: 200.0 / 3, Status: runoff.CandidateElected}, {Name: "B", Votes: "1", Share: 100.0 / 3, Status: runoff.CandidateContinuing}}}}}
	if err := db.SaveResult(ctx, runoff.ResultSnapshot{ElectionID: m.ElectionID, BallotsCounted: 3, Report: report, Model: model}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Result(ctx, m.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Report) != string(report) {
		t.Errorf("report came back as %q", got.Report)
	}
	if !reflect.DeepEqual(got.Model, model) {
		t.Errorf("model came back as %+v", got.Model)
	}
}

// The dashboard's held-message counts: per election of the organizer, not
// requeued, and not another organizer's message naming the election.
func TestHeldByOwner(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o, other := newOrganizer(t, db), newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	mk := func(organizer *uuid.UUID) runoff.DeadLetter {
		return runoff.DeadLetter{ID: uuid.New(), ElectionID: &m.ElectionID, OrganizerID: organizer, RoutingKey: runoff.KeyVoteSubmit, Reason: "x", Body: []byte("{}"), DeadAt: time.Now()}
	}
	requeued := mk(nil)
	if err := db.SaveDeadLetters(ctx, []runoff.DeadLetter{mk(nil), mk(&o.ID), mk(&other.ID), requeued}); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkRequeued(ctx, &requeued, o.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	held, err := db.HeldByOwner(ctx, o.ID)
	if err != nil || len(held) != 1 || held[m.ElectionID] != 2 {
		t.Fatalf("held = %v, %v; want 2 for the election", held, err)
	}
}
