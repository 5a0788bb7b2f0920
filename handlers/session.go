package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"github.com/gorilla/sessions"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

const (
	sessionName = "runoff"
	// keySession holds the session's random ID: the organizer it signs in
	// is found by its hash in Postgres, so signing out ends it at once.
	keySession = "sid"
	keyPending = "pending_elections"
	// A session ends after this long unused, and this long at most.
	sessionIdle = 12 * time.Hour
	sessionMax  = 30 * 24 * time.Hour
	// Receipts of ballots not yet counted live in their own cookie, so that
	// a voter who is not signed in still sees what they submitted.
	receiptsName = "runoff_receipts"
	maxReceipts  = 5
	maxPending   = 10
	// The ballots this browser cast, by election, so it is shown its
	// receipt instead of a second ballot, and only it sees the ranking.
	votedName = "runoff_voted"
	maxVoted  = 50
)

// session returns the request's session; a cookie that fails to decode
// (a rotated key, tampering) is treated as no session.
func (s *Server) session(r *http.Request, name string) *sessions.Session {
	sess, err := s.Sessions.Get(r, name)
	if err != nil {
		sess, _ = s.Sessions.New(r, name)
	}
	return sess
}

func init() {
	// Session values are gob-encoded; gob must know the concrete types
	// stored in them.
	gob.Register([]pendingReceipt{})
	gob.Register([]string{})
}

type organizerKey struct{}

// signedIn is the organizer a request's session signs in, if any; err is
// set when the session could not be looked up (storage not answering).
type signedIn struct {
	id    uuid.UUID
	email string
	err   error
}

type signedInKey struct{}

// withOrganizer looks the request's session up once, before any handler,
// for pages (not static files or health checks).
func (s *Server) withOrganizer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/static/") || p == "/healthz" || p == "/readyz" || p == "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		var who signedIn
		if sid, _ := s.session(r, sessionName).Values[keySession].(string); sid != "" {
			o, err := s.Accounts.Session(r.Context(), hashSessionID(sid), sessionIdle, sessionMax)
			switch {
			case err == nil:
				who.id, who.email = o.ID, o.Email
			case !errors.Is(err, runoff.ErrNotFound):
				who.err = err
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), signedInKey{}, who)))
	})
}

func hashSessionID(sid string) string {
	sum := sha256.Sum256([]byte("runoff session:" + sid))
	return hex.EncodeToString(sum[:])
}

// currentOrganizer is the signed-in organizer's ID and email, if any.
func (s *Server) currentOrganizer(r *http.Request) (uuid.UUID, string) {
	who, _ := r.Context().Value(signedInKey{}).(signedIn)
	return who.id, who.email
}

// organizer requires a signed-in organizer, and puts their ID in the
// request's context; anyone else is sent to sign in.
func (s *Server) organizer(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		who, _ := r.Context().Value(signedInKey{}).(signedIn)
		if who.err != nil {
			return who.err
		}
		if who.id == uuid.Nil {
			return runoff.ErrUnauthorized
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), organizerKey{}, who.id)))
	}
}

func organizerID(ctx context.Context) uuid.UUID {
	id, _ := ctx.Value(organizerKey{}).(uuid.UUID)
	return id
}

// signIn starts an organizer's session: a new random ID in the cookie,
// its hash in Postgres.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, o *runoff.Organizer) error {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	sid := base64.RawURLEncoding.EncodeToString(b[:])
	if err := s.Accounts.CreateSession(r.Context(), hashSessionID(sid), o.ID); err != nil {
		return err
	}
	sess := s.session(r, sessionName)
	// A fresh session on sign-in, so no earlier cookie's values carry over.
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.Values[keySession] = sid
	sess.Options = &sessions.Options{Path: "/", MaxAge: int(sessionMax.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: sess.Options.Secure}
	s.secure(r, sess)
	return sess.Save(r, w)
}

// signOut ends this browser's session, in Postgres and in the cookie.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	sess := s.session(r, sessionName)
	if sid, _ := sess.Values[keySession].(string); sid != "" {
		if err := s.Accounts.DeleteSession(r.Context(), hashSessionID(sid)); err != nil {
			return err
		}
	}
	sess.Options.MaxAge = -1
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	return sess.Save(r, w)
}

// secure marks a cookie Secure when the request came over HTTPS, directly
// or through the platform's router (X-Forwarded-Proto).
func (s *Server) secure(r *http.Request, sess *sessions.Session) {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		opts := *sess.Options
		opts.Secure = true
		sess.Options = &opts
	}
}

// addPending remembers in the session an election this organizer created
// and the worker may not have stored yet.
func (s *Server) addPending(w http.ResponseWriter, r *http.Request, id uuid.UUID) error {
	sess := s.session(r, sessionName)
	list, _ := sess.Values[keyPending].([]string)
	list = append(list, id.String())
	if len(list) > maxPending {
		list = list[len(list)-maxPending:]
	}
	sess.Values[keyPending] = list
	s.secure(r, sess)
	return sess.Save(r, w)
}

func (s *Server) isPending(r *http.Request, id uuid.UUID) bool {
	list, _ := s.session(r, sessionName).Values[keyPending].([]string)
	return slices.Contains(list, id.String())
}

// pendingReceipt is what the receipt shows while a ballot is queued.
type pendingReceipt struct {
	BallotID      string
	ElectionID    string
	ElectionTitle string
	Ranking       []string
}

func (s *Server) addReceipt(w http.ResponseWriter, r *http.Request, p pendingReceipt) error {
	sess := s.session(r, receiptsName)
	list := receiptsOf(sess)
	list = append(list, p)
	if len(list) > maxReceipts {
		list = list[len(list)-maxReceipts:]
	}
	sess.Values["receipts"] = list
	sess.Options = &sessions.Options{Path: "/", MaxAge: 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: sess.Options.Secure}
	s.secure(r, sess)
	return sess.Save(r, w)
}

func (s *Server) receipt(r *http.Request, ballotID string) (pendingReceipt, bool) {
	for _, p := range receiptsOf(s.session(r, receiptsName)) {
		if p.BallotID == ballotID {
			return p, true
		}
	}
	return pendingReceipt{}, false
}

func receiptsOf(sess *sessions.Session) []pendingReceipt {
	list, _ := sess.Values["receipts"].([]pendingReceipt)
	return list
}

// page is the layout's model for this request.
func (s *Server) page(r *http.Request, title string) views.Page {
	_, email := s.currentOrganizer(r)
	return views.Page{Title: title, Email: email, Revision: shortRevision(s.Revision)}
}

// render writes a component with a status. It renders into a buffer first
// so that a failure mid-page becomes an error page, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	// Page buffers are reused: growing a fresh one to a page's size was
	// the largest allocation of a ballot page.
	buf, _ := s.pages.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<18 {
			s.pages.Put(buf)
		}
	}()
	if err := c.Render(r.Context(), buf); err != nil {
		s.Log.Error("render failed", "path", r.URL.Path, "err", err)
		http.Error(w, "Runoff could not draw this page. Please try again.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// parseForm reads a urlencoded form of at most MaxFormBytes.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return err
		}
		return problem(runoff.ErrInvalid, "The form could not be read. Please go back and submit it again.")
	}
	return nil
}

// markVoted remembers in this browser that it cast ballotID in an election.
func (s *Server) markVoted(w http.ResponseWriter, r *http.Request, electionID uuid.UUID, ballotID string) error {
	sess := s.session(r, votedName)
	list, _ := sess.Values["voted"].([]string)
	list = append(list, electionID.String()+" "+ballotID)
	if len(list) > maxVoted {
		list = list[len(list)-maxVoted:]
	}
	sess.Values["voted"] = list
	sess.Options = &sessions.Options{Path: "/", MaxAge: 400 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: sess.Options.Secure}
	s.secure(r, sess)
	return sess.Save(r, w)
}

// voted returns the ballot this browser cast in an election, if any.
func (s *Server) voted(r *http.Request, electionID uuid.UUID) (ballotID string, ok bool) {
	list, _ := s.session(r, votedName).Values["voted"].([]string)
	for _, v := range list {
		if e, b, _ := strings.Cut(v, " "); e == electionID.String() {
			return b, true
		}
	}
	return "", false
}

// castHere reports whether this browser cast the ballot: only it is shown
// the ranking, so a receipt cannot prove a vote to anyone else.
func (s *Server) castHere(r *http.Request, ballotID string) bool {
	if _, ok := s.receipt(r, ballotID); ok {
		return true
	}
	list, _ := s.session(r, votedName).Values["voted"].([]string)
	for _, v := range list {
		if _, b, _ := strings.Cut(v, " "); b == ballotID {
			return true
		}
	}
	return false
}

// shortRevision is a commit as people quote it.
func shortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
