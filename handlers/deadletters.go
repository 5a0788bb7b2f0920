package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	dls, err := s.DeadLetters.DeadLetters(r.Context(), e.ID)
	if err != nil {
		return err
	}
	page := views.DeadLettersPage{ElectionID: e.ID.String(), Title: e.Title, Requeued: r.URL.Query().Get("requeued")}
	for _, dl := range dls {
		it := views.DeadLetterItem{ID: dl.ID.String(), What: describeMessage(dl.RoutingKey), MessageID: dl.MessageID,
			Reason: dl.Reason, DeadAt: dl.DeadAt.UTC().Format("2 Jan 2006 15:04:05 MST")}
		if dl.RequeuedAt != nil {
			it.Requeued = dl.RequeuedAt.UTC().Format("2 Jan 2006 15:04:05 MST")
		}
		page.Items = append(page.Items, it)
	}
	s.render(w, r, http.StatusOK, views.DeadLetters(s.page(r, "Held messages: "+e.Title), page))
	return nil
}

func describeMessage(key string) string {
	switch key {
	case runoff.KeyVoteSubmit:
		return "A ballot"
	case runoff.KeyElectionCreate:
		return "The election's creation"
	case runoff.KeyDeadLetterRequeue:
		return "A requeue request"
	default:
		return "A message (" + key + ")"
	}
}

// handleRequeue asks the worker to carry a held message out again. The
// worker checks ownership again before it does.
func (s *Server) handleRequeue(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	dlID, err := pathID(r, "dlID")
	if err != nil {
		return err
	}
	dl, err := s.DeadLetters.DeadLetter(r.Context(), dlID)
	if errors.Is(err, runoff.ErrNotFound) || (err == nil && (dl.ElectionID == nil || *dl.ElectionID != e.ID)) {
		return notFoundf("This election has no such held message.")
	}
	if err != nil {
		return err
	}
	m := runoff.DeadLetterRequeue{DeadLetterID: dl.ID, ElectionID: e.ID, OrganizerID: organizerID(r.Context()), RequestedAt: time.Now().UTC()}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.Publisher.Publish(r.Context(), runoff.KeyDeadLetterRequeue, uuid.Must(uuid.NewV7()).String(), body); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/elections/"+e.ID.String()+"/dead-letters?requeued="+dl.ID.String(), http.StatusSeeOther)
	return nil
}
