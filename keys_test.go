package runoff_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

func TestDeriveKey(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	e, batch := uuid.New(), uuid.New()
	k := runoff.DeriveKey(secret, e, batch, 0)
	if !regexp.MustCompile(`^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`).MatchString(k) {
		t.Fatalf("key %q is not four groups of four base32 characters", k)
	}
	if again := runoff.DeriveKey(secret, e, batch, 0); again != k {
		t.Fatalf("the same key derived twice differs: %s, %s", k, again)
	}
	seen := map[string]bool{}
	for _, other := range []string{
		runoff.DeriveKey(secret, e, batch, 1),
		runoff.DeriveKey(secret, e, uuid.New(), 0),
		runoff.DeriveKey(secret, uuid.New(), batch, 0),
		runoff.DeriveKey([]byte("another secret, just as long as.."), e, batch, 0),
		k,
	} {
		if seen[other] {
			t.Fatalf("two different inputs derived the same key %s", other)
		}
		seen[other] = true
	}
	// A key typed in lower case, without dashes, with the digits people
	// mistake letters for, is the same key.
	typed := strings.NewReplacer("-", " ", "O", "0", "I", "1", "B", "8").Replace(strings.ToLower(k))
	if runoff.HashKey(e, typed) != runoff.HashKey(e, k) || runoff.HashKey(e, k) == "" {
		t.Fatalf("typed %q hashes differently from %q", typed, k)
	}
	if runoff.HashKey(uuid.New(), k) == runoff.HashKey(e, k) {
		t.Fatal("the same key hashes alike in two elections")
	}
	for _, bad := range []string{"", "ABCD", k + "A", "ABCD-EFGH-IJKL-MNO9", "ABCD-EFGH-IJKL-MNO!"} {
		if h := runoff.HashKey(e, bad); h != "" {
			t.Errorf("HashKey(%q) = %q, want no hash", bad, h)
		}
	}
}

func TestValidateAccess(t *testing.T) {
	for _, tc := range []struct {
		access, changes string
		field, want     string
	}{
		{runoff.AccessOpen, "", "", ""},
		{runoff.AccessKeys, "", "", ""},
		{runoff.AccessKeys, runoff.ChangesAllowed, "", ""},
		{"invite", "", "access", "Choose who may vote: anyone with the link, or holders of a voter key."},
		{runoff.AccessKeys, "sometimes", "changes", "Changing a vote is either allowed or not."},
		{runoff.AccessOpen, runoff.ChangesAllowed, "changes", "Only voters with keys can change their vote: with an open link, Runoff cannot tell whose ballot to replace."},
	} {
		m := election("A", "B")
		m.Settings.Access, m.Settings.Changes = tc.access, tc.changes
		err := runoff.ValidateElection(m)
		var p *runoff.Problem
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s/%s: %v", tc.access, tc.changes, err)
		case tc.field != "" && (!errors.As(err, &p) || p.Fields[tc.field] != tc.want):
			t.Errorf("%s/%s: got %v, want %s: %q", tc.access, tc.changes, err, tc.field, tc.want)
		}
	}
}

func TestValidateKeys(t *testing.T) {
	h := runoff.HashKey(uuid.New(), "ABCD-EFGH-IJKL-MNOP")
	ok := runoff.ElectionKeys{ChangeID: uuid.New(), Hashes: []string{h}}
	if err := runoff.ValidateKeys(ok); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    runoff.ElectionKeys
		want string
	}{
		{"none", runoff.ElectionKeys{ChangeID: uuid.New()}, "Issue between 1 and 5000 keys at a time."},
		{"no ID", runoff.ElectionKeys{Hashes: []string{h}}, "This batch of keys has no ID."},
		{"plain key", runoff.ElectionKeys{ChangeID: uuid.New(), Hashes: []string{"ABCD-EFGH-IJKL-MNOP"}}, "Key 1 is not a key's hash."},
		{"twice", runoff.ElectionKeys{ChangeID: uuid.New(), Hashes: []string{h, h}}, "Key 2 is listed twice."},
		{"labels", runoff.ElectionKeys{ChangeID: uuid.New(), Hashes: []string{h}, Labels: []string{"a", "b"}}, "Each key needs its voter, or none does."},
		{"long label", runoff.ElectionKeys{ChangeID: uuid.New(), Hashes: []string{h}, Labels: []string{strings.Repeat("x", 201)}}, "Voter 1 must be one line of at most 200 characters."},
	} {
		if got := runoff.Reason(runoff.ValidateKeys(tc.m)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDecideKeys(t *testing.T) {
	m := election("A", "B")
	e := stored(m, runoff.StatusOpen)
	e.Access = runoff.AccessKeys
	batch := runoff.ElectionKeys{ChangeID: uuid.New(), ElectionID: e.ID, OrganizerID: e.OwnerID,
		Hashes: []string{runoff.HashKey(e.ID, "ABCD-EFGH-IJKL-MNOP")}, RequestedAt: time.Now()}
	if dead := runoff.DecideKeys(e, batch); dead != "" {
		t.Fatal(dead)
	}
	forged := batch
	forged.OrganizerID = uuid.New()
	if got, want := runoff.DecideKeys(e, forged), fmt.Sprintf("Organizer %s does not own election %s, so it is not theirs to issue keys for.", forged.OrganizerID, e.ID); got != want {
		t.Errorf("forged: got %q, want %q", got, want)
	}
	open := *e
	open.Access = runoff.AccessOpen
	if got := runoff.DecideKeys(&open, batch); got != "This election is open to anyone with the link; voter keys are for elections set to vote with keys." {
		t.Errorf("open link: got %q", got)
	}
	closed := *e
	closed.Status = runoff.StatusClosed
	if got := runoff.DecideKeys(&closed, batch); got != "The election has closed, so no more voter keys can be issued." {
		t.Errorf("closed: got %q", got)
	}
}

func TestDecideKeyedBallot(t *testing.T) {
	m := election("A", "B")
	e := stored(m, runoff.StatusOpen)
	e.Access = runoff.AccessKeys
	changes := *e
	changes.Changes = runoff.ChangesAllowed
	t0 := time.Now()
	counted := runoff.BallotDecision{Status: runoff.BallotCounted}
	v := runoff.VoteSubmit{BallotID: uuid.New(), ElectionID: e.ID, KeyHash: "h", SubmittedAt: t0}
	current := uuid.New()
	used := runoff.KeyUse{Issued: true, Used: true, Ballot: current, SubmittedAt: t0.Add(-time.Minute)}
	later := runoff.KeyUse{Issued: true, Used: true, Ballot: current, SubmittedAt: t0.Add(time.Minute)}
	noKey := v
	noKey.KeyHash = ""
	for _, tc := range []struct {
		name string
		e    *runoff.Election
		v    runoff.VoteSubmit
		d    runoff.BallotDecision
		k    runoff.KeyUse
		want runoff.KeyDecision
	}{
		{"first use", e, v, counted, runoff.KeyUse{Issued: true}, runoff.KeyDecision{Status: runoff.BallotCounted}},
		{"no key", e, noKey, counted, runoff.KeyUse{}, runoff.KeyDecision{Status: runoff.BallotRejected, Reason: runoff.ReasonNoKey}},
		{"not issued", e, v, counted, runoff.KeyUse{}, runoff.KeyDecision{Status: runoff.BallotRejected, Reason: runoff.ReasonUnknownKey}},
		{"used", e, v, counted, used, runoff.KeyDecision{Status: runoff.BallotRejected, Reason: runoff.ReasonKeyUsed}},
		{"rejected anyway", e, v, runoff.BallotDecision{Status: runoff.BallotRejected, Reason: "closed"}, used, runoff.KeyDecision{Status: runoff.BallotRejected, Reason: "closed"}},
		{"replaces", &changes, v, counted, used, runoff.KeyDecision{Status: runoff.BallotCounted, Replaces: true}},
		{"earlier than current", &changes, v, counted, later, runoff.KeyDecision{Status: runoff.BallotReplaced, Reason: runoff.ReasonReplaced}},
		{"open link ignores keys", stored(m, runoff.StatusOpen), noKey, counted, runoff.KeyUse{}, runoff.KeyDecision{Status: runoff.BallotCounted}},
	} {
		if got := runoff.DecideKeyedBallot(tc.e, tc.v, tc.d, tc.k); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
