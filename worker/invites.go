package worker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// InviteStore is what sending invitations reads and records.
type InviteStore interface {
	Election(ctx context.Context, id uuid.UUID) (*runoff.Election, error)
	Invited(ctx context.Context, electionID, batch uuid.UUID, index int) (bool, error)
	MarkInvited(ctx context.Context, electionID, batch uuid.UUID, index int) error
}

// Invites carries out election.invite: for each voter, it derives the key
// again from the secret (no key travels through the broker) and emails the
// ballot link with it. A key whose email has gone is not sent again, so a
// batch tried again after a failure picks up where it stopped.
type Invites struct {
	Store  InviteStore
	Mailer Mailer
	Secret []byte
}

// Handle sends each batch's emails.
func (h *Invites) Handle(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	for i, msg := range batch {
		var m runoff.ElectionInvite
		if dead[i] = decode(msg, &m, func() string { return m.ChangeID.String() }); dead[i] != "" {
			continue
		}
		e, err := h.Store.Election(ctx, m.ElectionID)
		if errors.Is(err, runoff.ErrNotFound) {
			e, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		if dead[i] = runoff.DecideInvite(e, m, time.Now()); dead[i] != "" {
			continue
		}
		for _, v := range m.Invitees {
			done, err := h.Store.Invited(ctx, e.ID, v.Batch, v.Index)
			if err != nil {
				return nil, err
			}
			if done {
				continue
			}
			key := runoff.DeriveKey(h.Secret, e.ID, v.Batch, v.Index)
			link := strings.TrimRight(m.Site, "/") + "/e/" + e.ID.String() + "?key=" + url.QueryEscape(key)
			body := fmt.Sprintf("You are invited to vote in %q.\n\nOpen this link to vote (it holds your voter key):\n\n%s\n\n"+
				"Or open %s/e/%s and type your key: %s\n\nThe key casts one ballot. Keep it to yourself.\n",
				e.Title, link, strings.TrimRight(m.Site, "/"), e.ID, key)
			if err := h.Mailer.Send(ctx, v.Email, "Your ballot: "+e.Title, body); err != nil {
				return nil, err // tried again; those sent are not sent twice
			}
			if err := h.Store.MarkInvited(ctx, e.ID, v.Batch, v.Index); err != nil {
				return nil, err
			}
		}
	}
	return dead, nil
}
