package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
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
	form := func(err error, retry string) error {
		return &formError{err: err, retry: retry, page: func(msg string) templ.Component {
			f.Message = msg
			return views.NewElection(s.page(r, "Create an election"), f)
		}}
	}
	err := runoff.ValidateElection(m)
	var p *runoff.Problem
	if err != nil && !errors.As(err, &p) {
		return err
	}
	if seatsErr != nil {
		if p == nil {
			p = runoff.Invalid("", map[string]string{})
		}
		p.Fields["seats"] = "Enter the number of seats as a whole number."
	}
	if p != nil {
		f.Errors = views.FieldErrors(p.Fields)
		return form(runoff.Invalid("The election could not be created; see the marked fields.", p.Fields), "")
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.Publisher.Publish(r.Context(), runoff.KeyElectionCreate, m.ElectionID.String(), body); err != nil {
		return form(err, "Runoff couldn't confirm that your election was received. Please submit the form again in a moment; if the first attempt did arrive, the election is still created only once.")
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
			return s.pendingElection(w, r, id)
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

// pendingElection shows an election this organizer created that the worker
// has not stored: still being set up, or refused, with the reason.
func (s *Server) pendingElection(w http.ResponseWriter, r *http.Request, id uuid.UUID) error {
	dl, err := s.DeadLetters.DeadLetterByMessage(r.Context(), id.String())
	switch {
	case err == nil && dl.RequeuedAt == nil && dl.RoutingKey == runoff.KeyElectionCreate &&
		dl.OrganizerID != nil && *dl.OrganizerID == organizerID(r.Context()):
		s.render(w, r, http.StatusOK, views.ElectionAdminPage(s.page(r, "Election not created"), views.ElectionAdmin{ID: id.String(), Refused: dl.Reason}))
		return nil
	case err != nil && !errors.Is(err, runoff.ErrNotFound):
		return err
	}
	p := s.page(r, "Setting up your election")
	p.Refresh = 2
	s.render(w, r, http.StatusOK, views.ElectionAdminPage(p, views.ElectionAdmin{ID: id.String(), Pending: true}))
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
