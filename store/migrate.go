package store

import (
	"context"
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrateLock is the advisory lock key that serialises concurrent migrators
// (two release phases, or a test and a dev server).
const migrateLock = 7_200_431_337

// Migrate applies the embedded migrations that have not been applied yet,
// each in its own transaction, in file-name order. It returns the names it
// applied.
//
// A small runner rather than golang-migrate: the migrations are plain
// forward-only SQL files, and an advisory lock plus a table of applied names
// is all the bookkeeping they need, without a dependency tree.
func (s *DB) Migrate(ctx context.Context) ([]string, error) {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return nil, wrapf(err, "migrate")
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return nil, wrapf(err, "migrate: lock")
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock)

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, wrapf(err, "migrate")
	}
	var done []string
	if err := conn.SelectContext(ctx, &done, `SELECT name FROM schema_migrations`); err != nil {
		return nil, wrapf(err, "migrate")
	}
	applied := make(map[string]bool, len(done))
	for _, n := range done {
		applied[n] = true
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, wrapf(err, "migrate")
	}
	sort.Strings(names)
	var ran []string
	for _, path := range names {
		name := strings.TrimPrefix(path, "migrations/")
		if applied[name] {
			continue
		}
		body, err := migrations.ReadFile(path)
		if err != nil {
			return ran, wrapf(err, "migrate %s", name)
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			return ran, wrapf(err, "migrate %s", name)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return ran, wrapf(err, "migrate %s", name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
			tx.Rollback()
			return ran, wrapf(err, "migrate %s", name)
		}
		if err := tx.Commit(); err != nil {
			return ran, wrapf(err, "migrate %s", name)
		}
		ran = append(ran, name)
	}
	return ran, nil
}
