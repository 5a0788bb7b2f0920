package worker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// Mailer sends one email.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// SMTP sends email through an SMTP server given as a URL:
// smtp://user:password@host:port?from=address (STARTTLS when the server
// offers it; the password only over TLS or to a server on this machine,
// as net/smtp insists).
type SMTP struct {
	Addr, From string
	auth       smtp.Auth
}

// NewSMTP reads an SMTP_URL.
func NewSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Host == "" {
		return nil, errors.New("want smtp://user:password@host:port?from=address")
	}
	from := u.Query().Get("from")
	if from == "" {
		return nil, errors.New("name the sender: smtp://…?from=address")
	}
	s := &SMTP{Addr: u.Host, From: from}
	if !strings.Contains(u.Host, ":") {
		s.Addr = u.Host + ":587"
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		host, _, _ := net.SplitHostPort(s.Addr)
		s.auth = smtp.PlainAuth("", u.User.Username(), pw, host)
	}
	return s, nil
}

// Send sends a plain-text email.
func (s *SMTP) Send(ctx context.Context, to, subject, body string) error {
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s",
		s.From, to, subject, time.Now().UTC().Format(time.RFC1123Z), strings.ReplaceAll(body, "\n", "\r\n"))
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(s.Addr, s.auth, s.From, []string{to}, []byte(msg)) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("worker: mail to %s: %w", to, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ResetStore finds organizers and records one-time password links.
type ResetStore interface {
	OrganizerByEmail(ctx context.Context, email string) (*runoff.Organizer, error)
	CreateResetToken(ctx context.Context, hash string, organizerID uuid.UUID, expires time.Time) error
}

// Resets carries out account.reset: it makes a one-time link and emails
// it to the organizer. An email with no account gets nothing, and the web
// says the same either way, so the form tells no one who has an account.
type Resets struct {
	Store  ResetStore
	Mailer Mailer
	// Hash is how a link's token is kept (handlers.ResetTokenHash).
	Hash func(token string) string
	Life time.Duration
}

// Handle sends each request's email.
func (h *Resets) Handle(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	for i, msg := range batch {
		var m runoff.AccountReset
		if dead[i] = decode(msg, &m, func() string { return m.RequestID }); dead[i] != "" {
			continue
		}
		if !strings.HasPrefix(m.Site, "http://") && !strings.HasPrefix(m.Site, "https://") {
			dead[i] = fmt.Sprintf("The reset request names no site to link to (%q).", m.Site)
			continue
		}
		o, err := h.Store.OrganizerByEmail(ctx, m.Email)
		if errors.Is(err, runoff.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		token := base64.RawURLEncoding.EncodeToString(b[:])
		if err := h.Store.CreateResetToken(ctx, h.Hash(token), o.ID, time.Now().Add(h.Life)); err != nil {
			return nil, err
		}
		body := fmt.Sprintf("Someone, probably you, asked to set a new password for your Runoff account (%s).\n\n"+
			"Open this link within an hour to choose one; it works once:\n\n%s/reset/%s\n\n"+
			"If you did not ask, ignore this email: your password stays as it is.\n", o.Email, strings.TrimRight(m.Site, "/"), token)
		if err := h.Mailer.Send(ctx, o.Email, "Set a new password for Runoff", body); err != nil {
			return nil, err // the batch is tried again; a link made now just goes unused
		}
	}
	return dead, nil
}
