package store_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
)

var testSecret = []byte("a test secret of at least 32 bytes!!")

// keysElection creates an open election that takes voter keys and issues
// n keys for it; it returns the election and the plain keys.
func keysElection(t *testing.T, db *store.DB, changes string, n int) (runoff.ElectionCreate, []string) {
	t.Helper()
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B", "C")
	m.Settings.Access, m.Settings.Changes = runoff.AccessKeys, changes
	if out, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil || out[0].Dead != "" {
		t.Fatalf("create: %v %+v", err, out)
	}
	batch := runoff.ElectionKeys{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, OrganizerID: o.ID, RequestedAt: time.Now()}
	var keys []string
	for i := range n {
		k := runoff.DeriveKey(testSecret, m.ElectionID, batch.ChangeID, i)
		keys = append(keys, k)
		batch.Hashes = append(batch.Hashes, runoff.HashKey(m.ElectionID, k))
		batch.Labels = append(batch.Labels, fmt.Sprintf("voter%d@example.org", i))
	}
	for range 2 { // a redelivery issues nothing more
		if out, err := db.IssueKeys(ctx, batch); err != nil || out.Dead != "" {
			t.Fatalf("issue keys: %v %+v", err, out)
		}
	}
	e, err := db.Election(ctx, m.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	if e.KeysIssued != int64(n) || e.Access != runoff.AccessKeys || e.Changes != changes {
		t.Fatalf("after issuing %d keys: issued %d, access %q, changes %q", n, e.KeysIssued, e.Access, e.Changes)
	}
	return m, keys
}

func keyedVote(m runoff.ElectionCreate, key string, at time.Time, cand int) runoff.VoteSubmit {
	return runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, KeyHash: runoff.HashKey(m.ElectionID, key),
		Ranking: []uuid.UUID{m.Candidates[cand].ID}, SubmittedAt: at}
}

// Eight ballots racing with one key, each in its own batch on its own
// connection: exactly one counts, and the others' receipts say why.
func TestKeyRaceCountsOne(t *testing.T) {
	db, url := storetest.MustOpen(t)
	ctx := context.Background()
	m, keys := keysElection(t, db, "", 2)
	votes := make([]runoff.VoteSubmit, 8)
	for i := range votes {
		votes[i] = keyedVote(m, keys[0], time.Now(), i%3)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(votes))
	start := make(chan struct{})
	for i, v := range votes {
		wg.Go(func() {
			<-start
			_, _, errs[i] = db.StoreVotes(ctx, []runoff.VoteSubmit{v})
		})
	}
	close(start)
	wg.Wait()
	counted := 0
	for i, v := range votes {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		b, err := db.Ballot(ctx, v.BallotID)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case b.Status == runoff.BallotCounted:
			counted++
		case b.Status != runoff.BallotRejected || b.Reason != runoff.ReasonKeyUsed:
			t.Errorf("ballot %d: %s %q, want rejected %q", i, b.Status, b.Reason, runoff.ReasonKeyUsed)
		}
	}
	if counted != 1 {
		t.Fatalf("%d ballots counted with one key, want exactly 1", counted)
	}
	e, _ := db.Election(ctx, m.ElectionID)
	if e.BallotsCounted != 1 || e.KeysUsed != 1 || e.KeysIssued != 2 {
		t.Fatalf("counted %d, keys used %d of %d; want 1, 1 of 2", e.BallotsCounted, e.KeysUsed, e.KeysIssued)
	}
	if n := countRows(t, url, `SELECT coalesce(sum(count), 0) FROM ranking_counts WHERE election_id = $1`, m.ElectionID); n != 1 {
		t.Fatalf("ranking counts sum to %d, want 1", n)
	}
	// Without changes, nothing links the key to its ballot.
	if n := countRows(t, url, `SELECT count(*) FROM key_uses WHERE ballot_id IS NOT NULL OR submitted_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d key uses name a ballot in an election without changes", n)
	}

	// A ballot without a key, or with a key never issued, is rejected.
	noKey := keyedVote(m, keys[1], time.Now(), 0)
	noKey.KeyHash = ""
	stranger := keyedVote(m, "ABCD-EFGH-IJKL-MNOP", time.Now(), 0)
	if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{noKey, stranger}); err != nil {
		t.Fatal(err)
	}
	for v, want := range map[uuid.UUID]string{noKey.BallotID: runoff.ReasonNoKey, stranger.BallotID: runoff.ReasonUnknownKey} {
		if b, _ := db.Ballot(ctx, v); b.Status != runoff.BallotRejected || b.Reason != want {
			t.Errorf("got %s %q, want rejected %q", b.Status, b.Reason, want)
		}
	}
}

type tallyState struct {
	counted, keysUsed int64
	rankings          map[string]int64
}

func tallyOf(t *testing.T, db *store.DB, id uuid.UUID) tallyState {
	t.Helper()
	tl, err := db.Tally(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	s := tallyState{counted: tl.Election.BallotsCounted, keysUsed: tl.Election.KeysUsed, rankings: map[string]int64{}}
	for _, rc := range tl.Rankings {
		s.rankings[fmt.Sprint(rc.Ranking)] = rc.Count
	}
	return s
}

func statusOf(t *testing.T, db *store.DB, id uuid.UUID) string {
	t.Helper()
	b, err := db.Ballot(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status == runoff.BallotReplaced && b.Reason != runoff.ReasonReplaced {
		t.Fatalf("replaced ballot's reason %q", b.Reason)
	}
	return b.Status
}

// With changes allowed, a later ballot with the same key replaces the
// earlier: the counts move, the earlier receipt says replaced, an earlier
// one carried out late is itself replaced, and redelivering any of them
// changes nothing.
func TestReplacedVote(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	m, keys := keysElection(t, db, runoff.ChangesAllowed, 2)
	t0 := time.Now().Add(-time.Minute)
	first := keyedVote(m, keys[0], t0, 0)
	other := keyedVote(m, keys[1], t0, 0)
	store := func(vs ...runoff.VoteSubmit) []uuid.UUID {
		t.Helper()
		out, touched, err := db.StoreVotes(ctx, vs)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range out {
			if o.Dead != "" {
				t.Fatalf("ballot %d dead: %s", i, o.Dead)
			}
		}
		return touched
	}
	store(first, other)
	a, b := fmt.Sprint([]uuid.UUID{m.Candidates[0].ID}), fmt.Sprint([]uuid.UUID{m.Candidates[1].ID})
	c := fmt.Sprint([]uuid.UUID{m.Candidates[2].ID})
	want := tallyState{counted: 2, keysUsed: 2, rankings: map[string]int64{a: 2}}
	if got := tallyOf(t, db, m.ElectionID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after two first ballots: %+v, want %+v", got, want)
	}

	second := keyedVote(m, keys[0], t0.Add(10*time.Second), 1)
	if touched := store(second); len(touched) != 1 || touched[0] != m.ElectionID {
		t.Fatalf("a replacement touched %v, want the election so its results are recomputed", touched)
	}
	want = tallyState{counted: 2, keysUsed: 2, rankings: map[string]int64{a: 1, b: 1}}
	check := func(when string) {
		t.Helper()
		if got := tallyOf(t, db, m.ElectionID); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: %+v, want %+v", when, got, want)
		}
	}
	check("after a replacement")
	if st := statusOf(t, db, first.BallotID); st != runoff.BallotReplaced {
		t.Fatalf("the first ballot is %s, want replaced", st)
	}

	// Redelivered, in any order, nothing moves.
	store(second, first, other)
	store(first)
	check("after redeliveries")

	// A ballot the web received before the current one, carried out
	// late, does not replace it: it is replaced itself.
	late := keyedVote(m, keys[0], t0.Add(5*time.Second), 2)
	store(late)
	check("after a late earlier ballot")
	if st := statusOf(t, db, late.BallotID); st != runoff.BallotReplaced {
		t.Fatalf("the late earlier ballot is %s, want replaced", st)
	}

	// Two ballots with one key in one batch: the later counts.
	third, fourth := keyedVote(m, keys[0], t0.Add(30*time.Second), 2), keyedVote(m, keys[0], t0.Add(20*time.Second), 0)
	store(third, fourth)
	want = tallyState{counted: 2, keysUsed: 2, rankings: map[string]int64{a: 1, c: 1}}
	check("after a batch with two ballots of one key")
	for id, st := range map[uuid.UUID]string{second.BallotID: runoff.BallotReplaced, third.BallotID: runoff.BallotCounted, fourth.BallotID: runoff.BallotReplaced} {
		if got := statusOf(t, db, id); got != st {
			t.Errorf("ballot %s is %s, want %s", id, got, st)
		}
	}
	store(third, fourth, second)
	check("after redelivering the batch")
}

// No table holds a plain key, in any form a voter might type it.
func TestNoPlainKeyStored(t *testing.T) {
	db, url := storetest.MustOpen(t)
	ctx := context.Background()
	for _, changes := range []string{"", runoff.ChangesAllowed} {
		m, keys := keysElection(t, db, changes, 5)
		if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{keyedVote(m, keys[0], time.Now(), 0), keyedVote(m, keys[1], time.Now(), 1)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.StoreVotes(ctx, []runoff.VoteSubmit{keyedVote(m, keys[0], time.Now(), 2)}); err != nil {
			t.Fatal(err)
		}
		assertNoPlainKeys(t, url, keys)
	}
}

// assertNoPlainKeys scans every table of the database, as text, for the
// keys as printed and as normalized.
func assertNoPlainKeys(t *testing.T, url string, keys []string) {
	t.Helper()
	tables := storetest.Tables(t, url)
	if len(tables) < 8 || tables["voter_keys"] == "" {
		t.Fatalf("found only tables %v, or no keys", slices.Collect(maps.Keys(tables)))
	}
	for table, dump := range tables {
		text := strings.ToUpper(dump)
		for _, k := range keys {
			if strings.Contains(text, k) || strings.Contains(text, strings.ReplaceAll(k, "-", "")) {
				t.Errorf("table %s holds the plain key %s", table, k)
			}
		}
	}
}

// An election.keys from someone other than the owner, or for an open-link
// election, is refused and stores nothing.
func TestIssueKeysRefused(t *testing.T) {
	db, url := storetest.MustOpen(t)
	ctx := context.Background()
	m, _ := keysElection(t, db, "", 1)
	forged := runoff.ElectionKeys{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, OrganizerID: uuid.Must(uuid.NewV7()),
		Hashes: []string{runoff.HashKey(m.ElectionID, "ABCD-EFGH-IJKL-MNOP")}, RequestedAt: time.Now()}
	out, err := db.IssueKeys(ctx, forged)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Organizer %s does not own election %s, so it is not theirs to issue keys for.", forged.OrganizerID, m.ElectionID); out.Dead != want {
		t.Fatalf("forged keys: %q, want %q", out.Dead, want)
	}
	if n := countRows(t, url, `SELECT count(*) FROM voter_keys WHERE batch_id = $1`, forged.ChangeID); n != 0 {
		t.Fatalf("a forged batch stored %d keys", n)
	}
}
