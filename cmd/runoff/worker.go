package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/worker"
)

// runWorker consumes until ctx is cancelled; then the consumer stops taking
// messages, finishes and acks the batch in hand, and the worker closes.
func runWorker(ctx context.Context, cfg config, log *slog.Logger) error {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("worker: %w (is Postgres running, and DATABASE_URL right?)", err)
	}
	defer db.Close()
	rc := worker.NewRecomputer(db, log)
	c := worker.NewConsumer(cfg.AMQPURL, cfg.Topology, db, log)
	c.Recompute = rc.Notify

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rc.Run(ctx)
	}()
	err = c.Run(ctx)
	wg.Wait()
	log.Info("worker stopped")
	return err
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
	return nil
}
