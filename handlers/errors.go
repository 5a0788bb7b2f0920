package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/a-h/templ"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// handlerFunc is a handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc: errors become one consistent page, and a
// panic becomes a 500 page rather than a dropped connection.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				s.renderError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// problem makes a user-facing error of a kind.
func problem(kind error, msg string) *runoff.Problem {
	return &runoff.Problem{Kind: kind, Message: msg}
}

func notFoundf(format string, args ...any) *runoff.Problem {
	return problem(runoff.ErrNotFound, fmt.Sprintf(format, args...))
}

// formError shows an error on the form the person sent, with what they
// entered still in it, instead of on the error page: a problem with what
// they entered, or a message the broker did not confirm. The adapter still
// picks the status, the words, Retry-After and the log line.
type formError struct {
	err error
	// retry tells the person, when err is ErrUnavailable, what was not
	// confirmed and that sending the form again is harmless.
	retry string
	// page draws the form with the message to show at its top.
	page func(message string) templ.Component
}

func (f *formError) Error() string { return f.err.Error() }
func (f *formError) Unwrap() error { return f.err }

// errSignIn is a sign-in that named no account or the wrong password.
var errSignIn = errors.New("sign-in refused")

// renderError picks the status, the words and the page for an error, sets
// Retry-After on a 503, and logs it once: unexpected errors as errors,
// unavailability as a warning, a person's own mistakes not at all.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		err = &runoff.Problem{Kind: errTooLarge, Message: fmt.Sprintf("What you sent is larger than the %d bytes Runoff accepts for this form. Nothing was saved.", maxBytes.Limit)}
	}
	if errors.Is(err, runoff.ErrUnauthorized) {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	var form *formError
	onForm := errors.As(err, &form)
	e := views.ErrorPage{Status: http.StatusInternalServerError, Heading: "Something went wrong",
		Message: "Runoff hit an unexpected problem. Nothing you sent was lost; please try again in a moment."}
	switch {
	case errors.Is(err, runoff.ErrNotFound):
		e.Status, e.Heading, e.Message = http.StatusNotFound, "Not found", "There is nothing at this address. Check the link you followed."
	case errors.Is(err, errTooLarge):
		e.Status, e.Heading = http.StatusRequestEntityTooLarge, "Too much data"
	case errors.Is(err, runoff.ErrInvalid), errors.Is(err, runoff.ErrConflict):
		e.Status, e.Heading, e.Message = http.StatusBadRequest, "That request isn't valid", "Check what you entered and try again."
		if onForm {
			e.Status = http.StatusUnprocessableEntity
		}
	case errors.Is(err, errSignIn):
		e.Status, e.Heading = http.StatusUnauthorized, "Sign in"
	case errors.Is(err, errThrottled):
		var te *throttleError
		errors.As(err, &te)
		e.Status, e.Heading, e.Message = http.StatusTooManyRequests, "Too many attempts", te.Error()
		w.Header().Set("Retry-After", fmt.Sprint(int(te.wait.Seconds())+1))
	case errors.Is(err, runoff.ErrForbidden):
		e.Status, e.Heading, e.Message = http.StatusForbidden, "Not allowed", "You don't have access to this."
	case errors.Is(err, runoff.ErrUnavailable):
		e.Status, e.Heading = http.StatusServiceUnavailable, "Please try again in a moment"
		e.Message = "Runoff couldn't confirm that this was received. Please try again in a moment; doing it twice does no harm."
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			e.Message = "Runoff can't show this page right now because its storage is not answering. Nothing is lost; please try again in a moment."
		}
		if onForm && form.retry != "" {
			e.Message = form.retry
		}
		w.Header().Set("Retry-After", "5")
		s.Log.Warn("unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var p *runoff.Problem
	if errors.As(err, &p) && p.Message != "" {
		e.Message = p.Message
	}
	if onForm {
		s.render(w, r, e.Status, form.page(e.Message))
		return
	}
	s.render(w, r, e.Status, views.Error(s.page(r, e.Heading), e))
}

var errTooLarge = errors.New("too large")
