package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

func tieVerb(kind string) string {
	if kind == runoff.TieElection {
		return "elected"
	}
	return "eliminated"
}

// handleTiebreak publishes the organizer's choice in the tie the count is
// waiting on. The web checks it against the tie it can see; the worker
// checks again against the tie as it is then.
func (s *Server) handleTiebreak(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	round, err := strconv.Atoi(r.PathValue("round"))
	if err != nil {
		return notFoundf("There is no such round.")
	}
	form := func(err error, retry string) error {
		return s.onAdminPage(r, e, err, retry, refusal)
	}
	snap, err := s.Elections.Result(r.Context(), e.ID)
	if err != nil && !errors.Is(err, runoff.ErrNotFound) {
		return err
	}
	var waiting *runoff.TieWait
	if snap != nil {
		waiting = snap.Model.Waiting
	}
	m := runoff.TieDecision{ID: uuid.Must(uuid.NewV7()), Election: e.ID, Round: round, Selected: r.PostFormValue("candidate"),
		DecidedBy: organizerID(r.Context()), DecidedAt: time.Now().UTC()}
	if waiting != nil {
		m.Pass, m.Kind, m.Tied = waiting.Pass, waiting.Kind, slices.Clone(waiting.Tied)
	}
	if m.Selected == "" {
		return form(runoff.Invalid("Choose one of the tied candidates.", nil), "")
	}
	if refused := runoff.DecideTiebreak(e, waiting, m); refused != "" {
		return form(runoff.Invalid(refused, nil), "")
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.Publisher.Publish(r.Context(), runoff.KeyElectionTiebreak, m.ID.String(), body); err != nil {
		return form(err, "Runoff couldn't confirm that your choice was received. Please choose again in a moment; doing it twice does no harm.")
	}
	http.Redirect(w, r, "/admin/elections/"+e.ID.String()+"?change="+m.ID.String(), http.StatusSeeOther)
	return nil
}
