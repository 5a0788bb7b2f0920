package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// RankingCount is one distinct ranking and how many counted ballots hold it.
type RankingCount struct {
	Ranking []uuid.UUID
	Count   int64
}

// Tally is a consistent read of what an election's count depends on: its
// distinct-ranking counts and the organizer's tie decisions, as of ReadAt.
type Tally struct {
	Election  *runoff.Election
	Rankings  []RankingCount
	Decisions []runoff.TieDecision
	ReadAt    time.Time
}

// TallyReader takes the rankings that ReadTally reads.
type TallyReader interface {
	// Since is called first, with the election as read (its candidates,
	// counts version and ballots counted). The rankings passed on are
	// those whose count was written after the counts version it returns,
	// or all of them when it is negative.
	Since(e *runoff.Election) int64
	// Expect is called next when every ranking is read, with how many
	// rankings and marks in all are coming.
	Expect(rankings, marks int)
	// Ranking is called for each, with its count now: 0 for a ranking
	// that no ballot holds any more. The slice is only valid during the
	// call.
	Ranking(ranking []uuid.UUID, count int64) error
}

const rankingCountsSQL = `SELECT ranking, count FROM ranking_counts WHERE election_id = $1`

// A million-ballot election has hundreds of thousands of distinct
// rankings: what holds them is sized once.
const rankingCountsSizeSQL = `
SELECT count(*), coalesce(sum(cardinality(ranking)), 0) FROM ranking_counts WHERE election_id = $1`

// A ranking written since has its row; one removed since has none left,
// and counts 0. (Removed, then written again since: it has its row.)
const rankingsChangedSQL = `
SELECT ranking, count FROM ranking_counts WHERE election_id = $1 AND version > $2
UNION ALL
SELECT d.ranking, 0 FROM ranking_counts_removed d
WHERE d.election_id = $1 AND d.version > $2
    AND NOT EXISTS (SELECT FROM ranking_counts r WHERE r.election_id = d.election_id AND r.ranking = d.ranking)`

// ReadTally reads an election, its tie decisions and its ranking counts in
// one repeatable-read snapshot, so that BallotsCounted and CountsVersion
// match the counts exactly, as Tally does; but it hands the rankings to r
// one at a time, and only those changed since the version r asks for. The
// Tally returned has no Rankings.
func (s *DB) ReadTally(ctx context.Context, id uuid.UUID, r TallyReader) (*Tally, error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	defer tx.Rollback()
	e, err := electionIn(ctx, tx, id)
	if err != nil {
		return nil, notFound(err, "election "+id.String())
	}
	t := &Tally{Election: e}
	if err := tx.GetContext(ctx, &t.ReadAt, `SELECT now()`); err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	if t.Decisions, err = tieDecisions(ctx, tx, id); err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	var rows *sql.Rows
	if since := r.Since(e); since < 0 {
		var n, marks int
		if err := tx.QueryRowContext(ctx, rankingCountsSizeSQL, id).Scan(&n, &marks); err != nil {
			return nil, wrapf(err, "tally %s", id)
		}
		r.Expect(n, marks)
		rows, err = tx.QueryContext(ctx, rankingCountsSQL, id)
	} else {
		rows, err = tx.QueryContext(ctx, rankingsChangedSQL, id, since)
	}
	if err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	defer rows.Close()
	var raw sql.RawBytes // parsed before the next row
	var count int64
	var ranking []uuid.UUID
	for rows.Next() {
		if err := rows.Scan(&raw, &count); err != nil {
			return nil, wrapf(err, "tally %s", id)
		}
		if ranking, err = parseUUIDArray(ranking[:0], raw); err != nil {
			return nil, wrapf(err, "tally %s", id)
		}
		if err := r.Ranking(ranking, count); err != nil {
			return nil, fmt.Errorf("store: tally %s: %w", id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrapf(err, "tally %s", id)
	}
	return t, nil
}

// Tally reads an election, its candidates and all its ranking counts in
// one repeatable-read snapshot, so BallotsCounted matches the counts
// exactly.
func (s *DB) Tally(ctx context.Context, id uuid.UUID) (*Tally, error) {
	var all allRankings
	t, err := s.ReadTally(ctx, id, &all)
	if err != nil {
		return nil, err
	}
	t.Rankings = all.rankings
	return t, nil
}

// allRankings keeps every ranking, in one block of UUIDs shared between
// them: a million-ballot election has hundreds of thousands of distinct
// rankings, and one allocation for each cost more memory and GC than the
// count.
type allRankings struct {
	rankings []RankingCount
	block    []uuid.UUID
}

func (a *allRankings) Since(*runoff.Election) int64 { return -1 }

func (a *allRankings) Expect(rankings, marks int) {
	a.rankings = make([]RankingCount, 0, rankings)
	a.block = make([]uuid.UUID, 0, marks)
}

func (a *allRankings) Ranking(ranking []uuid.UUID, count int64) error {
	n := len(ranking)
	if cap(a.block)-len(a.block) < n {
		a.block = make([]uuid.UUID, 0, max(8192, n))
	}
	at := len(a.block)
	a.block = append(a.block, ranking...)
	a.rankings = append(a.rankings, RankingCount{Ranking: a.block[at : at+n : at+n], Count: count})
	return nil
}

// parseUUIDArray appends the elements of a uuid[] in Postgres's text form
// ({a,b,c}) to dst.
func parseUUIDArray(dst []uuid.UUID, raw []byte) ([]uuid.UUID, error) {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return dst, fmt.Errorf("ranking %q: not an array", raw)
	}
	body := raw[1 : len(raw)-1]
	for len(body) > 0 {
		elem := body
		if j := bytes.IndexByte(body, ','); j >= 0 {
			elem, body = body[:j], body[j+1:]
		} else {
			body = nil
		}
		id, err := uuid.ParseBytes(elem)
		if err != nil {
			return dst, fmt.Errorf("ranking %q: %w", raw, err)
		}
		dst = append(dst, id)
	}
	return dst, nil
}
