package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
)

func act(t *testing.T, db *store.DB, key string, m runoff.ElectionAction) string {
	t.Helper()
	if m.ChangeID == uuid.Nil {
		m.ChangeID = uuid.Must(uuid.NewV7())
	}
	out, err := db.ActOnElection(context.Background(), key, m)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return out.Dead
}

func stateOf(t *testing.T, db *store.DB, id uuid.UUID, at time.Time) string {
	t.Helper()
	e, err := db.Election(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e.StateAt(at)
}

// A draft is edited, then opened by hand; a ballot the web received before
// the close counts though carried out after it, and one received after is
// rejected with the reason; reopening takes ballots again. Every step is
// checked against the owner: another organizer's message changes nothing.
func TestDraftEditOpenCloseReopen(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o, stranger := newOrganizer(t, db), newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	m.Draft = true
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	if st := stateOf(t, db, m.ElectionID, time.Now()); st != runoff.StatusDraft {
		t.Fatalf("created as %s, want draft", st)
	}
	// A ballot for a draft is rejected.
	early := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: []uuid.UUID{m.Candidates[0].ID}, SubmittedAt: time.Now()}
	if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{early}); err != nil {
		t.Fatal(err)
	}
	if b, _ := db.Ballot(ctx, early.BallotID); b.Status != runoff.BallotRejected || b.Reason != "The election was not open yet when this ballot arrived." {
		t.Fatalf("ballot for a draft: %+v", b)
	}

	// Edit the draft: new title, three candidates, two seats by STV.
	up := runoff.ElectionUpdate{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, OrganizerID: o.ID, Title: "Board", Seats: 2,
		Settings:    runoff.Settings{WinnerMode: runoff.WinnerSTV, Tiebreak: runoff.TiebreakRandom, Results: runoff.ResultsAfterClose, Access: runoff.AccessOpen, Timezone: "Europe/Paris"},
		RequestedAt: time.Now()}
	for i, n := range []string{"X", "Y", "Z"} {
		up.Candidates = append(up.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: n, Position: i, Description: "about " + n})
	}
	forged := up
	forged.ChangeID, forged.OrganizerID, forged.Title = uuid.Must(uuid.NewV7()), stranger.ID, "Stolen"
	if out, err := db.UpdateElection(ctx, forged); err != nil || out.Dead != fmt.Sprintf("Organizer %s does not own election %s, so it is not theirs to change.", stranger.ID, m.ElectionID) {
		t.Fatalf("forged update: %+v, %v", out, err)
	}
	for range 2 { // redelivered: the same change once
		if out, err := db.UpdateElection(ctx, up); err != nil || out.Dead != "" {
			t.Fatalf("update: %+v, %v", out, err)
		}
	}
	if done, _ := db.ChangeApplied(ctx, up.ChangeID); !done {
		t.Fatal("update not recorded as applied")
	}
	e, _ := db.Election(ctx, m.ElectionID)
	if e.Title != "Board" || e.Seats != 2 || len(e.Candidates) != 3 || e.Candidates[2].Description != "about Z" || e.WinnerMode != runoff.WinnerSTV ||
		e.Results != runoff.ResultsAfterClose || e.Timezone != "Europe/Paris" || e.RandomSeed == nil {
		t.Fatalf("after edit: %+v", e)
	}

	if dead := act(t, db, runoff.KeyElectionOpen, runoff.ElectionAction{ElectionID: m.ElectionID, OrganizerID: stranger.ID, At: time.Now()}); dead == "" {
		t.Fatal("a stranger opened the election")
	}
	seed := *e.RandomSeed // drawn when the random rule was saved, kept at the opening
	opened := time.Now()
	if dead := act(t, db, runoff.KeyElectionOpen, runoff.ElectionAction{ElectionID: m.ElectionID, OrganizerID: o.ID, At: opened}); dead != "" {
		t.Fatal(dead)
	}
	e, _ = db.Election(ctx, m.ElectionID)
	if e.StateAt(time.Now()) != runoff.StatusOpen || e.OpenedAt == nil || e.RandomSeed == nil || *e.RandomSeed != seed {
		t.Fatalf("after open: %+v", e)
	}
	// Once open, the candidates are frozen.
	late := up
	late.ChangeID, late.Title, late.RequestedAt = uuid.Must(uuid.NewV7()), "Renamed", time.Now()
	if out, _ := db.UpdateElection(ctx, late); out.Dead == "" {
		t.Fatal("an open election's title changed")
	}

	vote := func(at time.Time) runoff.VoteSubmit {
		return runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: []uuid.UUID{e.Candidates[1].ID}, SubmittedAt: at}
	}
	closeAt := time.Now()
	before, after := vote(closeAt.Add(-time.Second)), vote(closeAt.Add(time.Second))
	if dead := act(t, db, runoff.KeyElectionClose, runoff.ElectionAction{ElectionID: m.ElectionID, OrganizerID: o.ID, At: closeAt}); dead != "" {
		t.Fatal(dead)
	}
	if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{before, after}); err != nil {
		t.Fatal(err)
	}
	if b, _ := db.Ballot(ctx, before.BallotID); b.Status != runoff.BallotCounted {
		t.Errorf("ballot received before the close, carried out after: %+v", b)
	}
	if b, _ := db.Ballot(ctx, after.BallotID); b.Status != runoff.BallotRejected || b.Reason != "The election had closed when this ballot arrived." {
		t.Errorf("ballot received after the close: %+v", b)
	}
	if dead := act(t, db, runoff.KeyElectionReopen, runoff.ElectionAction{ElectionID: m.ElectionID, OrganizerID: o.ID, At: time.Now()}); dead != "" {
		t.Fatal(dead)
	}
	again := vote(time.Now())
	if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{again}); err != nil {
		t.Fatal(err)
	}
	if b, _ := db.Ballot(ctx, again.BallotID); b.Status != runoff.BallotCounted {
		t.Errorf("ballot after reopening: %+v", b)
	}
}

// Scheduled opening and closing: the election is a draft before OpensAt,
// open between, closed from ClosesAt, with no one pressing a button; the
// ballots are judged by when the web received them.
func TestScheduledOpenAndClose(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	opens, closes := time.Now().Add(time.Hour).Truncate(time.Second), time.Now().Add(2*time.Hour).Truncate(time.Second)
	m.Settings.OpensAt, m.Settings.ClosesAt = &opens, &closes
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	for at, want := range map[time.Time]string{time.Now(): runoff.StatusDraft, opens.Add(time.Minute): runoff.StatusOpen, closes: runoff.StatusClosed} {
		if st := stateOf(t, db, m.ElectionID, at); st != want {
			t.Errorf("at %s: %s, want %s", at, st, want)
		}
	}
	var votes []runoff.VoteSubmit
	for _, at := range []time.Time{opens.Add(-time.Minute), opens.Add(time.Minute), closes.Add(time.Minute)} {
		votes = append(votes, runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: []uuid.UUID{m.Candidates[0].ID}, SubmittedAt: at})
	}
	if _, _, err := db.StoreVotes(ctx, votes); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{runoff.BallotRejected, runoff.BallotCounted, runoff.BallotRejected} {
		if b, _ := db.Ballot(ctx, votes[i].BallotID); b.Status != want {
			t.Errorf("ballot %d: %s (%s), want %s", i, b.Status, b.Reason, want)
		}
	}
}

// Deleting a closed election needs its title typed again, and leaves no
// ballot, count or result behind; a draft goes without.
func TestDeleteLeavesNothing(t *testing.T) {
	db, u := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	v := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: []uuid.UUID{m.Candidates[0].ID}, SubmittedAt: time.Now()}
	if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{v}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveResult(ctx, runoff.ResultSnapshot{ElectionID: m.ElectionID, BallotsCounted: 1, Report: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	del := runoff.ElectionAction{ElectionID: m.ElectionID, OrganizerID: o.ID, At: time.Now()}
	if dead := act(t, db, runoff.KeyElectionDelete, del); dead != "The election is open; close it before deleting it." {
		t.Fatalf("deleting an open election: %q", dead)
	}
	act(t, db, runoff.KeyElectionClose, runoff.ElectionAction{ElectionID: m.ElectionID, OrganizerID: o.ID, At: time.Now()})
	del.At = time.Now()
	if dead := act(t, db, runoff.KeyElectionDelete, del); dead != "To delete a closed election and all its ballots, type its title exactly to confirm." {
		t.Fatalf("deleting without confirmation: %q", dead)
	}
	del.Confirm = m.Title
	if dead := act(t, db, runoff.KeyElectionDelete, del); dead != "" {
		t.Fatal(dead)
	}
	if dead := act(t, db, runoff.KeyElectionDelete, del); dead != "" { // redelivered
		t.Fatalf("deleting again: %q", dead)
	}
	for _, table := range []string{"elections", "candidates", "ballots", "ranking_counts", "results", "election_changes"} {
		col := "election_id"
		if table == "elections" {
			col = "id"
		}
		if n := countRows(t, u, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = $1", table, col), m.ElectionID); n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
}

// Every organizer action on an election is in its audit log, with who and
// when, once however often its message arrived.
func TestAuditLog(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	m.Draft = true
	m.Settings.Tiebreak = runoff.TiebreakAsk
	for range 2 {
		if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
			t.Fatal(err)
		}
	}
	up := runoff.ElectionUpdate{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, OrganizerID: o.ID, Title: "Board", Seats: 1,
		Candidates: m.Candidates, Settings: m.Settings, RequestedAt: time.Now()}
	if out, err := db.UpdateElection(ctx, up); err != nil || out.Dead != "" {
		t.Fatalf("update: %+v %v", out, err)
	}
	for _, key := range []string{runoff.KeyElectionOpen, runoff.KeyElectionClose, runoff.KeyElectionReopen} {
		if dead := act(t, db, key, runoff.ElectionAction{ElectionID: m.ElectionID, OrganizerID: o.ID, At: time.Now()}); dead != "" {
			t.Fatal(dead)
		}
	}
	wait := &runoff.TieWait{Round: 1, Kind: runoff.TieElimination, Tied: []string{"A", "B"}, Votes: "1"}
	if err := db.SaveResult(ctx, runoff.ResultSnapshot{ElectionID: m.ElectionID, BallotsCounted: 2, Report: []byte("{}"), Model: runoff.Results{Waiting: wait}}); err != nil {
		t.Fatal(err)
	}
	tie := runoff.TieDecision{ID: uuid.Must(uuid.NewV7()), Election: m.ElectionID, Round: 1, Kind: runoff.TieElimination, Tied: []string{"A", "B"}, Selected: "B", DecidedBy: o.ID, DecidedAt: time.Now()}
	for range 2 {
		if out, err := db.DecideTie(ctx, tie); err != nil || out.Dead != "" {
			t.Fatalf("tie: %+v %v", out, err)
		}
	}
	dl := runoff.DeadLetter{ID: uuid.New(), ElectionID: &m.ElectionID, MessageID: "ballot-1", RoutingKey: runoff.KeyVoteSubmit, Reason: "no such candidate", Body: []byte("{}"), DeadAt: time.Now()}
	if err := db.SaveDeadLetters(ctx, []runoff.DeadLetter{dl}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := db.MarkRequeued(ctx, &dl, o.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	log, err := db.AuditLog(ctx, m.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		if e.By != o.Email {
			t.Errorf("%s by %q", e.Action, e.By)
		}
		got = append(got, e.Action+": "+e.Detail)
	}
	want := []string{runoff.KeyElectionCreate + ": ", runoff.KeyElectionUpdate + ": ", runoff.KeyElectionOpen + ": ", runoff.KeyElectionClose + ": ", runoff.KeyElectionReopen + ": ",
		runoff.KeyElectionTiebreak + ": Chose B to be eliminated in round 1, where A and B were tied.",
		runoff.KeyDeadLetterRequeue + ": Requeued a held vote.submit message (ballot-1), held because: no such candidate"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("audit log:\n%q\nwant\n%q", got, want)
	}
}

// A snapshot is stale once anything the count depends on changed, even if
// the number of ballots did not: here a tie decision.
func TestSnapshotStaleByCountsVersion(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	m.Settings.Tiebreak = runoff.TiebreakAsk
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	v := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: []uuid.UUID{m.Candidates[0].ID}, SubmittedAt: time.Now()}
	if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{v}); err != nil {
		t.Fatal(err)
	}
	tally, err := db.Tally(ctx, m.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	wait := &runoff.TieWait{Round: 1, Kind: runoff.TieElimination, Tied: []string{"A", "B"}, Votes: "0"}
	snap := runoff.ResultSnapshot{ElectionID: m.ElectionID, BallotsCounted: tally.Election.BallotsCounted, CountsVersion: tally.Election.CountsVersion,
		Report: []byte("{}"), Model: runoff.Results{Waiting: wait}, ComputedAt: tally.ReadAt}
	if err := db.SaveResult(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if stale, _ := db.StaleElections(ctx, 10); len(stale) != 0 {
		t.Fatalf("fresh snapshot stale: %v", stale)
	}
	d := runoff.TieDecision{ID: uuid.Must(uuid.NewV7()), Election: m.ElectionID, Round: 1, Kind: runoff.TieElimination, Tied: []string{"A", "B"}, Selected: "B", DecidedBy: o.ID, DecidedAt: time.Now()}
	if out, err := db.DecideTie(ctx, d); err != nil || out.Dead != "" {
		t.Fatalf("tie: %+v %v", out, err)
	}
	if stale, _ := db.StaleElections(ctx, 10); len(stale) != 1 {
		t.Fatalf("after the tie decision: stale %v, want the election", stale)
	}
	// The snapshot made before the decision cannot overwrite a newer one.
	newer := snap
	newer.CountsVersion++
	newer.Report = []byte(`{"newer":true}`)
	if err := db.SaveResult(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveResult(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.Result(ctx, m.ElectionID); string(r.Report) != `{"newer":true}` {
		t.Fatalf("an older snapshot replaced a newer one: %s", r.Report)
	}
}

// Paper ballots: stored once however often a batch arrives, counted like
// online ones, also after the close; refused from anyone but the owner and
// into a draft.
func TestStoreImport(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o, stranger := newOrganizer(t, db), newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	act(t, db, runoff.KeyElectionClose, runoff.ElectionAction{ElectionID: m.ElectionID, OrganizerID: o.ID, At: time.Now()})
	importID := uuid.New()
	imp := runoff.ElectionImport{ImportID: importID, BatchID: uuid.New(), ElectionID: m.ElectionID, OrganizerID: o.ID, FileName: "p.csv", Total: 3, RequestedAt: time.Now(),
		Ballots: []runoff.ImportedBallot{{Row: 1, Ranking: []uuid.UUID{m.Candidates[0].ID}}, {Row: 2, Ranking: []uuid.UUID{m.Candidates[1].ID, m.Candidates[0].ID}},
			{Row: 3, Ranking: []uuid.UUID{m.Candidates[0].ID, m.Candidates[0].ID}}}}
	for range 2 {
		out, _, err := db.StoreImport(ctx, imp)
		if err != nil || out.Dead != "" {
			t.Fatalf("import: %+v %v", out, err)
		}
	}
	total, stored, err := db.ImportProgress(ctx, m.ElectionID, importID)
	if err != nil || total != 3 || stored != 3 {
		t.Fatalf("progress %d of %d, %v", stored, total, err)
	}
	if e, _ := db.Election(ctx, m.ElectionID); e.BallotsCounted != 2 {
		t.Fatalf("counted %d, want 2 (the third ranks A twice)", e.BallotsCounted)
	}
	if b, _ := db.Ballot(ctx, runoff.ImportedBallotID(importID, 3)); b.Status != runoff.BallotRejected || b.Reason != "You ranked A both 1st and 2nd. Rank each candidate at most once." {
		t.Fatalf("the bad paper ballot: %+v", b)
	}
	forged := imp
	forged.OrganizerID = stranger.ID
	if out, _, _ := db.StoreImport(ctx, forged); out.Dead != fmt.Sprintf("Organizer %s does not own election %s, so it is not theirs to import into.", stranger.ID, m.ElectionID) {
		t.Fatalf("forged import: %q", out.Dead)
	}
	draft := electionMsg(o.ID, "A", "B")
	draft.Draft = true
	db.CreateElections(ctx, []runoff.ElectionCreate{draft})
	intoDraft := imp
	intoDraft.ElectionID, intoDraft.ImportID = draft.ElectionID, uuid.New()
	if out, _, _ := db.StoreImport(ctx, intoDraft); out.Dead != "The election is still a draft, and its candidates may change: open it before importing paper ballots." {
		t.Fatalf("import into a draft: %q", out.Dead)
	}
}
