package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/handlers"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/worker"
)

// runWorker consumes until ctx is cancelled; then the consumer stops taking
// messages, finishes and acks the batch in hand, and the worker closes.
func runWorker(ctx context.Context, cfg config, log *slog.Logger) error {
	if !cfg.GCTuned {
		// Storing ballots makes short-lived garbage over a small live heap,
		// so with Go's default GOGC=100 the worker collects very often:
		// GOGC=400 took it from about 36 to 28 µs of CPU per ballot under
		// runoff load. The soft limit holds it under 150 MB with a
		// million-ballot election's tally kept (docs/performance.md).
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(120 << 20)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("worker: %w (is Postgres running, and DATABASE_URL right?)", err)
	}
	defer db.Close()
	reg := newRegistry()
	transport := rabbitmq.NewMetrics(reg)
	rc := worker.NewRecomputer(db, log)
	rc.Metrics = worker.NewMetrics(reg)
	// Requeues publish through a confirm publisher of their own.
	pub := rabbitmq.NewPublisher(cfg.WorkerAMQPURL, cfg.Topology, log)
	pub.Metrics = transport
	defer pub.Close()
	c := rabbitmq.NewConsumer(cfg.WorkerAMQPURL, cfg.Topology, workerHandlers(cfg.Topology, db, pub, rc, cfg.Mailer(), cfg.KeysSecret, log), log)
	c.Metrics = transport
	c.MaxBody = maxMessageBytes()
	if cfg.MetricsPort != 0 {
		stop, err := serveMetrics(ctx, cfg, reg, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	sealer := worker.NewSealer(db, pub, log)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		rc.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		sealer.Run(ctx)
	}()
	err = c.Run(ctx)
	wg.Wait()
	log.Info("worker stopped")
	return err
}

// workerHandlers says which of the worker's lines of work carries out each
// queue's messages.
func workerHandlers(topo rabbitmq.Topology, db *store.DB, pub worker.Publisher, rc *worker.Recomputer, mailer worker.Mailer, keysSecret []byte, log *slog.Logger) map[string]rabbitmq.Handler {
	q := worker.NewQueues(db, pub, rc.Notify, mailer, keysSecret, log)
	handlers := map[string]rabbitmq.Handler{
		topo.Votes:     rabbitmq.Handler(q.Votes),
		topo.Elections: rabbitmq.Handler(q.Organizers),
		topo.DeadQueue: rabbitmq.Handler(q.DeadLetters),
	}
	if topo.Bundles != "" {
		// Bundles of ballots: the consumer unpacks them into the ballots
		// the votes queue would have had alone.
		handlers[topo.Bundles] = rabbitmq.Handler(q.Votes)
	}
	return handlers
}

func runMigrate(ctx context.Context, cfg config, log *slog.Logger) error {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer db.Close()
	ran, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "applied", ran)
	// The durable topology too, so that the web, which only publishes,
	// finds it before any worker has started.
	if err := rabbitmq.DeclareTopology(cfg.WorkerAMQPURL, nil, cfg.Topology); err != nil {
		return fmt.Errorf("migrate: %w (is RabbitMQ running, and WORKER_AMQP_URL or AMQP_URL right?)", err)
	}
	log.Info("topology declared", "exchange", cfg.Topology.Exchange)
	return nil
}

// serveMetrics serves the worker's /metrics and /healthz on METRICS_PORT.
func serveMetrics(ctx context.Context, cfg config, reg *prometheus.Registry, log *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	h := handlers.RequireToken(cfg.MetricsToken, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /metrics", h)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.MetricsPort)))
	if err != nil {
		return nil, fmt.Errorf("worker: metrics: %w", err)
	}
	srv := &http.Server{Handler: withPprof(cfg, mux), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	log.Info("serving metrics", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// maxMessageBytes is the largest body a Runoff process publishes, from the
// domain's limits: the largest of an election.create (or election.update,
// its equal) with the most candidates and every text at its longest, a
// batch of voter keys with the longest labels, and a batch of paper
// ballots each ranking every candidate; each character one that JSON
// writes in 6 bytes (\u003c), with room to spare. The worker refuses
// anything larger; the broker's max_message_size should be above it.
func maxMessageBytes() int {
	text := func(n int) string { return strings.Repeat("<", n) }
	size := func(v any) int {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // a fixed value of plain types
		}
		return len(b)
	}
	m := runoff.ElectionCreate{
		ElectionID: uuid.Max, OwnerID: uuid.Max,
		Title: text(runoff.MaxTitle), Description: text(runoff.MaxDescription),
		Seats: runoff.MaxSeats, Draft: true,
		Settings: runoff.Settings{WinnerMode: text(64), Tiebreak: text(64), Results: text(64), Access: text(64),
			Timezone: text(64), RandomSeed: new(int64), OpensAt: new(time.Time), ClosesAt: new(time.Time), MaxRanks: runoff.MaxCandidates},
	}
	for i := range runoff.MaxCandidates {
		m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.Max, Position: i,
			Name: text(runoff.MaxCandidateName), Description: text(runoff.MaxCandidateDescription)})
	}
	keys := runoff.ElectionKeys{ChangeID: uuid.Max, ElectionID: uuid.Max, OrganizerID: uuid.Max}
	for range runoff.MaxKeysPerBatch {
		keys.Hashes = append(keys.Hashes, strings.Repeat("f", 64))
		keys.Labels = append(keys.Labels, text(runoff.MaxVoterLabel))
	}
	imp := runoff.ElectionImport{ImportID: uuid.Max, BatchID: uuid.Max, ElectionID: uuid.Max, OrganizerID: uuid.Max,
		FileName: text(255), Total: runoff.MaxImportBytes}
	ranking := make([]uuid.UUID, runoff.MaxCandidates)
	for i := range ranking {
		ranking[i] = uuid.Max
	}
	for row := range runoff.ImportBatchSize {
		imp.Ballots = append(imp.Ballots, runoff.ImportedBallot{Row: runoff.MaxImportBytes - row, Ranking: ranking})
	}
	n := max(size(m), size(keys), size(imp))
	return n + n/4
}
