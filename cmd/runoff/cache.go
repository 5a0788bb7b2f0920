package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/store"
)

// cachedElections is what the web's handlers read elections through: the
// database, with Election answered by the web's election cache and Result
// by a short-lived cache of parsed snapshots.
type cachedElections struct {
	*store.DB
	cache   *store.ElectionCache
	results *store.ResultCache
}

func (c cachedElections) Result(ctx context.Context, id uuid.UUID) (*runoff.ResultSnapshot, error) {
	return c.results.Result(ctx, id)
}

func (c cachedElections) Election(ctx context.Context, id uuid.UUID) (*runoff.Election, error) {
	return c.cache.Election(ctx, id)
}

// electionListener keeps a web process's election cache true: it listens,
// on a queue of the process's own, to the organizers' change requests and
// to the worker's announcements that it carried one out.
func electionListener(cfg config, cache *store.ElectionCache, log *slog.Logger) *rabbitmq.Listener {
	keys := append(runoff.ElectionChangeKeys(), runoff.KeyElectionChanged+".*")
	return &rabbitmq.Listener{
		URL: cfg.WebAMQPURL, Topology: cfg.Topology, Keys: keys, Log: log,
		Up: cache.SetLive,
		Handle: func(key string, body []byte) {
			var m struct {
				ElectionID uuid.UUID `json:"election_id"`
			}
			if err := json.Unmarshal(body, &m); err != nil || m.ElectionID == uuid.Nil {
				// Something unexpected on our queue: forget everything
				// rather than risk keeping what it meant to change.
				log.Warn("election listener: message without an election", "key", key)
				cache.SetLive(true)
				return
			}
			if strings.HasPrefix(key, runoff.KeyElectionChanged+".") {
				cache.Changed(m.ElectionID)
			} else {
				cache.Changing(m.ElectionID)
			}
		},
	}
}

// registerCacheMetrics exports the cache's hits and misses.
func registerCacheMetrics(reg prometheus.Registerer, cache *store.ElectionCache) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "runoff_election_cache_hits_total",
			Help: "Election reads the web answered from its cache."}, func() float64 { h, _ := cache.Stats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "runoff_election_cache_misses_total",
			Help: "Election reads the web sent to Postgres."}, func() float64 { _, m := cache.Stats(); return float64(m) }),
	)
}
