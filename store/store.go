// Package store keeps Runoff's state in Postgres: organizers, elections,
// ballots, distinct-ranking counts and result snapshots.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // also registers the driver as "postgres"

	"github.com/runoff-vote/runoff"
)

// DB is Runoff's Postgres database.
type DB struct {
	db *sqlx.DB
	// prepared holds the statements that run with every batch of
	// ballots, prepared once (and once on each connection that runs
	// them): Postgres then plans them once rather than for every batch.
	prepared sync.Map // SQL → *sqlx.Stmt
}

// inTxStmt returns query as a statement of tx, prepared on the pool the
// first time it is asked for.
func (s *DB) inTxStmt(ctx context.Context, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	if v, ok := s.prepared.Load(query); ok {
		return tx.StmtxContext(ctx, v.(*sqlx.Stmt)), nil
	}
	st, err := s.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.prepared.LoadOrStore(query, st); loaded {
		st.Close()
		st = v.(*sqlx.Stmt)
	}
	return tx.StmtxContext(ctx, st), nil
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, wrapf(err, "open")
	}
	// As many kept idle as may be open: under load a pool that keeps fewer
	// closes and reopens connections all the time, and a new Postgres
	// backend costs far more than the query it was opened for.
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, wrapf(err, "connect")
	}
	return &DB{db: db}, nil
}

// Close closes the connection pool.
func (s *DB) Close() error { return s.db.Close() }

// Ping checks that Postgres answers; /readyz uses it.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return wrapf(err, "ping")
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// notFound maps sql.ErrNoRows to the domain's not-found, naming what.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", what, runoff.ErrNotFound)
	}
	return wrapf(err, "%s", what)
}

// wrapf names the operation that failed and classifies the error, so no
// caller needs to know Postgres's codes. When Postgres could not be reached
// it adds runoff.ErrUnavailable, so the web answers 503 ("try again in a
// moment") rather than 500 and the worker holds its batch and retries. When
// Postgres refused the data itself it adds runoff.ErrInvalid: retrying
// cannot cure that, so the worker finds the culprit and dead-letters it.
func wrapf(err error, format string, args ...any) error {
	switch {
	case unreachable(err):
		return fmt.Errorf("store: "+format+": %w: %w", append(args, runoff.ErrUnavailable, err)...)
	case refusedData(err):
		return fmt.Errorf("store: "+format+": %w: %w", append(args, runoff.ErrInvalid, err)...)
	}
	return fmt.Errorf("store: "+format+": %w", append(args, err)...)
}

// refusedData reports a Postgres error caused by the data (class 22, data
// exception; class 23, integrity violation) rather than by the moment.
func refusedData(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		class := pqErr.Code.Class()
		return class == "22" || class == "23"
	}
	return false
}

// unreachable reports a failure to reach Postgres, rather than one of a
// query: a network error, a dropped connection, or a server that is
// starting up or shutting down (classes 08 and 57).
func unreachable(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		class := pqErr.Code.Class()
		return class == "08" || class == "57"
	}
	return false
}
