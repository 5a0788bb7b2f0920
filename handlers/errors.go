package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

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

// renderError picks the status and the words for an error and renders the
// error page. Unexpected errors are logged once, here.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		err = &runoff.Problem{Kind: errTooLarge, Message: fmt.Sprintf("What you sent is larger than the %d bytes Runoff accepts for this form. Nothing was saved.", maxBytes.Limit)}
	}
	if errors.Is(err, runoff.ErrUnauthorized) {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	e := views.ErrorPage{Status: http.StatusInternalServerError, Heading: "Something went wrong",
		Message: "Runoff hit an unexpected problem. Nothing you sent was lost; please try again in a moment."}
	var p *runoff.Problem
	hasProblem := errors.As(err, &p)
	switch {
	case errors.Is(err, runoff.ErrNotFound):
		e.Status, e.Heading, e.Message = http.StatusNotFound, "Not found", "There is nothing at this address. Check the link you followed."
	case errors.Is(err, errTooLarge):
		e.Status, e.Heading = http.StatusRequestEntityTooLarge, "Too much data"
	case errors.Is(err, runoff.ErrInvalid):
		e.Status, e.Heading, e.Message = http.StatusBadRequest, "That request isn't valid", "Check what you entered and try again."
	case errors.Is(err, runoff.ErrForbidden):
		e.Status, e.Heading, e.Message = http.StatusForbidden, "Not allowed", "You don't have access to this."
	case errors.Is(err, runoff.ErrUnavailable):
		e.Status, e.Heading = http.StatusServiceUnavailable, "Please try again in a moment"
		e.Message = "Runoff couldn't confirm that this was received. Please try again in a moment; doing it twice does no harm."
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			e.Message = "Runoff can't show this page right now because its storage is not answering. Nothing is lost; please try again in a moment."
		}
	default:
		s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if hasProblem && p.Message != "" {
		e.Message = p.Message
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
		s.Log.Warn("unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.render(w, r, e.Status, views.Error(s.page(r, e.Heading), e))
}

var errTooLarge = errors.New("too large")
