package handlers

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"time"
)

// Throttling of signing in and signing up: bcrypt costs tens of
// milliseconds, and it must not be had by unlimited anonymous requests.
// The counts live in Postgres, so every web process sees the same.
const (
	throttleWindow    = 15 * time.Minute
	throttleLock      = 15 * time.Minute
	loginAccountLimit = 5  // failed sign-ins per account per window
	loginAddressLimit = 20 // failed sign-ins per client address per window
	signupLimit       = 10 // sign-ups per client address per hour
)

// errThrottled is too many attempts: try again later.
var errThrottled = errors.New("throttled")

// throttleError says how long to wait.
type throttleError struct{ wait time.Duration }

func (e *throttleError) Error() string {
	return fmt.Sprintf("Too many attempts. Try again in %s.", minutes(e.wait))
}
func (e *throttleError) Unwrap() error { return errThrottled }

func minutes(d time.Duration) string {
	n := int(math.Ceil(d.Minutes()))
	if n <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", n)
}

// throttled returns a throttleError when any of keys is locked.
func (s *Server) throttled(r *http.Request, keys ...string) error {
	wait, err := s.Accounts.Locked(r.Context(), keys)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &throttleError{wait: wait}
	}
	return nil
}

// clientAddress is where a request came from: the connection's address,
// or, behind a platform's router that appends it (TrustProxy), the last
// entry of X-Forwarded-For — the only one a client cannot forge there.
func (s *Server) clientAddress(r *http.Request) string {
	if s.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
