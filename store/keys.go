package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/runoff-vote/runoff"
)

const insertKeysSQL = `
INSERT INTO voter_keys (election_id, key_hash, batch_id, idx, label, issued_at)
SELECT $1, u.key_hash, $2, u.idx, u.label, $3
FROM unnest($4::text[], $5::int[], $6::text[]) AS u(key_hash, idx, label)
ON CONFLICT DO NOTHING`

// IssueKeys carries out an election.keys: it records the batch's key
// hashes (never a key) and the voters they are for, as runoff.DecideKeys
// decides against the election locked in the same transaction. A batch
// recorded before (a redelivery) changes nothing.
func (s *DB) IssueKeys(ctx context.Context, m runoff.ElectionKeys) (out Outcome, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		e, err := lockElection(ctx, tx, m.ElectionID)
		if err != nil {
			return err
		}
		if out.Dead = runoff.DecideKeys(e, m); out.Dead != "" {
			return nil
		}
		detail := fmt.Sprintf("Issued %d voter keys.", len(m.Hashes))
		if done, err := recordChange(ctx, tx, m.ChangeID, e.ID, m.OrganizerID, runoff.KeyElectionKeys, m.RequestedAt, detail); err != nil || done {
			return err
		}
		idx := make([]int64, len(m.Hashes))
		labels := make([]string, len(m.Hashes))
		for i := range m.Hashes {
			idx[i] = int64(i)
			if len(m.Labels) > 0 {
				labels[i] = m.Labels[i]
			}
		}
		res, err := tx.ExecContext(ctx, insertKeysSQL, e.ID, m.ChangeID, m.RequestedAt, pq.Array(m.Hashes), pq.Array(idx), pq.Array(labels))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE elections SET keys_issued = keys_issued + $2 WHERE id = $1`, e.ID, n)
		return err
	})
	if err != nil {
		return Outcome{}, wrapf(err, "issue keys for %s", m.ElectionID)
	}
	return out, nil
}

const issuedKeysSQL = `
SELECT key_hash, batch_id, idx, label, issued_at FROM voter_keys
WHERE election_id = $1 ORDER BY issued_at, batch_id, idx`

// IssuedKeys lists an election's keys in the order they were issued, for
// the web to derive them again.
func (s *DB) IssuedKeys(ctx context.Context, electionID uuid.UUID) ([]runoff.IssuedKey, error) {
	var ks []runoff.IssuedKey
	if err := s.db.SelectContext(ctx, &ks, issuedKeysSQL, electionID); err != nil {
		return nil, wrapf(err, "keys of %s", electionID)
	}
	return ks, nil
}

const keyUseSQL = `
SELECT u.key_hash IS NOT NULL AS used, u.ballot_id, u.submitted_at
FROM voter_keys k LEFT JOIN key_uses u ON u.election_id = k.election_id AND u.key_hash = k.key_hash
WHERE k.election_id = $1 AND k.key_hash = $2`

// KeyUse says whether a key (by its hash) was issued for an election and
// used; the web checks it before showing a ballot.
func (s *DB) KeyUse(ctx context.Context, electionID uuid.UUID, hash string) (runoff.KeyUse, error) {
	var row keyUseRow
	err := s.db.GetContext(ctx, &row, keyUseSQL, electionID, hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return runoff.KeyUse{}, nil
	case err != nil:
		return runoff.KeyUse{}, wrapf(err, "key of %s", electionID)
	}
	return row.use(), nil
}

type keyUseRow struct {
	Hash        string     `db:"key_hash"`
	Used        bool       `db:"used"`
	Ballot      *uuid.UUID `db:"ballot_id"`
	SubmittedAt *time.Time `db:"submitted_at"`
}

func (r keyUseRow) use() runoff.KeyUse {
	k := runoff.KeyUse{Issued: true, Used: r.Used}
	if r.Ballot != nil && r.SubmittedAt != nil {
		k.Ballot, k.SubmittedAt = *r.Ballot, *r.SubmittedAt
	}
	return k
}

const keyUsesSQL = `
SELECT k.key_hash, u.key_hash IS NOT NULL AS used, u.ballot_id, u.submitted_at
FROM voter_keys k LEFT JOIN key_uses u ON u.election_id = k.election_id AND u.key_hash = k.key_hash
WHERE k.election_id = $1 AND k.key_hash = ANY($2)`

const ballotsExistSQL = `SELECT id FROM ballots WHERE id = ANY($1)`

const recordKeyUsesSQL = `
INSERT INTO key_uses (election_id, key_hash, used_at, ballot_id, submitted_at)
SELECT u.election_id, u.key_hash, date_trunc('hour', now()), u.ballot_id, u.submitted_at
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[]) AS u(election_id, key_hash, ballot_id, submitted_at)
ORDER BY 1, 2
ON CONFLICT (election_id, key_hash) DO UPDATE SET ballot_id = EXCLUDED.ballot_id, submitted_at = EXCLUDED.submitted_at`

const replaceBallotsSQL = `
UPDATE ballots SET status = 'replaced', reason = $2
WHERE id = ANY($1) AND status = 'counted'
RETURNING election_id, ranking::text[] AS ranking`

// keyedBatch decides the batch's ballots for elections that take keys,
// given DecideBallot's verdicts: pv, statuses and reasons are parallel,
// one per distinct ballot of the batch, and pending lists the positions
// of those for such elections. It runs inside StoreVotes's transaction,
// with the elections locked, so of several ballots racing with one key
// exactly one counts. It updates the verdicts in place, records the keys'
// uses, and marks replaced the stored ballots that a later one replaced;
// removed is, per election and ranking, how many counted ballots that took
// out of the count, and usedKeys how many keys were used for the first
// time, per election.
func keyedBatch(ctx context.Context, tx *sqlx.Tx, elections map[uuid.UUID]*runoff.Election, pv []runoff.VoteSubmit,
	pending []int, statuses, reasons []string) (k keyedOutcome, err error) {
	if len(pending) == 0 {
		return k, nil
	}
	ids := make([]uuid.UUID, len(pending))
	for j, p := range pending {
		ids[j] = pv[p].BallotID
	}
	var existing []uuid.UUID
	if err := tx.SelectContext(ctx, &existing, ballotsExistSQL, uuidArray(ids)); err != nil {
		return k, err
	}
	// A ballot stored before is a redelivery (or a reused ID): StoreVotes
	// deals with it as with any other; its key was dealt with then.
	var fresh []int // positions in pv
	k.fresh = map[uuid.UUID]bool{}
	for _, p := range pending {
		if !slices.Contains(existing, pv[p].BallotID) {
			fresh = append(fresh, p)
			k.fresh[pv[p].BallotID] = true
		}
	}
	// In the order the web received them, so that without changes the
	// earliest of a batch counts.
	slices.SortStableFunc(fresh, func(a, b int) int {
		va, vb := pv[a], pv[b]
		return cmp.Or(va.SubmittedAt.Compare(vb.SubmittedAt), strings.Compare(va.BallotID.String(), vb.BallotID.String()))
	})
	type key struct {
		election uuid.UUID
		hash     string
	}
	hashes := map[uuid.UUID][]string{}
	for _, p := range fresh {
		v := pv[p]
		if v.KeyHash != "" {
			hashes[v.ElectionID] = append(hashes[v.ElectionID], v.KeyHash)
		}
	}
	state := map[key]*runoff.KeyUse{}
	for eid, hs := range hashes {
		var rows []keyUseRow
		if err := tx.SelectContext(ctx, &rows, keyUsesSQL, eid, pq.Array(hs)); err != nil {
			return k, err
		}
		for _, r := range rows {
			use := r.use()
			state[key{eid, r.Hash}] = &use
		}
	}
	changed := map[key]bool{}
	firstUse := map[key]bool{}
	inBatch := map[uuid.UUID]int{} // ballot ID → position in pv, for this batch's new ballots
	for _, p := range fresh {
		inBatch[pv[p].BallotID] = p
	}
	var replaced []uuid.UUID
	for _, p := range fresh {
		v := pv[p]
		e := elections[v.ElectionID]
		kk := key{v.ElectionID, v.KeyHash}
		use := state[kk]
		if use == nil {
			use = &runoff.KeyUse{}
		}
		d := runoff.DecideKeyedBallot(e, v, runoff.BallotDecision{Status: statuses[p], Reason: reasons[p]}, *use)
		statuses[p], reasons[p] = d.Status, d.Reason
		if d.Status != runoff.BallotCounted {
			continue
		}
		if d.Replaces {
			if q, ok := inBatch[use.Ballot]; ok {
				statuses[q], reasons[q] = runoff.BallotReplaced, runoff.ReasonReplaced
			} else {
				replaced = append(replaced, use.Ballot)
			}
		}
		if !use.Used {
			firstUse[kk] = true
		}
		use.Used = true
		if e.Changes == runoff.ChangesAllowed {
			use.Ballot, use.SubmittedAt = v.BallotID, v.SubmittedAt
		}
		state[kk] = use
		changed[kk] = true
	}
	if len(changed) > 0 {
		keys := make([]key, 0, len(changed))
		for c := range changed {
			keys = append(keys, c)
		}
		eids, hs := make([]uuid.UUID, len(keys)), make([]string, len(keys))
		ballots, times := make([]sql.NullString, len(keys)), make([]sql.NullString, len(keys))
		k.usedKeys = map[uuid.UUID]int64{}
		for i, key := range keys {
			eids[i], hs[i] = key.election, key.hash
			if use := state[key]; use.Ballot != uuid.Nil {
				ballots[i] = sql.NullString{String: use.Ballot.String(), Valid: true}
				times[i] = sql.NullString{String: use.SubmittedAt.UTC().Format(time.RFC3339Nano), Valid: true}
			}
			if firstUse[key] {
				k.usedKeys[key.election]++
			}
		}
		if _, err := tx.ExecContext(ctx, recordKeyUsesSQL, uuidArray(eids), pq.Array(hs), pq.Array(ballots), pq.Array(times)); err != nil {
			return k, err
		}
	}
	if len(replaced) > 0 {
		var rows []struct {
			ElectionID uuid.UUID      `db:"election_id"`
			Ranking    pq.StringArray `db:"ranking"`
		}
		if err := tx.SelectContext(ctx, &rows, replaceBallotsSQL, uuidArray(replaced), runoff.ReasonReplaced); err != nil {
			return k, err
		}
		k.removed = map[rankingKey]int64{}
		for _, r := range rows {
			ranking, err := parseUUIDs(r.Ranking)
			if err != nil {
				return k, err
			}
			k.removed[rankingKey{r.ElectionID, rankingLiteral(ranking)}]++
		}
	}
	return k, nil
}

// keyedOutcome is what keyedBatch did beyond the verdicts: removed is, per
// election and ranking, how many counted ballots replacing took out of the
// count; usedKeys, per election, how many keys were used for the first
// time; fresh, the keyed ballots it took as new.
type keyedOutcome struct {
	removed  map[rankingKey]int64
	usedKeys map[uuid.UUID]int64
	fresh    map[uuid.UUID]bool
}

// rankingKey groups counted ballots by election and ranking.
type rankingKey struct {
	election uuid.UUID
	ranking  string
}

// A ranking whose last ballot goes leaves ranking_counts, and
// ranking_counts_removed says when. Both carry the counts version the
// election will have once the batch commits, as addRankingCountsSQL does.
const removeRankingsSQL = `
WITH gone AS (
    DELETE FROM ranking_counts r USING unnest($1::uuid[], $2::text[], $3::bigint[]) AS u(election_id, ranking, n)
    WHERE r.election_id = u.election_id AND r.ranking = u.ranking::uuid[] AND r.count <= u.n
    RETURNING r.election_id, r.ranking)
INSERT INTO ranking_counts_removed (election_id, ranking, version)
SELECT g.election_id, g.ranking, e.counts_version + 1 FROM gone g JOIN elections e ON e.id = g.election_id
ORDER BY 1, 2
ON CONFLICT (election_id, ranking) DO UPDATE SET version = EXCLUDED.version`

const subtractRankingsSQL = `
UPDATE ranking_counts r SET count = r.count - u.n, version = e.counts_version + 1
FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS u(election_id, ranking, n), elections e
WHERE r.election_id = u.election_id AND r.ranking = u.ranking::uuid[] AND e.id = u.election_id`

// subtractRankings takes replaced ballots out of the distinct-ranking
// counts: a count that falls to nothing goes, and is recorded as gone.
func subtractRankings(ctx context.Context, tx *sqlx.Tx, removed map[rankingKey]int64) error {
	if len(removed) == 0 {
		return nil
	}
	keys := slices.SortedFunc(func(yield func(rankingKey) bool) {
		for k := range removed {
			if !yield(k) {
				return
			}
		}
	}, func(a, b rankingKey) int {
		return cmp.Or(strings.Compare(a.election.String(), b.election.String()), strings.Compare(a.ranking, b.ranking))
	})
	eids, rankings, ns := make([]uuid.UUID, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		eids[i], rankings[i], ns[i] = k.election, k.ranking, removed[k]
	}
	if _, err := tx.ExecContext(ctx, removeRankingsSQL, uuidArray(eids), pq.Array(rankings), pq.Array(ns)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, subtractRankingsSQL, uuidArray(eids), pq.Array(rankings), pq.Array(ns))
	return err
}
