package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/bcrypt"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/handlers"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/store"
)

// runWeb serves the site until ctx is cancelled, then shuts down: stop
// accepting, finish requests in flight (with a deadline), close the
// publisher, close the database.
func runWeb(ctx context.Context, cfg config, log *slog.Logger) error {
	if cfg.SessionKeyGenerated {
		log.Warn("SESSION_KEY is not set: using a random key, so sign-ins end when this process restarts; set SESSION_KEY in production")
	}
	switch cfg.KeysSecretFrom {
	case "random":
		log.Warn("KEYS_SECRET and SESSION_KEY are not set: voter keys issued now can be printed again only until this process restarts, and only by this process; set KEYS_SECRET in production")
	case "SESSION_KEY":
		log.Info("KEYS_SECRET is not set: voter keys are derived from SESSION_KEY; if SESSION_KEY ever changes, keys issued before can no longer be printed again (they still work). Set KEYS_SECRET to keep them apart")
	}
	if !cfg.GCTuned {
		// The web's live heap is small (about 10 MB under load), so with
		// Go's default GOGC=100 it collects very often: measured under
		// runoff load, GOGC=400 took the web from about 205 to 160 µs of
		// CPU per ballot and its peak memory from 27 to 37 MB. The soft
		// limit keeps it under 100 MB whatever the load.
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(96 << 20)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("web: %w (is Postgres running, and DATABASE_URL right?)", err)
	}
	defer db.Close()
	reg := newRegistry()
	pub := rabbitmq.NewPublisher(cfg.WebAMQPURL, cfg.Topology, log)
	pub.Metrics = rabbitmq.NewMetrics(reg)
	pub.Bundle.InFlight = cfg.BallotBundles // the topology's BundleKeys: vote.submit
	defer pub.Close()
	// The web only publishes: runoff migrate and the worker declare the
	// topology. A broker that is down is not fatal: reads are served and
	// writes get a clear 503.
	if err := pub.Ping(ctx); err != nil {
		log.Warn("broker not reachable at start; will retry on demand", "err", err)
	}

	// Elections are read through a cache that a listener on the broker
	// keeps true; until the listener is up, every read goes to Postgres.
	cache := store.NewElectionCache(db.Election)
	registerCacheMetrics(reg, cache)
	listenCtx, stopListening := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		electionListener(cfg, cache, log).Run(listenCtx)
	}()
	defer func() { stopListening(); <-listening }()

	srv := &handlers.Server{
		Elections:      cachedElections{DB: db, cache: cache, results: store.NewResultCache(db.Result)},
		DeadLetters:    db,
		Accounts:       db,
		Records:        db,
		Imports:        db,
		BallotFiles:    ballotFiles{},
		Invitations:    db,
		Publisher:      pub,
		Backlog:        pub,
		Ready:          map[string]handlers.Pinger{"postgres": db, "rabbitmq": pub},
		Sessions:       handlers.NewCookieStore(cfg.SessionKey, cfg.SecureCookies),
		Log:            log,
		MaxFormBytes:   64 << 10,
		PasswordCost:   bcrypt.DefaultCost,
		Metrics:        handlers.NewMetrics(reg),
		MetricsHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		MetricsToken:   cfg.MetricsToken,
		Revision:       runoff.Version().Revision,
		TrustProxy:     cfg.TrustProxy,
		MailEnabled:    cfg.SMTP != nil,
		KeysSecret:     cfg.KeysSecret,
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	httpSrv := &http.Server{
		Handler:           withPprof(cfg, srv.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Results streams never finish by themselves: end them on shutdown.
	httpSrv.RegisterOnShutdown(srv.StopLive)
	log.Info("listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

// newRegistry is a process's Prometheus registry, with Go runtime and
// process metrics.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
