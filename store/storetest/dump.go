package storetest

import (
	"database/sql"
	"fmt"
	"testing"
)

// Tables returns every table of the database at url, each as text (one
// row a line, as Postgres writes a row), for tests that look for what must
// never be stored.
func Tables(tb testing.TB, url string) map[string]string {
	tb.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			tb.Fatal(err)
		}
		names = append(names, name)
	}
	rows.Close()
	out := make(map[string]string, len(names))
	for _, name := range names {
		var text sql.NullString
		if err := db.QueryRow(fmt.Sprintf(`SELECT string_agg(t::text, E'\n') FROM %q t`, name)).Scan(&text); err != nil {
			tb.Fatal(err)
		}
		out[name] = text.String
	}
	return out
}
