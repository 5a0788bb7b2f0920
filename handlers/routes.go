// Package handlers is Runoff's HTTP layer: routes, sessions, forms, and the
// one place where errors become pages. It reads what a person waits for
// through the small interfaces below and publishes everything else.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/sessions"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/static"
)

// Elections reads elections, ballots and results: the synchronous reads.
type Elections interface {
	Election(ctx context.Context, id uuid.UUID) (*runoff.Election, error)
	ChangeApplied(ctx context.Context, id uuid.UUID) (bool, error)
	ElectionsByOwner(ctx context.Context, owner uuid.UUID) ([]runoff.Election, error)
	Ballot(ctx context.Context, id uuid.UUID) (*runoff.Ballot, error)
	Result(ctx context.Context, electionID uuid.UUID) (*runoff.ResultSnapshot, error)
	VoterKeys
}

// DeadLetters reads messages the worker could not carry out.
type DeadLetters interface {
	DeadLetters(ctx context.Context, electionID uuid.UUID) ([]runoff.DeadLetter, error)
	DeadLetter(ctx context.Context, id uuid.UUID) (*runoff.DeadLetter, error)
	DeadLetterByMessage(ctx context.Context, messageID string) (*runoff.DeadLetter, error)
	CountDeadLetters(ctx context.Context, electionID uuid.UUID) (int, error)
	HeldByOwner(ctx context.Context, owner uuid.UUID) (map[uuid.UUID]int, error)
}

// Backlog says how many ballots wait to be counted, for the dashboard: at
// least that many, since one broker message may carry several.
type Backlog interface {
	VotesWaiting(ctx context.Context) (int, error)
}

// Accounts stores organizers, their sessions and the throttle on signing
// in: the one synchronous write.
type Accounts interface {
	CreateOrganizer(ctx context.Context, o *runoff.Organizer) error
	OrganizerByEmail(ctx context.Context, email string) (*runoff.Organizer, error)
	CreateSession(ctx context.Context, hash string, organizerID uuid.UUID) error
	Session(ctx context.Context, hash string, idle, maxAge time.Duration) (*runoff.Organizer, error)
	DeleteSession(ctx context.Context, hash string) error
	DeleteSessions(ctx context.Context, organizerID uuid.UUID) error
	Locked(ctx context.Context, keys []string) (time.Duration, error)
	Failed(ctx context.Context, key string, limit int, window, lock time.Duration) error
	Succeeded(ctx context.Context, key string) error
	SetPassword(ctx context.Context, organizerID uuid.UUID, hash string) error
	ResetToken(ctx context.Context, hash string) (*runoff.Organizer, error)
	UseResetToken(ctx context.Context, hash string) (uuid.UUID, error)
}

// Publisher publishes a message and returns once the broker has confirmed
// it; a failure wraps runoff.ErrUnavailable.
type Publisher interface {
	Publish(ctx context.Context, key, id string, body []byte) error
}

// Pinger reports whether a backend answers, for /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server holds the handlers' dependencies.
type Server struct {
	Elections   Elections
	DeadLetters DeadLetters
	Accounts    Accounts
	Records     Records
	Imports     Imports
	BallotFiles BallotFiles
	Invitations Invitations
	Publisher   Publisher
	// Backlog, if set, shows organizers how many ballots wait to be counted.
	Backlog  Backlog
	Ready    map[string]Pinger
	Sessions sessions.Store
	Log      *slog.Logger
	// MaxFormBytes bounds a form body.
	MaxFormBytes int64
	// PasswordCost is bcrypt's cost; tests lower it.
	PasswordCost int
	// Metrics counts responses; MetricsHandler, if set, serves /metrics,
	// behind a bearer token if MetricsToken is set.
	Metrics        *Metrics
	MetricsHandler http.Handler
	MetricsToken   string
	// MailEnabled says the worker sends email (SMTP_URL is set), so
	// organizers can ask for password links themselves.
	MailEnabled bool
	// TrustProxy takes the client's address from the last entry of
	// X-Forwarded-For, which a platform's router (Heroku's) appends; off,
	// from the connection.
	TrustProxy bool
	// Revision is the commit this build was made from ("" if unknown);
	// /healthz and every page's footer carry it.
	Revision string
	// KeysSecret derives voter keys (runoff.DeriveKey); without it, keys
	// cannot be issued or printed, but those issued still work.
	KeysSecret []byte
	// LiveEvery is how often a results stream's shared poller reads its
	// election (live.go); a second if 0.
	LiveEvery time.Duration
	live      *liveHub

	pages sync.Pool // render's page buffers
	kept  keptPages // the ballot and results pages, as last drawn
}

// Handler returns the whole site: every route, behind cross-origin (CSRF)
// protection and security headers.
// A dependency left unset is a wiring mistake, reported at start rather than
// as a 500 on the first request that needs it.
func (s *Server) Handler() http.Handler {
	for name, dep := range map[string]any{"Elections": s.Elections, "DeadLetters": s.DeadLetters, "Accounts": s.Accounts, "Records": s.Records, "Imports": s.Imports, "BallotFiles": s.BallotFiles, "Invitations": s.Invitations,
		"Publisher": s.Publisher, "Sessions": s.Sessions, "Log": s.Log} {
		if dep == nil {
			panic("handlers: Server." + name + " is not set")
		}
	}
	mux := http.NewServeMux()
	h := s.handle
	if s.LiveEvery <= 0 {
		s.LiveEvery = time.Second
	}
	s.live = newLiveHub(s.LiveEvery, s.readLive, func(id uuid.UUID, err error) {
		s.Log.Warn("results stream: reading the election", "election_id", id, "err", err)
	})

	mux.Handle("GET /{$}", h(s.handleHome))
	mux.Handle("GET /signup", h(s.handleSignupForm))
	mux.Handle("POST /signup", h(s.handleSignup))
	mux.Handle("GET /login", h(s.handleLoginForm))
	mux.Handle("POST /login", h(s.handleLogin))
	mux.Handle("POST /logout", h(s.handleLogout))
	mux.Handle("POST /logout/everywhere", h(s.organizer(s.handleLogoutEverywhere)))
	mux.Handle("GET /account/password", h(s.organizer(s.handlePasswordForm)))
	mux.Handle("POST /account/password", h(s.organizer(s.handlePasswordChange)))
	mux.Handle("GET /reset", h(s.handleForgotForm))
	mux.Handle("POST /reset", h(s.handleForgot))
	mux.Handle("GET /reset/{token}", h(s.handleResetForm))
	mux.Handle("POST /reset/{token}", h(s.handleReset))

	mux.Handle("GET /admin", h(s.organizer(s.handleAdmin)))
	mux.Handle("GET /admin/elections/new", h(s.organizer(s.handleElectionForm)))
	mux.Handle("POST /admin/elections", h(s.organizer(s.handleElectionCreate)))
	mux.Handle("GET /admin/elections/{id}", h(s.organizer(s.handleElectionAdmin)))
	mux.Handle("POST /admin/elections/{id}", h(s.organizer(s.handleElectionUpdate)))
	mux.Handle("POST /admin/elections/{id}/open", h(s.organizer(s.lifecycle(runoff.KeyElectionOpen))))
	mux.Handle("POST /admin/elections/{id}/close", h(s.organizer(s.lifecycle(runoff.KeyElectionClose))))
	mux.Handle("POST /admin/elections/{id}/reopen", h(s.organizer(s.lifecycle(runoff.KeyElectionReopen))))
	mux.Handle("POST /admin/elections/{id}/delete", h(s.organizer(s.lifecycle(runoff.KeyElectionDelete))))
	mux.Handle("POST /admin/elections/{id}/ties/{round}", h(s.organizer(s.handleTiebreak)))
	mux.Handle("GET /admin/elections/{id}/audit", h(s.organizer(s.handleAudit)))
	mux.Handle("GET /admin/elections/{id}/ballots.csv", h(s.organizer(s.handleBallotsCSV)))
	mux.Handle("GET /admin/elections/{id}/rules.json", h(s.organizer(s.handleRulesJSON)))
	mux.Handle("POST /admin/elections/{id}/import", h(s.organizer(s.handleImport)))
	mux.Handle("GET /admin/elections/{id}/imports/{importID}", h(s.organizer(s.handleImportProgress)))
	mux.Handle("POST /admin/elections/{id}/keys", h(s.organizer(s.handleKeysIssue)))
	mux.Handle("GET /admin/elections/{id}/keys.csv", h(s.organizer(s.handleKeysCSV)))
	mux.Handle("GET /admin/elections/{id}/keys/print", h(s.organizer(s.handleKeysPrint)))
	mux.Handle("POST /admin/elections/{id}/keys/invite", h(s.organizer(s.handleInvite)))
	mux.Handle("GET /admin/elections/{id}/dead-letters", h(s.organizer(s.handleDeadLetters)))
	mux.Handle("POST /admin/elections/{id}/dead-letters/{dlID}/requeue", h(s.organizer(s.handleRequeue)))

	mux.Handle("GET /e/{id}", h(s.handleBallotForm))
	mux.Handle("POST /e/{id}/review", h(s.handleBallotReview))
	mux.Handle("POST /e/{id}/ballots", h(s.handleBallotSubmit))
	mux.Handle("GET /b/{ballotID}", h(s.handleReceipt))
	mux.Handle("GET /e/{id}/results", h(s.handleResults))
	mux.Handle("GET /e/{id}/results.json", h(s.handleResultsJSON))
	mux.Handle("GET /e/{id}/results.csv", h(s.handleResultsCSV))
	mux.Handle("GET /e/{id}/results/print", h(s.handleResultsPrint))
	mux.Handle("GET /e/{id}/results/embed", h(s.handleResultsEmbed))
	mux.Handle("GET /e/{id}/results/live", h(s.handleResultsLive))

	if s.MetricsHandler != nil {
		mux.Handle("GET /metrics", RequireToken(s.MetricsToken, s.MetricsHandler))
	}
	mux.Handle("GET /healthz", http.HandlerFunc(s.handleHealthz))
	mux.Handle("GET /readyz", http.HandlerFunc(s.handleReadyz))
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(static.FS))))
	mux.Handle("/", h(func(w http.ResponseWriter, r *http.Request) error {
		return notFoundf("There is no page at %s.", r.URL.Path)
	}))

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, &runoff.Problem{Kind: runoff.ErrForbidden,
			Message: "This form was sent from another site, so Runoff refused it. Open the page on this site and submit it again."})
	}))
	if s.Metrics == nil {
		s.Metrics = NewMetrics(nil)
	}
	return s.Metrics.count(securityHeaders(csrf.Handler(s.withOrganizer(mux))))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Shared values, not copies: each slice is full (len = cap), so a
		// handler that adds to one gets a new array, and Set replaces it.
		for _, kv := range pageHeaders {
			h[kv.key] = kv.value
		}
		next.ServeHTTP(w, r)
	})
}

var pageHeaders = []struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Referrer-Policy", []string{"same-origin"}},
	{"X-Frame-Options", []string{"DENY"}},
}

// seeOther answers 303 to one of the site's own paths. http.Redirect
// would also clean and resolve the path, which ours never need.
func seeOther(w http.ResponseWriter, path string) {
	w.Header()["Location"] = []string{path}
	w.WriteHeader(http.StatusSeeOther)
}

func staticFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
