package main

import (
	"net/http"
	"net/http/pprof"

	"github.com/runoff-vote/runoff/handlers"
)

// withPprof serves Go's profiles under /debug/pprof/ beside next, behind
// the metrics token, when DEBUG_PPROF=true (config refuses it without a
// METRICS_TOKEN); otherwise it returns next unchanged. Profiles taken under
// load are how docs/performance.md found where the time goes.
func withPprof(cfg config, next http.Handler) http.Handler {
	if !cfg.Pprof {
		return next
	}
	mux := http.NewServeMux()
	debug := http.NewServeMux()
	debug.HandleFunc("/debug/pprof/", pprof.Index)
	debug.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	debug.HandleFunc("/debug/pprof/profile", pprof.Profile)
	debug.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	debug.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/", handlers.RequireToken(cfg.MetricsToken, debug))
	mux.Handle("/", next)
	return mux
}
