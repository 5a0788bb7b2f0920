package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// ResetTokenHash is how a one-time password link is kept: by its hash, so
// the table cannot be used to take over an account.
func ResetTokenHash(token string) string {
	sum := sha256.Sum256([]byte("runoff reset:" + token))
	return hex.EncodeToString(sum[:])
}

func (s *Server) handlePasswordForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, views.Password(s.page(r, "Change your password"), views.PasswordForm{Action: "/account/password", Current: true}))
	return nil
}

// handlePasswordChange changes a signed-in organizer's password, after the
// current one (throttled like signing in), and signs them out everywhere
// else.
func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	f := views.PasswordForm{Action: "/account/password", Current: true, Errors: views.FieldErrors{}}
	form := func(err error) error {
		return &formError{err: err, page: func(msg string) templ.Component {
			f.Message = msg
			return views.Password(s.page(r, "Change your password"), f)
		}}
	}
	id, email := s.currentOrganizer(r)
	account := "login:account:" + email
	if err := s.throttled(r, account); err != nil {
		return form(err)
	}
	o, err := s.Accounts.OrganizerByEmail(r.Context(), email)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(o.PasswordHash), []byte(r.PostFormValue("current"))) != nil {
		if err := s.Accounts.Failed(r.Context(), account, loginAccountLimit, throttleWindow, throttleLock); err != nil {
			return err
		}
		f.Errors["current"] = "This is not your current password."
		return form(runoff.Invalid("The password was not changed; see the marked fields.", f.Errors))
	}
	return s.setPassword(w, r, id, r.PostFormValue("password"), &f, form)
}

// setPassword checks and stores a new password, which ends every session
// of the organizer, and signs this browser in again.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, id uuid.UUID, password string, f *views.PasswordForm, form func(error) error) error {
	var p *runoff.Problem
	if err := runoff.ValidatePassword(password); errors.As(err, &p) {
		maps.Copy(f.Errors, p.Fields)
		return form(runoff.Invalid("The password was not changed; see the marked fields.", f.Errors))
	} else if err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.PasswordCost)
	if err != nil {
		return err
	}
	if err := s.Accounts.SetPassword(r.Context(), id, string(hash)); err != nil {
		return err
	}
	if err := s.signIn(w, r, &runoff.Organizer{ID: id}); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin?password=changed", http.StatusSeeOther)
	return nil
}

// handleResetForm shows the form of a one-time password link, if the link
// is still good.
func (s *Server) handleResetForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Accounts.ResetToken(r.Context(), ResetTokenHash(r.PathValue("token"))); errors.Is(err, runoff.ErrNotFound) {
		return notFoundf("This password link has been used or has expired; links work once, for an hour. Ask for a new one.")
	} else if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.Password(s.page(r, "Choose a new password"), views.PasswordForm{Action: "/reset/" + r.PathValue("token")}))
	return nil
}

// handleReset sets a new password through a one-time link, using it up.
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	token := r.PathValue("token")
	f := views.PasswordForm{Action: "/reset/" + token, Errors: views.FieldErrors{}}
	form := func(err error) error {
		return &formError{err: err, page: func(msg string) templ.Component {
			f.Message = msg
			return views.Password(s.page(r, "Choose a new password"), f)
		}}
	}
	if err := runoff.ValidatePassword(r.PostFormValue("password")); err != nil {
		var p *runoff.Problem
		if errors.As(err, &p) {
			maps.Copy(f.Errors, p.Fields)
		}
		return form(runoff.Invalid("The password was not changed; see the marked fields.", f.Errors))
	}
	id, err := s.Accounts.UseResetToken(r.Context(), ResetTokenHash(token))
	if errors.Is(err, runoff.ErrNotFound) {
		return notFoundf("This password link has been used or has expired; links work once, for an hour. Ask for a new one.")
	} else if err != nil {
		return err
	}
	return s.setPassword(w, r, id, r.PostFormValue("password"), &f, form)
}

// ResetLinkLife is how long a one-time password link works.
const ResetLinkLife = time.Hour
