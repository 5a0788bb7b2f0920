package store_test

import (
	"database/sql"
	"testing"

	"github.com/google/uuid"
)

// closeElection closes an election directly; closing through the app comes
// with its own message later.
func closeElection(t *testing.T, url string, id uuid.UUID) {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE elections SET status = 'closed' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, url, query string, args ...any) int {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func exec(t *testing.T, url, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}
