package handlers

import (
	"encoding/json"
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
	if _, err := s.Accounts.ResetToken(r.Context(), runoff.ResetTokenHash(r.PathValue("token"))); errors.Is(err, runoff.ErrNotFound) {
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
	id, err := s.Accounts.UseResetToken(r.Context(), runoff.ResetTokenHash(token))
	if errors.Is(err, runoff.ErrNotFound) {
		return notFoundf("This password link has been used or has expired; links work once, for an hour. Ask for a new one.")
	} else if err != nil {
		return err
	}
	return s.setPassword(w, r, id, r.PostFormValue("password"), &f, form)
}

// handleForgotForm asks for the account's email, to send a one-time link.
func (s *Server) handleForgotForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, views.Forgot(s.page(r, "Forgot your password?"), views.ForgotForm{Mail: s.MailEnabled}))
	return nil
}

// handleForgot asks the worker to email a one-time link. It answers the
// same whether or not the email has an account, so the form tells no one
// who has one; it is throttled per address and per email.
func (s *Server) handleForgot(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	f := views.ForgotForm{Mail: s.MailEnabled, Email: r.PostFormValue("email"), Errors: views.FieldErrors{}}
	form := func(err error, retry string) error {
		return &formError{err: err, retry: retry, page: func(msg string) templ.Component {
			f.Message = msg
			return views.Forgot(s.page(r, "Forgot your password?"), f)
		}}
	}
	if !s.MailEnabled {
		return form(runoff.Invalid("This Runoff sends no email. Ask the person who runs it for a one-time link (they run: runoff admin reset-link YOUR-EMAIL).", nil), "")
	}
	email, err := runoff.NormalizeEmail(f.Email)
	var p *runoff.Problem
	if errors.As(err, &p) {
		maps.Copy(f.Errors, p.Fields)
		return form(runoff.Invalid("Enter your account's email address.", f.Errors), "")
	}
	account, address := "reset:account:"+email, "reset:address:"+s.clientAddress(r)
	if err := s.throttled(r, account, address); err != nil {
		return form(err, "")
	}
	for _, k := range []struct {
		key   string
		limit int
	}{{account, 3}, {address, 10}} {
		if err := s.Accounts.Failed(r.Context(), k.key, k.limit, time.Hour, time.Hour); err != nil {
			return err
		}
	}
	m := runoff.AccountReset{RequestID: uuid.Must(uuid.NewV7()).String(), Email: email, Site: absURL(r, ""), RequestedAt: time.Now().UTC()}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.Publisher.Publish(r.Context(), runoff.KeyAccountReset, m.RequestID, body); err != nil {
		return form(err, "Runoff couldn't confirm that your request was received. Please try again in a moment.")
	}
	f.Sent = true
	s.render(w, r, http.StatusOK, views.Forgot(s.page(r, "Forgot your password?"), f))
	return nil
}
