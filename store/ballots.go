package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/runoff-vote/runoff"
)

const ballotSQL = `
SELECT id, election_id, ranking::text[] AS ranking, status, reason, submitted_at, stored_at
FROM ballots WHERE id = $1`

// Ballot reads a stored ballot. A ballot that the worker has not stored yet
// is runoff.ErrNotFound: the caller decides whether it is queued.
func (s *DB) Ballot(ctx context.Context, id uuid.UUID) (*runoff.Ballot, error) {
	var row struct {
		runoff.Ballot
		Ranking pq.StringArray `db:"ranking"`
	}
	if err := s.db.GetContext(ctx, &row, ballotSQL, id); err != nil {
		return nil, notFound(err, "ballot "+id.String())
	}
	b := row.Ballot
	var err error
	if b.Ranking, err = parseUUIDs(row.Ranking); err != nil {
		return nil, wrapf(err, "ballot %s", id)
	}
	return &b, nil
}

func parseUUIDs(ss []string) ([]uuid.UUID, error) {
	ids := make([]uuid.UUID, len(ss))
	for i, s := range ss {
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// rankingLiteral writes a ranking as a Postgres uuid[] literal. It is also
// the key that groups identical rankings.
func rankingLiteral(r []uuid.UUID) string {
	var b strings.Builder
	b.Grow(2 + 37*len(r))
	b.WriteByte('{')
	for i, id := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id.String())
	}
	b.WriteByte('}')
	return b.String()
}

// Locking the batch's elections first, in ID order, serialises concurrent
// batches per election and gives every transaction the same lock order, so
// workers running side by side never deadlock.
const lockElectionsSQL = `
SELECT ` + electionColumns + ` FROM elections WHERE id = ANY($1) ORDER BY id FOR UPDATE`

const electionCandidatesSQL = `
SELECT election_id, id, name, position, description FROM candidates WHERE election_id = ANY($1) ORDER BY election_id, position`

const insertBallotsSQL = `
INSERT INTO ballots (id, election_id, ranking, status, reason, submitted_at)
SELECT u.id, u.election_id, u.ranking::uuid[], u.status, u.reason, u.submitted_at
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
     AS u(id, election_id, ranking, status, reason, submitted_at)
ORDER BY u.id
ON CONFLICT (id) DO NOTHING
RETURNING id`

// A count written carries the counts version its election will have once
// this batch commits (addBallotsCountedSQL bumps it by one), so that a kept
// tally can read only what changed (ReadTally).
const addRankingCountsSQL = `
INSERT INTO ranking_counts (election_id, ranking, count, version)
SELECT u.election_id, u.ranking::uuid[], u.n, e.counts_version + 1
FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS u(election_id, ranking, n) JOIN elections e ON e.id = u.election_id
ORDER BY 1, 2
ON CONFLICT (election_id, ranking) DO UPDATE SET count = ranking_counts.count + EXCLUDED.count, version = EXCLUDED.version`

// A count that grows after it was marked final is not final after all:
// the mark goes, and comes back once the next seal is through.
const addBallotsCountedSQL = `
UPDATE elections SET ballots_counted = ballots_counted + u.n, keys_used = keys_used + u.keys, final_at = NULL,
    counts_version = counts_version + 1
FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS u(id, n, keys)
WHERE elections.id = u.id`

// StoreVotes stores a batch of vote.submit messages in one transaction and
// returns what became of each. A vote for an open election is counted; one
// for a closed election, or whose ranking no longer fits the election, is
// stored as rejected with the reason, so the receipt can say why. A ballot
// already stored (a redelivery) changes nothing, and only ballots actually
// inserted add to the distinct-ranking counts. Touched lists the elections
// whose counts changed.
func (s *DB) StoreVotes(ctx context.Context, votes []runoff.VoteSubmit) (out []Outcome, touched []uuid.UUID, err error) {
	out = make([]Outcome, len(votes))
	electionIDs := make([]uuid.UUID, 0, 4)
	for _, v := range votes {
		electionIDs = append(electionIDs, v.ElectionID)
	}
	slices.SortFunc(electionIDs, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	electionIDs = slices.Compact(electionIDs)

	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var locked []runoff.Election
		st, err := s.inTxStmt(ctx, tx, lockElectionsSQL)
		if err != nil {
			return err
		}
		if err := st.SelectContext(ctx, &locked, uuidArray(electionIDs)); err != nil {
			return err
		}
		elections := make(map[uuid.UUID]*runoff.Election, len(locked))
		for i := range locked {
			elections[locked[i].ID] = &locked[i]
		}
		var cands []struct {
			ElectionID uuid.UUID `db:"election_id"`
			runoff.Candidate
		}
		if st, err = s.inTxStmt(ctx, tx, electionCandidatesSQL); err != nil {
			return err
		}
		if err := st.SelectContext(ctx, &cands, uuidArray(electionIDs)); err != nil {
			return err
		}
		for _, c := range cands {
			e := elections[c.ElectionID]
			e.Candidates = append(e.Candidates, c.Candidate)
		}

		n := len(votes)
		ids, eids := make([]uuid.UUID, 0, n), make([]uuid.UUID, 0, n)
		rankings, statuses, reasons := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		submitted := make([]string, 0, n)
		pv := make([]runoff.VoteSubmit, 0, n) // the ballot at each position of ids
		var keyed []int                       // positions in ids of ballots for elections that take keys
		first := make(map[uuid.UUID]int, n)   // ballot ID → index in votes of its first copy
		var again []int                       // later copies in this batch, decided once we know what is stored
		for i, v := range votes {
			if v.SubmittedAt.IsZero() {
				v.SubmittedAt = time.Now() // from before the web stamped every ballot
				votes[i] = v
			}
			e := elections[v.ElectionID] // nil when there is no such election
			d := runoff.DecideBallot(e, v)
			if d.Dead != "" {
				out[i].Dead = d.Dead
				continue
			}
			if _, dup := first[v.BallotID]; dup {
				again = append(again, i)
				continue
			}
			first[v.BallotID] = i
			if e.Access == runoff.AccessKeys {
				keyed = append(keyed, len(ids))
			}
			pv = append(pv, v)
			ids, eids = append(ids, v.BallotID), append(eids, v.ElectionID)
			rankings = append(rankings, rankingLiteral(v.Ranking))
			statuses, reasons = append(statuses, d.Status), append(reasons, d.Reason)
			submitted = append(submitted, v.SubmittedAt.UTC().Format(time.RFC3339Nano))
		}
		if len(ids) == 0 {
			return nil
		}
		// A ballot cast with a voter key: whether it counts depends on the
		// key's other ballots.
		kb, err := keyedBatch(ctx, tx, elections, pv, keyed, statuses, reasons)
		if err != nil {
			return err
		}
		var inserted []uuid.UUID
		if st, err = s.inTxStmt(ctx, tx, insertBallotsSQL); err != nil {
			return err
		}
		if err := st.SelectContext(ctx, &inserted,
			uuidArray(ids), uuidArray(eids), pq.Array(rankings), pq.Array(statuses), pq.Array(reasons), pq.Array(submitted)); err != nil {
			return err
		}
		isNew := make(map[uuid.UUID]bool, len(inserted))
		for _, id := range inserted {
			isNew[id] = true
		}
		for id := range kb.fresh {
			if !isNew[id] {
				// Stored meanwhile under another election: its key's use
				// was recorded for nothing, so the batch must not commit.
				return fmt.Errorf("ballot %s was stored by another transaction: %w", id, runoff.ErrInvalid)
			}
		}
		if len(inserted) < len(ids) || len(again) > 0 {
			// Some were stored before, or came twice: the same ballot
			// again changes nothing; another ballot under the same ID is
			// refused rather than dropped.
			stored, err := storedBallots(ctx, tx, votes, ids, isNew, first)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if !isNew[id] {
					out[first[id]].Dead = runoff.DecideBallotAgain(stored[id], votes[first[id]])
				}
			}
			for _, i := range again {
				out[i].Dead = runoff.DecideBallotAgain(stored[votes[i].BallotID], votes[i])
			}
		}
		type key struct {
			election uuid.UUID
			ranking  string
		}
		counts := map[key]int64{}
		perElection := map[uuid.UUID]int64{}
		for i, id := range ids {
			if isNew[id] && statuses[i] == runoff.BallotCounted {
				counts[key{eids[i], rankings[i]}]++
				perElection[eids[i]]++
			}
		}
		if err := subtractRankings(ctx, tx, kb.removed); err != nil {
			return err
		}
		for k, n := range kb.removed {
			perElection[k.election] -= n
		}
		keys := make([]key, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b key) int {
			return cmp.Or(strings.Compare(a.election.String(), b.election.String()), strings.Compare(a.ranking, b.ranking))
		})
		kElection, kRanking, kCount := make([]uuid.UUID, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			kElection[i], kRanking[i], kCount[i] = k.election, k.ranking, counts[k]
		}
		if len(keys) > 0 {
			if st, err = s.inTxStmt(ctx, tx, addRankingCountsSQL); err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, uuidArray(kElection), pq.Array(kRanking), pq.Array(kCount)); err != nil {
				return err
			}
		}
		touched = touched[:0]
		var added, used []int64
		for _, id := range electionIDs {
			_, moved := perElection[id] // a replacement moves counts even when their sum stays
			if moved || kb.usedKeys[id] > 0 {
				touched, added, used = append(touched, id), append(added, perElection[id]), append(used, kb.usedKeys[id])
			}
		}
		if len(touched) == 0 {
			return nil
		}
		if st, err = s.inTxStmt(ctx, tx, addBallotsCountedSQL); err != nil {
			return err
		}
		_, err = st.ExecContext(ctx, uuidArray(touched), pq.Array(added), pq.Array(used))
		return err
	})
	if err != nil {
		return nil, nil, wrapf(err, "store votes")
	}
	return out, touched, nil
}

const storedBallotsSQL = `SELECT id, election_id, ranking::text[] AS ranking FROM ballots WHERE id = ANY($1)`

// storedBallots returns what is stored under each ballot ID of the batch:
// the first copy in the batch where it was inserted now, and what was
// there before for the rest.
func storedBallots(ctx context.Context, tx *sqlx.Tx, votes []runoff.VoteSubmit, ids []uuid.UUID,
	isNew map[uuid.UUID]bool, first map[uuid.UUID]int) (map[uuid.UUID]*runoff.Ballot, error) {
	stored := make(map[uuid.UUID]*runoff.Ballot, len(ids))
	var old []uuid.UUID
	for _, id := range ids {
		if isNew[id] {
			v := votes[first[id]]
			stored[id] = &runoff.Ballot{ID: id, ElectionID: v.ElectionID, Ranking: v.Ranking}
		} else {
			old = append(old, id)
		}
	}
	if len(old) == 0 {
		return stored, nil
	}
	var rows []struct {
		ID         uuid.UUID      `db:"id"`
		ElectionID uuid.UUID      `db:"election_id"`
		Ranking    pq.StringArray `db:"ranking"`
	}
	if err := tx.SelectContext(ctx, &rows, storedBallotsSQL, uuidArray(old)); err != nil {
		return nil, err
	}
	for _, row := range rows {
		ranking, err := parseUUIDs(row.Ranking)
		if err != nil {
			return nil, err
		}
		stored[row.ID] = &runoff.Ballot{ID: row.ID, ElectionID: row.ElectionID, Ranking: ranking}
	}
	return stored, nil
}

// uuidArray passes IDs as a text[] parameter, which the SQL casts to uuid[].
func uuidArray(ids []uuid.UUID) pq.StringArray {
	ss := make(pq.StringArray, len(ids))
	for i, id := range ids {
		ss[i] = id.String()
	}
	return ss
}

// BallotsStored counts how many of ids are stored, and of those how many
// counted: the load generator checks every receipt against it.
func (s *DB) BallotsStored(ctx context.Context, ids []uuid.UUID) (stored, counted int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'counted') FROM ballots WHERE id = ANY($1)`,
		uuidArray(ids)).Scan(&stored, &counted)
	if err != nil {
		return 0, 0, wrapf(err, "ballots stored")
	}
	return stored, counted, nil
}
