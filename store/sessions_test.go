package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store/storetest"
)

// Server-side sessions: found while fresh, gone once idle, old or deleted.
func TestSessions(t *testing.T) {
	db, u := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	for _, h := range []string{"a", "b", "idle", "old"} {
		if err := db.CreateSession(ctx, h, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Session(ctx, "a", 12*time.Hour, 30*24*time.Hour)
	if err != nil || got.ID != o.ID || got.Email != o.Email {
		t.Fatalf("session: %+v, %v", got, err)
	}
	exec(t, u, `UPDATE sessions SET last_seen_at = now() - interval '13 hours' WHERE id_hash = 'idle'`)
	exec(t, u, `UPDATE sessions SET created_at = now() - interval '31 days' WHERE id_hash = 'old'`)
	for _, h := range []string{"idle", "old", "nope"} {
		if _, err := db.Session(ctx, h, 12*time.Hour, 30*24*time.Hour); !errors.Is(err, runoff.ErrNotFound) {
			t.Errorf("session %s: %v, want not found", h, err)
		}
	}
	if err := db.DeleteSession(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "a", time.Hour, time.Hour); !errors.Is(err, runoff.ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
	if err := db.DeleteSessions(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "b", time.Hour, time.Hour); !errors.Is(err, runoff.ErrNotFound) {
		t.Errorf("session after signing out everywhere: %v", err)
	}
}

// The throttle locks a key at its limit within the window, for the lock's
// length, and a success clears failures but not a lock.
func TestThrottle(t *testing.T) {
	db, u := storetest.MustOpen(t)
	ctx := context.Background()
	for range 2 {
		if err := db.Failed(ctx, "k", 3, time.Minute, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if wait, _ := db.Locked(ctx, []string{"k", "other"}); wait != 0 {
		t.Fatalf("locked after 2 of 3: %v", wait)
	}
	if err := db.Succeeded(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := db.Failed(ctx, "k", 3, time.Minute, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	wait, err := db.Locked(ctx, []string{"other", "k"})
	if err != nil || wait < 59*time.Minute || wait > time.Hour {
		t.Fatalf("locked for %v, %v; want about an hour", wait, err)
	}
	if err := db.Succeeded(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if wait, _ := db.Locked(ctx, []string{"k"}); wait == 0 {
		t.Fatal("a success lifted a lock")
	}
	// Failures older than the window start again.
	exec(t, u, `UPDATE throttle SET locked_until = NULL, failures = 2, window_start = now() - interval '2 minutes' WHERE key = 'k'`)
	if err := db.Failed(ctx, "k", 3, time.Minute, time.Hour); err != nil {
		t.Fatal(err)
	}
	if wait, _ := db.Locked(ctx, []string{"k"}); wait != 0 {
		t.Fatalf("an old window's failures counted: locked %v", wait)
	}
}

// A one-time link works once and not after its hour; setting a password
// ends the organizer's sessions.
func TestResetTokensAndPassword(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	if err := db.CreateSession(ctx, "s", o.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateResetToken(ctx, "live", o.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateResetToken(ctx, "dead", o.ID, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, err := db.ResetToken(ctx, "live"); err != nil || got.ID != o.ID {
		t.Fatalf("live token: %v, %v", got, err)
	}
	if _, err := db.ResetToken(ctx, "dead"); !errors.Is(err, runoff.ErrNotFound) {
		t.Fatalf("expired token: %v", err)
	}
	if id, err := db.UseResetToken(ctx, "live"); err != nil || id != o.ID {
		t.Fatalf("use: %v, %v", id, err)
	}
	if _, err := db.UseResetToken(ctx, "live"); !errors.Is(err, runoff.ErrNotFound) {
		t.Fatalf("used twice: %v", err)
	}
	if err := db.SetPassword(ctx, o.ID, "new-hash"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "s", time.Hour, time.Hour); !errors.Is(err, runoff.ErrNotFound) {
		t.Fatalf("session after a new password: %v", err)
	}
	if got, _ := db.OrganizerByEmail(ctx, o.Email); got.PasswordHash != "new-hash" {
		t.Fatalf("hash %q", got.PasswordHash)
	}
}

// An invitation is recorded once per key, and counted.
func TestInvitations(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	o := newOrganizer(t, db)
	m := electionMsg(o.ID, "A", "B")
	if _, err := db.CreateElections(ctx, []runoff.ElectionCreate{m}); err != nil {
		t.Fatal(err)
	}
	batch := uuid.New()
	if done, _ := db.Invited(ctx, m.ElectionID, batch, 0); done {
		t.Fatal("invited before sending")
	}
	for range 2 {
		if err := db.MarkInvited(ctx, m.ElectionID, batch, 0); err != nil {
			t.Fatal(err)
		}
	}
	if done, _ := db.Invited(ctx, m.ElectionID, batch, 0); !done {
		t.Fatal("not recorded")
	}
	if n, err := db.InvitationsSent(ctx, m.ElectionID); err != nil || n != 1 {
		t.Fatalf("sent %d, %v", n, err)
	}
}
