package worker

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/worker/smtptest"
)

type fakeResetStore struct {
	organizers map[string]*runoff.Organizer
	tokens     map[string]uuid.UUID
}

func (f *fakeResetStore) OrganizerByEmail(_ context.Context, email string) (*runoff.Organizer, error) {
	if o, ok := f.organizers[email]; ok {
		return o, nil
	}
	return nil, runoff.ErrNotFound
}

func (f *fakeResetStore) CreateResetToken(_ context.Context, hash string, id uuid.UUID, _ time.Time) error {
	f.tokens[hash] = id
	return nil
}

// A password link is made by the worker and emailed to the account's
// address; an email with no account gets nothing.
func TestResetsEmailALink(t *testing.T) {
	srv := smtptest.Start(t)
	mailer, err := NewSMTP(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	o := &runoff.Organizer{ID: uuid.New(), Email: "org@example.org"}
	fs := &fakeResetStore{organizers: map[string]*runoff.Organizer{o.Email: o}, tokens: map[string]uuid.UUID{}}
	h := &Resets{Store: fs, Mailer: mailer, Hash: runoff.ResetTokenHash, Life: time.Hour}
	batch := []runoff.Message{
		msg(t, runoff.KeyAccountReset, "r1", runoff.AccountReset{RequestID: "r1", Email: o.Email, Site: "https://vote.example.org/"}),
		msg(t, runoff.KeyAccountReset, "r2", runoff.AccountReset{RequestID: "r2", Email: "nobody@example.org", Site: "https://vote.example.org"}),
		msg(t, runoff.KeyAccountReset, "r3", runoff.AccountReset{RequestID: "r3", Email: o.Email, Site: "javascript:alert(1)"}),
	}
	dead, err := h.Handle(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if dead[0] != "" || dead[1] != "" || dead[2] != `The reset request names no site to link to ("javascript:alert(1)").` {
		t.Fatalf("dead %q", dead)
	}
	mails := srv.Messages()
	if len(mails) != 1 || mails[0].To[0] != o.Email || mails[0].From != "runoff@example.org" || !strings.Contains(mails[0].Data, "Subject: Set a new password for Runoff") {
		t.Fatalf("mail %+v", mails)
	}
	link := regexp.MustCompile(`https://vote\.example\.org/reset/([A-Za-z0-9_-]{43})`).FindStringSubmatch(mails[0].Data)
	if link == nil || fs.tokens[runoff.ResetTokenHash(link[1])] != o.ID || len(fs.tokens) != 1 {
		t.Fatalf("link %v, tokens %v", link, fs.tokens)
	}
}

func TestNewSMTP(t *testing.T) {
	for raw, want := range map[string]string{
		"http://x":            "want smtp://user:password@host:port?from=address",
		"smtp://mail.example": "name the sender: smtp://…?from=address",
	} {
		if _, err := NewSMTP(raw); err == nil || err.Error() != want {
			t.Errorf("%s: %v", raw, err)
		}
	}
	m, err := NewSMTP("smtp://u:p@mail.example?from=a@example.org")
	if err != nil || m.Addr != "mail.example:587" || m.From != "a@example.org" {
		t.Errorf("%+v, %v", m, err)
	}
}
