package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// handleElectionUpdate saves the organizer's edit: everything while a
// draft; once open, the closing time, the description and who sees
// results. The worker carries it out; the admin page follows it.
func (s *Server) handleElectionUpdate(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	now := time.Now().UTC()
	f := readElectionForm(r)
	m := runoff.ElectionUpdate{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: e.ID, OrganizerID: organizerID(r.Context()), RequestedAt: now}
	var errs map[string]string
	if e.StateAt(now) == runoff.StatusDraft {
		var c electionContents
		c, errs = parseElectionForm(f)
		m.Title, m.Description, m.Seats, m.Candidates, m.Settings = c.title, c.description, c.seats, c.candidates, c.settings
	} else {
		// Only what may change once open comes from the form.
		f.Title, f.Seats, f.Timezone = e.Title, "1", e.Timezone
		c, parsed := parseElectionForm(f)
		errs = map[string]string{}
		for _, k := range []string{"closes_at"} {
			if msg, ok := parsed[k]; ok {
				errs[k] = msg
			}
		}
		m.Title, m.Description, m.Seats, m.Candidates, m.Settings = e.Title, c.description, e.Seats, e.Candidates, e.Settings
		m.Settings.Results, m.Settings.ClosesAt = c.settings.Results, c.settings.ClosesAt
	}
	if err := problemFields(runoff.ValidateUpdate(e, m, now), errs); err != nil {
		return err
	}
	form := func(err error, retry string) error {
		return s.onAdminPage(r, e, err, retry, func(v *views.ElectionAdmin, msg string) {
			f.Message, f.Errors = msg, views.FieldErrors(errs)
			if v.Edit != nil {
				v.Edit = &f
			} else {
				v.Later = &f
			}
		})
	}
	if len(errs) > 0 {
		return form(runoff.Invalid("The change could not be saved; see the marked fields.", errs), "")
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.Publisher.Publish(r.Context(), runoff.KeyElectionUpdate, m.ChangeID.String(), body); err != nil {
		return form(err, "Runoff couldn't confirm that your change was received. Please save it again in a moment.")
	}
	http.Redirect(w, r, "/admin/elections/"+e.ID.String()+"?change="+m.ChangeID.String(), http.StatusSeeOther)
	return nil
}

// lifecycle opens, closes, reopens or deletes an election: the web checks
// the step fits the election's state now, publishes it, and the admin page
// follows it until the worker has carried it out (checking the owner and
// the state again).
func (s *Server) lifecycle(key string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		e, err := s.ownElection(r)
		if err != nil {
			return err
		}
		if err := s.parseForm(w, r); err != nil {
			return err
		}
		m := runoff.ElectionAction{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: e.ID, OrganizerID: organizerID(r.Context()),
			At: time.Now().UTC(), Confirm: r.PostFormValue("confirm")}
		form := func(err error, retry string) error {
			return s.onAdminPage(r, e, err, retry, refusal)
		}
		if key == runoff.KeyElectionReopen {
			if m.ClosesAt, err = parseLocal(r.PostFormValue("closes_at"), location(e)); err != nil {
				return form(runoff.Invalid("Enter the new closing time as a date and a time, or leave it empty.", nil), "")
			}
		}
		if _, refused := runoff.DecideAction(key, e, m); refused != "" {
			return form(runoff.Invalid(refused, nil), "")
		}
		body, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if err := s.Publisher.Publish(r.Context(), key, m.ChangeID.String(), body); err != nil {
			return form(err, "Runoff couldn't confirm that your request was received. Please try again in a moment; doing it twice does no harm.")
		}
		if key == runoff.KeyElectionDelete {
			http.Redirect(w, r, "/admin?deleting="+url.QueryEscape(e.ID.String()), http.StatusSeeOther)
			return nil
		}
		http.Redirect(w, r, "/admin/elections/"+e.ID.String()+"?change="+m.ChangeID.String(), http.StatusSeeOther)
		return nil
	}
}

// onAdminPage shows an error on the election's admin page, which show
// adjusts with the message (a form's errors, or a refusal).
func (s *Server) onAdminPage(r *http.Request, e *runoff.Election, err error, retry string, show func(v *views.ElectionAdmin, msg string)) error {
	return &formError{err: err, retry: retry, page: func(msg string) templ.Component {
		v, verr := s.electionAdmin(r, e)
		if verr != nil {
			s.Log.Warn("admin page", "err", verr)
		}
		show(&v, msg)
		return views.ElectionAdminPage(s.page(r, e.Title), v)
	}}
}

// refusal shows a message as the reason a change was not made.
func refusal(v *views.ElectionAdmin, msg string) { v.ChangeRefused = msg }
