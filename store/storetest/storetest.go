// Package storetest gives tests their own freshly migrated Postgres database
// on the real server, dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/runoff-vote/runoff/store"
)

// AdminURL is the server tests create their databases on:
// RUNOFF_TEST_DATABASE_URL, or the local server as the runoff role that scripts/services.sh creates.
func AdminURL() string {
	if u := os.Getenv("RUNOFF_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://runoff:runoff@127.0.0.1:5432/postgres?sslmode=disable"
}

// NewURL creates an empty database for tb, dropped at cleanup, and returns
// its URL.
func NewURL(tb testing.TB) string {
	tb.Helper()
	admin, err := sql.Open("postgres", AdminURL())
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "runoff_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		tb.Fatalf("storetest: create database (is Postgres running? 'go tool task services' starts it): %v", err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("postgres", AdminURL())
		if err != nil {
			tb.Errorf("storetest: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			tb.Errorf("storetest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// MustOpen creates a database for tb, migrates it and opens it.
func MustOpen(tb testing.TB) (*store.DB, string) {
	tb.Helper()
	u := NewURL(tb)
	ctx := context.Background()
	db, err := store.Open(ctx, u)
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	return db, u
}
