package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
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
	held, err := s.DeadLetters.HeldByOwner(r.Context(), organizerID(r.Context()))
	if err != nil {
		return err
	}
	now := time.Now()
	items := make([]views.ElectionItem, len(es))
	for i, e := range es {
		items[i] = views.ElectionItem{ID: e.ID.String(), Title: e.Title, Status: e.StateAt(now), Ballots: e.BallotsCounted,
			Created: e.CreatedAt.UTC().Format("2 Jan 2006 15:04 MST"), Held: held[e.ID], Final: e.FinalAt != nil}
		if e.Access == runoff.AccessKeys {
			items[i].Keys = fmt.Sprintf("%d of %d keys used", e.KeysUsed, e.KeysIssued)
		}
		loc := location(&e)
		switch {
		case items[i].Status == runoff.StatusDraft && e.OpensAt != nil:
			items[i].Schedule = "opens " + when(e.OpensAt, loc)
		case items[i].Status == runoff.StatusOpen && e.ClosesAt != nil:
			items[i].Schedule = "closes " + when(e.ClosesAt, loc)
		}
	}
	p := s.page(r, "Your elections")
	notice := ""
	if r.URL.Query().Get("password") == "changed" {
		notice = "Your password is changed, and you are signed out everywhere else."
	}
	if id, err := uuid.Parse(r.URL.Query().Get("deleting")); err == nil {
		// Deleting is carried out by the worker: say so until it is done.
		notice = "The election was deleted, with its ballots."
		for _, it := range items {
			if it.ID == id.String() {
				notice, p.Refresh = "Deleting “"+it.Title+"”…", 2
			}
		}
	}
	list := views.AdminListPage{Items: items, Notice: notice, Waiting: -1}
	if s.Backlog != nil {
		// The broker not answering costs the dashboard one line, no more.
		if n, err := s.Backlog.VotesWaiting(r.Context()); err == nil {
			list.Waiting = n
		} else {
			s.Log.Warn("votes waiting", "err", err)
		}
	}
	s.render(w, r, http.StatusOK, views.AdminList(p, list))
	return nil
}

func (s *Server) handleElectionForm(w http.ResponseWriter, r *http.Request) error {
	f := withChoices(views.ElectionForm{Seats: "1", ElectionID: uuid.Must(uuid.NewV7()).String()})
	d := runoff.DefaultSettings()
	f.WinnerMode, f.Tiebreak, f.Results, f.Timezone = d.WinnerMode, d.Tiebreak, d.Results, d.Timezone
	s.render(w, r, http.StatusOK, views.NewElection(s.page(r, "Create an election"), f))
	return nil
}

// handleElectionCreate validates the form, makes the election's ID,
// publishes election.create and sends the organizer to the election's
// admin page, which says it is being set up until the worker has stored it.
func (s *Server) handleElectionCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	f := readElectionForm(r)
	c, errs := parseElectionForm(f)
	m := runoff.ElectionCreate{
		ElectionID:  formID(r, "election_id"),
		OwnerID:     organizerID(r.Context()),
		Title:       c.title,
		Description: c.description,
		Seats:       c.seats,
		Candidates:  c.candidates,
		Draft:       f.Draft,
		Settings:    c.settings,
		RequestedAt: time.Now().UTC(),
	}
	f.ElectionID = m.ElectionID.String() // a form shown again keeps its ID
	form := func(err error, retry string) error {
		return &formError{err: err, retry: retry, page: func(msg string) templ.Component {
			f.Message = msg
			return views.NewElection(s.page(r, "Create an election"), f)
		}}
	}
	if err := problemFields(runoff.ValidateElection(m), errs); err != nil {
		return err
	}
	if len(errs) > 0 {
		f.Errors = views.FieldErrors(errs)
		return form(runoff.Invalid("The election could not be created; see the marked fields.", errs), "")
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

// problemFields adds a Problem's fields to errs (a form's own parse errors
// win); an error that is no Problem is returned.
func problemFields(err error, errs map[string]string) error {
	var p *runoff.Problem
	if err == nil {
		return nil
	}
	if !errors.As(err, &p) {
		return err
	}
	for k, v := range p.Fields {
		if _, ok := errs[k]; !ok {
			errs[k] = v
		}
	}
	if len(p.Fields) == 0 {
		errs["election"] = p.Message
	}
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
	v, err := s.electionAdmin(r, e)
	if err != nil {
		return err
	}
	p := s.page(r, e.Title)
	if v.Change == "saving" {
		p.Refresh = 2
	}
	s.render(w, r, http.StatusOK, views.ElectionAdminPage(p, v))
	return nil
}

// electionAdmin is the election's admin page: its state and the controls
// that fit it, its settings, and the change the organizer just sent
// (?change=ID) until the worker has carried it out.
func (s *Server) electionAdmin(r *http.Request, e *runoff.Election) (views.ElectionAdmin, error) {
	held, err := s.DeadLetters.CountDeadLetters(r.Context(), e.ID)
	if err != nil {
		return views.ElectionAdmin{}, err
	}
	v := views.ElectionAdmin{
		ID: e.ID.String(), Title: e.Title, Description: e.Description, Status: e.StateAt(time.Now()),
		Ballots: e.BallotsCounted, BallotURL: absURL(r, "/e/"+e.ID.String()), ResultsURL: "/e/" + e.ID.String() + "/results",
		DeadLetters: held,
	}
	describeSettings(&v, e)
	if img, err := qrDataURL(v.BallotURL); err == nil {
		v.BallotQR = img
	} else {
		s.Log.Warn("ballot link QR code", "err", err)
	}
	s.keysAdmin(&v, e)
	for _, c := range e.Candidates {
		line := c.Name
		if c.Description != "" {
			line += " — " + c.Description
		}
		v.Candidates = append(v.Candidates, line)
	}
	if snap, err := s.Elections.Result(r.Context(), e.ID); err == nil && snap.Model.Waiting != nil {
		w := snap.Model.Waiting
		v.Tie = &views.TieView{Round: w.Round, Tied: w.Tied, Votes: runoff.Plural(w.Votes, "vote"), Verb: tieVerb(w.Kind)}
	} else if err != nil && !errors.Is(err, runoff.ErrNotFound) {
		return v, err
	}
	if v.Keys.On && s.MailEnabled {
		if v.Keys.Invited, err = s.Invitations.InvitationsSent(r.Context(), e.ID); err != nil {
			return v, err
		}
		v.Keys.Inviting, _ = strconv.Atoi(r.URL.Query().Get("inviting"))
	}
	f := electionForm(e)
	if v.Status == runoff.StatusDraft {
		v.Edit = &f
	} else {
		v.Later = &f
	}
	if id, err := uuid.Parse(r.URL.Query().Get("change")); err == nil {
		v.ChangeID = id.String()
		done, err := s.Elections.ChangeApplied(r.Context(), id)
		if err != nil {
			return v, err
		}
		v.Change = "saved"
		if !done {
			v.Change = "saving"
			dl, err := s.DeadLetters.DeadLetterByMessage(r.Context(), id.String())
			switch {
			case err == nil && dl.OrganizerID != nil && *dl.OrganizerID == organizerID(r.Context()):
				v.Change, v.ChangeRefused = "", dl.Reason
			case err != nil && !errors.Is(err, runoff.ErrNotFound):
				return v, err
			}
		}
	}
	return v, nil
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
