package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/worker"
)

// config is everything the environment decides, with Heroku's names.
type config struct {
	Port        int
	DatabaseURL string
	// AMQPURL is the broker (CLOUDAMQP_URL or AMQP_URL): one URL, or a
	// cluster's nodes comma-separated. WebAMQPURL and WorkerAMQPURL are
	// what each process uses: the same, unless WEB_AMQP_URL or
	// WORKER_AMQP_URL give the process a broker user of its own, with
	// only the permissions it needs. migrate, which declares the topology,
	// is the worker's.
	AMQPURL       string
	WebAMQPURL    string
	WorkerAMQPURL string
	SessionKey    []byte
	// SessionKeyGenerated is set when SESSION_KEY was empty: fine for a
	// laptop, but sessions end at every restart and differ between web
	// processes, so production must set it.
	SessionKeyGenerated bool
	// KeysSecret derives voter keys, so an organizer can print the same
	// keys again; KeysSecretFrom says where it came from when KEYS_SECRET
	// is not set ("SESSION_KEY", or "random" with a generated SESSION_KEY).
	KeysSecret     []byte
	KeysSecretFrom string
	SecureCookies  bool
	LogFormat      string
	LogLevel       slog.Level
	Topology       rabbitmq.Topology
	// SMTP sends the emails organizers ask for (password links), when
	// SMTP_URL is set.
	SMTP *worker.SMTP
	// TrustProxy takes clients' addresses from X-Forwarded-For's last
	// entry, as a platform's router appends it.
	TrustProxy bool
	// MetricsToken, if set, is required as a bearer token on /metrics.
	MetricsToken string
	// GCTuned says the operator set GOGC or GOMEMLIMIT, which the Go
	// runtime then follows; otherwise the web picks its own (web.go).
	GCTuned bool
	// Pprof serves /debug/pprof/ on the web's PORT and the worker's
	// METRICS_PORT, behind MetricsToken (DEBUG_PPROF=true).
	Pprof bool
	// MetricsPort, if set, is where the worker serves /metrics and
	// /healthz (the web serves them on PORT).
	MetricsPort int
	// BallotBundles is how many bundles of ballots the web may have
	// waiting for the broker's confirms at once (BALLOT_BUNDLES, default
	// 2); ballots that arrive meanwhile share the next broker message
	// (rabbitmq.Bundling). 0 (BALLOT_BUNDLES=off) sends each ballot as a
	// message of its own.
	BallotBundles int
}

const defaultDatabaseURL = "postgres://runoff:runoff@127.0.0.1:5432/runoff?sslmode=disable"

func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		Port:          8080,
		DatabaseURL:   defaultDatabaseURL,
		AMQPURL:       "amqp://guest:guest@localhost:5672/",
		LogFormat:     "text",
		LogLevel:      slog.LevelInfo,
		Topology:      rabbitmq.DefaultTopology(),
		BallotBundles: 2,
	}
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return cfg, fmt.Errorf("PORT=%q: want a port number 0-65535", v)
		}
		cfg.Port = p
	}
	if v := getenv("DATABASE_URL"); v != "" {
		cfg.DatabaseURL = v
	}
	if _, err := url.Parse(cfg.DatabaseURL); err != nil {
		return cfg, fmt.Errorf("DATABASE_URL is not a URL: %w", err)
	}
	for _, name := range []string{"CLOUDAMQP_URL", "AMQP_URL"} {
		if v := getenv(name); v != "" {
			// Several URLs, comma-separated, are the nodes of one cluster.
			if _, err := rabbitmq.SplitURLs(v); err != nil {
				return cfg, fmt.Errorf("%s: want an amqp:// or amqps:// URL, or several comma-separated: %w", name, err)
			}
			cfg.AMQPURL = v
			break
		}
	}
	cfg.WebAMQPURL, cfg.WorkerAMQPURL = cfg.AMQPURL, cfg.AMQPURL
	for name, dst := range map[string]*string{"WEB_AMQP_URL": &cfg.WebAMQPURL, "WORKER_AMQP_URL": &cfg.WorkerAMQPURL} {
		if v := getenv(name); v != "" {
			if _, err := rabbitmq.SplitURLs(v); err != nil {
				return cfg, fmt.Errorf("%s: want an amqp:// or amqps:// URL, or several comma-separated: %w", name, err)
			}
			*dst = v
		}
	}
	switch v := getenv("SESSION_KEY"); {
	case v == "":
		cfg.SessionKey = make([]byte, 32)
		rand.Read(cfg.SessionKey)
		cfg.SessionKeyGenerated = true
	case len(v) < 32:
		return cfg, fmt.Errorf("SESSION_KEY is %d characters; use at least 32 random ones (for example: openssl rand -hex 32)", len(v))
	default:
		cfg.SessionKey = []byte(v)
	}
	// Voter keys are derived from KEYS_SECRET. Without it they are derived
	// from SESSION_KEY rather than from a random secret: keys must be the
	// same on every web process and after a restart, or an organizer could
	// never print them again. The web checks each key it prints against
	// its stored hash, so a changed secret refuses to print rather than
	// printing wrong keys.
	switch v := getenv("KEYS_SECRET"); {
	case v == "":
		mac := hmac.New(sha256.New, cfg.SessionKey)
		mac.Write([]byte("runoff voter keys secret"))
		cfg.KeysSecret, cfg.KeysSecretFrom = mac.Sum(nil), "SESSION_KEY"
		if cfg.SessionKeyGenerated {
			cfg.KeysSecretFrom = "random"
		}
	case len(v) < 32:
		return cfg, fmt.Errorf("KEYS_SECRET is %d characters; use at least 32 random ones (for example: openssl rand -hex 32)", len(v))
	default:
		cfg.KeysSecret = []byte(v)
	}
	// Cookies are Secure whenever a request arrives over HTTPS (directly or
	// per X-Forwarded-Proto); COOKIE_SECURE=true forces it always.
	cfg.SecureCookies = getenv("COOKIE_SECURE") == "true"
	switch v := strings.ToLower(getenv("LOG_FORMAT")); v {
	case "", "text":
	case "json":
		cfg.LogFormat = "json"
	default:
		return cfg, fmt.Errorf("LOG_FORMAT=%q: want text or json", v)
	}
	if getenv("DYNO") != "" && getenv("LOG_FORMAT") == "" {
		cfg.LogFormat = "json" // on Heroku, logs go to a log drain
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return cfg, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v)
		}
	}
	cfg.MetricsToken = getenv("METRICS_TOKEN")
	if v := getenv("SMTP_URL"); v != "" {
		m, err := worker.NewSMTP(v)
		if err != nil {
			return cfg, fmt.Errorf("SMTP_URL: %w", err)
		}
		cfg.SMTP = m
	}
	switch v := getenv("TRUST_PROXY"); v {
	case "", "false":
	case "true":
		cfg.TrustProxy = true
	default:
		return cfg, fmt.Errorf("TRUST_PROXY=%q: want true (behind a router that appends the client to X-Forwarded-For) or false", v)
	}
	if v := getenv("METRICS_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return cfg, fmt.Errorf("METRICS_PORT=%q: want a port number 1-65535", v)
		}
		cfg.MetricsPort = p
	}
	cfg.GCTuned = getenv("GOGC") != "" || getenv("GOMEMLIMIT") != ""
	switch v := getenv("DEBUG_PPROF"); v {
	case "", "false":
	case "true":
		if cfg.MetricsToken == "" {
			return cfg, fmt.Errorf("DEBUG_PPROF=true needs METRICS_TOKEN: profiles show what the process holds, so they are never public")
		}
		cfg.Pprof = true
	default:
		return cfg, fmt.Errorf("DEBUG_PPROF=%q: want true (serve /debug/pprof/ behind METRICS_TOKEN) or false", v)
	}
	switch v := getenv("BALLOT_BUNDLES"); v {
	case "":
	case "off":
		cfg.BallotBundles = 0
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return cfg, fmt.Errorf("BALLOT_BUNDLES=%q: want off (a broker message per ballot) or how many bundles of ballots may await the broker's confirm at once, 1-64", v)
		}
		cfg.BallotBundles = n
	}
	if v := getenv("RUNOFF_QUEUE_PREFIX"); v != "" {
		cfg.Topology = cfg.Topology.WithPrefix(v)
	}
	return cfg, nil
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Mailer is the worker's mailer, or nil when the site sends no email.
func (c config) Mailer() worker.Mailer {
	if c.SMTP == nil {
		return nil
	}
	return c.SMTP
}
