package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/worker/smtptest"
)

type fakeInviteStore struct {
	e    *runoff.Election
	sent map[string]bool
}

func (f *fakeInviteStore) Election(_ context.Context, id uuid.UUID) (*runoff.Election, error) {
	if f.e != nil && f.e.ID == id {
		return f.e, nil
	}
	return nil, runoff.ErrNotFound
}
func (f *fakeInviteStore) Invited(_ context.Context, _, b uuid.UUID, i int) (bool, error) {
	return f.sent[fmt.Sprint(b, i)], nil
}
func (f *fakeInviteStore) MarkInvited(_ context.Context, _, b uuid.UUID, i int) error {
	f.sent[fmt.Sprint(b, i)] = true
	return nil
}

type failingMailer struct {
	Mailer
	after int
}

func (m *failingMailer) Send(ctx context.Context, to, subject, body string) error {
	if m.after == 0 {
		return errors.New("421 try later")
	}
	m.after--
	return m.Mailer.Send(ctx, to, subject, body)
}

// Each voter gets their own key by email, derived by the worker; a batch
// that fails half-way sends the rest when tried again, and none twice.
func TestInvitesEmailKeys(t *testing.T) {
	srv := smtptest.Start(t)
	mailer, _ := NewSMTP(srv.URL())
	secret := []byte("worker test keys secret, 32 bytes!")
	owner := uuid.New()
	e := &runoff.Election{ID: uuid.New(), OwnerID: owner, Title: "Board", Status: runoff.StatusOpen, Settings: runoff.Settings{Access: runoff.AccessKeys}}
	fs := &fakeInviteStore{e: e, sent: map[string]bool{}}
	flaky := &failingMailer{Mailer: mailer, after: 1}
	h := &Invites{Store: fs, Mailer: flaky, Secret: secret}
	batch := uuid.New()
	m := runoff.ElectionInvite{ChangeID: uuid.New(), ElectionID: e.ID, OrganizerID: owner, Site: "https://vote.example.org",
		Invitees: []runoff.Invitee{{Batch: batch, Index: 0, Email: "a@example.org"}, {Batch: batch, Index: 1, Email: "b@example.org"}}}
	if _, err := h.Handle(context.Background(), []runoff.Message{msg(t, runoff.KeyElectionInvite, m.ChangeID.String(), m)}); err == nil {
		t.Fatal("a failing server went unnoticed")
	}
	flaky.after = 10
	if dead, err := h.Handle(context.Background(), []runoff.Message{msg(t, runoff.KeyElectionInvite, m.ChangeID.String(), m)}); err != nil || dead[0] != "" {
		t.Fatalf("tried again: %q, %v", dead, err)
	}
	mails := srv.Messages()
	if len(mails) != 2 || mails[0].To[0] != "a@example.org" || mails[1].To[0] != "b@example.org" {
		t.Fatalf("mails %+v", mails)
	}
	for i, mail := range mails {
		key := runoff.DeriveKey(secret, e.ID, batch, i)
		if !strings.Contains(mail.Data, "https://vote.example.org/e/"+e.ID.String()+"?key="+key) || !strings.Contains(mail.Data, "Subject: Your ballot: Board") {
			t.Errorf("mail %d lacks its key %s:\n%s", i, key, mail.Data)
		}
	}
	forged := m
	forged.OrganizerID = uuid.New()
	dead, _ := h.Handle(context.Background(), []runoff.Message{msg(t, runoff.KeyElectionInvite, forged.ChangeID.String(), forged)})
	if dead[0] != fmt.Sprintf("Organizer %s does not own election %s, so its voters are not theirs to invite.", forged.OrganizerID, e.ID) {
		t.Fatalf("forged: %q", dead[0])
	}
	closed := time.Now().Add(-time.Minute)
	e.Status, e.ClosedAt = runoff.StatusClosed, &closed
	if dead, _ := h.Handle(context.Background(), []runoff.Message{msg(t, runoff.KeyElectionInvite, m.ChangeID.String(), m)}); dead[0] != "The election has closed; invitations to vote would come too late." {
		t.Fatalf("closed: %q", dead[0])
	}
}
