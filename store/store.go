// Package store keeps Runoff's state in Postgres: organizers, elections,
// ballots, distinct-ranking counts and result snapshots.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the Postgres driver, registered as "postgres"

	"github.com/runoff-vote/runoff"
)

// DB is Runoff's Postgres database.
type DB struct {
	db *sqlx.DB
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return &DB{db: db}, nil
}

// Close closes the connection pool.
func (s *DB) Close() error { return s.db.Close() }

// Ping checks that Postgres answers; /readyz uses it.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// notFound maps sql.ErrNoRows to the domain's not-found, naming what.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", what, runoff.ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}
