package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) error {
	es, err := s.Elections.ElectionsByOwner(r.Context(), organizerID(r.Context()))
	if err != nil {
		return err
	}
	items := make([]views.ElectionItem, len(es))
	for i, e := range es {
		items[i] = views.ElectionItem{ID: e.ID.String(), Title: e.Title, Status: e.Status, Ballots: e.BallotsCounted,
			Created: e.CreatedAt.UTC().Format("2 Jan 2006 15:04 MST")}
	}
	s.render(w, r, http.StatusOK, views.AdminList(s.page(r, "Your elections"), items))
	return nil
}

func (s *Server) handleElectionForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, views.NewElection(s.page(r, "Create an election"), views.ElectionForm{Seats: "1", ElectionID: uuid.Must(uuid.NewV7()).String()}))
	return nil
}

// handleElectionCreate validates the form, makes the election's ID,
// publishes election.create and sends the organizer to the election's
// admin page, which says it is being set up until the worker has stored it.
func (s *Server) handleElectionCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	f := views.ElectionForm{
		Title:       r.PostFormValue("title"),
		Description: strings.ReplaceAll(r.PostFormValue("description"), "\r\n", "\n"),
		Candidates:  strings.ReplaceAll(r.PostFormValue("candidates"), "\r\n", "\n"),
		Seats:       strings.TrimSpace(r.PostFormValue("seats")),
	}
	if f.Seats == "" {
		f.Seats = "1"
	}
	m := runoff.ElectionCreate{
		ElectionID:  formID(r, "election_id"),
		OwnerID:     organizerID(r.Context()),
		Title:       strings.TrimSpace(f.Title),
		Description: strings.TrimSpace(f.Description),
		RequestedAt: time.Now().UTC(),
	}
	f.ElectionID = m.ElectionID.String() // a form shown again keeps its ID
	seats, seatsErr := strconv.Atoi(f.Seats)
	m.Seats = seats
	for i, name := range runoff.SplitCandidates(f.Candidates) {
		m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: name, Position: i})
	}
	if err := runoff.ValidateElection(m); err != nil || seatsErr != nil {
		f.Errors = views.FieldErrors{}
		var p *runoff.Problem
		if errors.As(err, &p) {
			f.Message = p.Message
			for k, v := range p.Fields {
				f.Errors[k] = v
			}
		} else if err != nil {
			return err
		}
		if seatsErr != nil {
			f.Message = "The election could not be created; see the marked fields."
			f.Errors["seats"] = "Enter the number of seats as a whole number."
		}
		s.render(w, r, http.StatusUnprocessableEntity, views.NewElection(s.page(r, "Create an election"), f))
		return nil
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.Publisher.Publish(r.Context(), runoff.KeyElectionCreate, m.ElectionID.String(), body); err != nil {
		f.Message = "Runoff couldn't confirm that your election was received. Please submit the form again in a moment; if the first attempt did arrive, the election is still created only once."
		w.Header().Set("Retry-After", "5")
		s.Log.Warn("publish failed", "key", runoff.KeyElectionCreate, "err", err)
		s.render(w, r, http.StatusServiceUnavailable, views.NewElection(s.page(r, "Create an election"), f))
		return nil
	}
	if err := s.addPending(w, r, m.ElectionID); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/elections/"+m.ElectionID.String(), http.StatusSeeOther)
	return nil
}

func (s *Server) handleElectionAdmin(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if errors.Is(err, runoff.ErrNotFound) {
		if id, perr := pathID(r, "id"); perr == nil && s.isPending(r, id) {
			p := s.page(r, "Setting up your election")
			p.Refresh = 2
			s.render(w, r, http.StatusOK, views.ElectionAdminPage(p, views.ElectionAdmin{ID: id.String(), Pending: true}))
			return nil
		}
	}
	if err != nil {
		return err
	}
	held, err := s.DeadLetters.CountDeadLetters(r.Context(), e.ID)
	if err != nil {
		return err
	}
	v := views.ElectionAdmin{
		ID: e.ID.String(), Title: e.Title, Description: e.Description, Status: e.Status,
		Ballots: e.BallotsCounted, BallotURL: absURL(r, "/e/"+e.ID.String()), ResultsURL: "/e/" + e.ID.String() + "/results",
		DeadLetters: held,
	}
	for _, c := range e.Candidates {
		v.Candidates = append(v.Candidates, c.Name)
	}
	s.render(w, r, http.StatusOK, views.ElectionAdminPage(s.page(r, e.Title), v))
	return nil
}

// ownElection reads the {id} election and checks that the signed-in
// organizer owns it. For anyone else it does not exist: the same page as
// for an unknown election, which reveals nothing.
func (s *Server) ownElection(r *http.Request) (*runoff.Election, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	e, err := s.Elections.Election(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if e.OwnerID != organizerID(r.Context()) {
		return nil, notFoundf("There is no election of yours at this address.")
	}
	return e, nil
}

// pathID parses a UUID path segment; anything else is not found.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return uuid.Nil, notFoundf("There is nothing at this address. Check the link you followed.")
	}
	return id, nil
}

// absURL makes a link to share, on the host the request came to.
func absURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}
