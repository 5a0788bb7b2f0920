package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// handleReceipt shows a ballot's receipt: its state (queued, counted,
// held, rejected or replaced, with the reason), the ranking to the browser
// that cast it, and a link to the results when this visitor may see them.
func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "ballotID")
	if err != nil {
		return err
	}
	rc := views.Receipt{BallotID: id.String(), State: runoff.BallotQueued}
	b, err := s.Elections.Ballot(r.Context(), id)
	switch {
	case err == nil:
		rc.State, rc.Reason = b.Status, b.Reason
		rc.ElectionID = b.ElectionID.String()
		e, err := s.Elections.Election(r.Context(), b.ElectionID)
		if err != nil {
			return err
		}
		rc.ElectionTitle = e.Title
		rc.ResultsVisible = s.resultsVisible(r, e, time.Now())
		// Only the browser that cast it sees the ranking, or the holder of
		// its key where the key stays linked to its ballot.
		rc.Known = s.castHere(r, id.String())
		if k := r.URL.Query().Get("key"); !rc.Known && k != "" && e.Changes == runoff.ChangesAllowed {
			if hash := runoff.HashKey(e.ID, k); hash != "" {
				use, err := s.Elections.KeyUse(r.Context(), e.ID, hash)
				if err != nil {
					return err
				}
				rc.Known = use.Ballot == b.ID
			}
		}
		for _, cid := range b.Ranking {
			if !rc.Known {
				break
			}
			name := "(a candidate no longer standing)"
			if c, ok := e.CandidateByID(cid); ok {
				name = c.Name
			}
			rc.Ranking = append(rc.Ranking, name)
		}
		if dl, err := s.DeadLetters.DeadLetterByMessage(r.Context(), id.String()); err == nil && dl.RequeuedAt == nil {
			rc.Refused = dl.Reason
		} else if err != nil && !errors.Is(err, runoff.ErrNotFound) {
			return err
		}
	case errors.Is(err, runoff.ErrNotFound):
		if dl, err := s.DeadLetters.DeadLetterByMessage(r.Context(), id.String()); err == nil && dl.RequeuedAt == nil {
			rc.State, rc.Reason = "held", dl.Reason
		} else if err != nil && !errors.Is(err, runoff.ErrNotFound) {
			return err
		}
		if p, ok := s.receipt(r, id.String()); ok {
			rc.ElectionID, rc.ElectionTitle, rc.Ranking, rc.Known = p.ElectionID, p.ElectionTitle, p.Ranking, true
			if eid, err := uuid.Parse(p.ElectionID); err == nil {
				if e, err := s.Elections.Election(r.Context(), eid); err == nil {
					rc.ResultsVisible = s.resultsVisible(r, e, time.Now())
				} else if !errors.Is(err, runoff.ErrNotFound) {
					return err
				}
			}
		} else if rc.State != "held" && !recentV7(id, time.Hour) {
			return notFoundf("No ballot with receipt number %s has been counted. Check the address; receipt links are exactly as given after voting.", id)
		}
	default:
		return err
	}
	p := s.page(r, "Ballot receipt")
	if rc.State == runoff.BallotQueued {
		p.Refresh = 2
	}
	s.render(w, r, http.StatusOK, views.ReceiptPage(p, rc))
	return nil
}
