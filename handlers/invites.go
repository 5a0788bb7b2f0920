package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// Invitations counts the invitations the worker has sent.
type Invitations interface {
	InvitationsSent(ctx context.Context, electionID uuid.UUID) (int, error)
}

// handleInvite asks the worker to email each voter whose key was issued
// for an email address their key, in batches; the keys section shows how
// many have gone. Sending again sends only what has not gone.
func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	refuse := func(msg string) error { return s.onAdminPage(r, e, runoff.Invalid(msg, nil), "", keysRefusal) }
	if !s.MailEnabled {
		return refuse("This Runoff sends no email (SMTP_URL is not set), so it cannot send invitations. Print the keys or download them instead.")
	}
	issued, err := s.Elections.IssuedKeys(r.Context(), e.ID)
	if err != nil {
		return err
	}
	var invitees []runoff.Invitee
	for _, k := range issued {
		if email, err := runoff.NormalizeEmail(k.Label); err == nil {
			invitees = append(invitees, runoff.Invitee{Batch: k.Batch, Index: k.Index, Email: email})
		}
	}
	if len(invitees) == 0 {
		return refuse("None of this election's keys was issued for an email address. Issue keys with one voter's email per line to invite them by email.")
	}
	now := time.Now().UTC()
	for k := 0; k*runoff.MaxInvitesPerMessage < len(invitees); k++ {
		m := runoff.ElectionInvite{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: e.ID, OrganizerID: organizerID(r.Context()), Site: absURL(r, ""),
			Invitees: invitees[k*runoff.MaxInvitesPerMessage : min((k+1)*runoff.MaxInvitesPerMessage, len(invitees))], RequestedAt: now}
		if dead := runoff.DecideInvite(e, m, now); dead != "" {
			return refuse(dead)
		}
		body, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if err := s.Publisher.Publish(r.Context(), runoff.KeyElectionInvite, m.ChangeID.String(), body); err != nil {
			return s.onAdminPage(r, e, err, "Runoff couldn't confirm that all the invitations were received. Send them again in a moment: no voter gets one twice.", keysRefusal)
		}
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/elections/%s?inviting=%d#keys", e.ID, len(invitees)), http.StatusSeeOther)
	return nil
}

func keysRefusal(v *views.ElectionAdmin, msg string) { v.Keys.InviteError = msg }
