package handlers

import (
	"errors"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, views.Home(s.page(r, "Ranked-choice elections")))
	return nil
}

func (s *Server) handleSignupForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, views.Auth(s.page(r, "Create an account"), views.AuthForm{SignUp: true}))
	return nil
}

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) error {
	f := views.AuthForm{Next: safeNext(r.URL.Query().Get("next"))}
	s.render(w, r, http.StatusOK, views.Auth(s.page(r, "Sign in"), f))
	return nil
}

func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	f := views.AuthForm{SignUp: true, Email: r.PostFormValue("email"), Errors: views.FieldErrors{}}
	form := func(err error) error {
		return &formError{err: err, page: func(msg string) templ.Component {
			f.Message = msg
			return views.Auth(s.page(r, "Create an account"), f)
		}}
	}
	password := r.PostFormValue("password")
	email, err := runoff.NormalizeEmail(f.Email)
	for _, err := range []error{err, runoff.ValidatePassword(password)} {
		var p *runoff.Problem
		if errors.As(err, &p) {
			maps.Copy(f.Errors, p.Fields)
		} else if err != nil {
			return err
		}
	}
	if len(f.Errors) > 0 {
		return form(runoff.Invalid("The account could not be created; see the marked fields.", f.Errors))
	}
	address := "signup:address:" + s.clientAddress(r)
	if err := s.throttled(r, address); err != nil {
		return form(err)
	}
	if err := s.Accounts.Failed(r.Context(), address, signupLimit, time.Hour, time.Hour); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.PasswordCost)
	if err != nil {
		return err
	}
	o := &runoff.Organizer{ID: uuid.Must(uuid.NewV7()), Email: email, PasswordHash: string(hash)}
	if err := s.Accounts.CreateOrganizer(r.Context(), o); errors.Is(err, runoff.ErrConflict) {
		f.Errors["email"] = "An account with this email already exists. Sign in instead."
		return form(runoff.Invalid("The account could not be created; see the marked fields.", f.Errors))
	} else if err != nil {
		return err
	}
	if err := s.signIn(w, r, o); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
	return nil
}

// dummyHash is compared against when no account matches, so that signing
// in takes as long for an unknown email as for a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("runoff-no-such-account"), bcrypt.DefaultCost)

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	f := views.AuthForm{Email: r.PostFormValue("email"), Next: safeNext(r.PostFormValue("next"))}
	password := r.PostFormValue("password")
	email, _ := runoff.NormalizeEmail(f.Email)
	account, address := "login:account:"+email, "login:address:"+s.clientAddress(r)
	form := func(err error) error {
		return &formError{err: err, page: func(msg string) templ.Component {
			f.Message = msg
			return views.Auth(s.page(r, "Sign in"), f)
		}}
	}
	if err := s.throttled(r, account, address); err != nil {
		return form(err)
	}
	o, err := s.Accounts.OrganizerByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, runoff.ErrNotFound) {
		return err
	}
	hash := dummyHash
	if o != nil {
		hash = []byte(o.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || o == nil {
		for _, k := range []struct {
			key   string
			limit int
		}{{account, loginAccountLimit}, {address, loginAddressLimit}} {
			if err := s.Accounts.Failed(r.Context(), k.key, k.limit, throttleWindow, throttleLock); err != nil {
				return err
			}
		}
		return form(&runoff.Problem{Kind: errSignIn, Message: "The email or password is not right. Check them and try again."})
	}
	if err := s.Accounts.Succeeded(r.Context(), account); err != nil {
		return err
	}
	if err := s.signIn(w, r, o); err != nil {
		return err
	}
	next := f.Next
	if next == "" {
		next = "/admin"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	if err := s.signOut(w, r); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// handleLogoutEverywhere ends every session of the organizer, on every
// device, and this one.
func (s *Server) handleLogoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	if err := s.Accounts.DeleteSessions(r.Context(), organizerID(r.Context())); err != nil {
		return err
	}
	if err := s.signOut(w, r); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// safeNext accepts only a local path to return to after signing in, so the
// sign-in page cannot be used to send someone to another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ""
	}
	return next
}
