package worker

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff/store"
)

// recount brings an election's results snapshot up to date with its
// counts. Its tally, if kept, is brought up to date by the rankings
// changed since, and counted again by replaying its last count where the
// decisions stay the same (rcv.Counter); either way the snapshot is the
// one a full count of the same snapshot of Postgres gives.
func (rc *Recomputer) recount(ctx context.Context, id uuid.UUID) error {
	start := time.Now()
	r, t, err := rc.read(ctx, id)
	if err != nil {
		return err
	}
	read := time.Since(start)
	e := t.Election
	k := r.kept
	rules := rulesWithDecisions(e, t.Decisions)
	if err := k.counter.SetRules(rules); err != nil {
		return err
	}
	res, err := k.counter.Count()
	snap, err := snapshot(e, rules, res, err, t.ReadAt)
	// The tally holds this version now, whatever the count made of it.
	k.version = e.CountsVersion
	if r.keep {
		rc.tallies().put(k)
	}
	if err != nil {
		return err
	}
	counted := time.Since(start) - read
	if err := rc.Store.SaveResult(ctx, snap); err != nil {
		return err
	}
	took := time.Since(start)
	rc.Metrics.RecomputeSeconds.Observe(took.Seconds())
	rc.Log.Debug("results recomputed", "election_id", id, "ballots", e.BallotsCounted, "rankings", k.counter.Len(),
		"read_all", r.full, "rankings_read", r.rows, "replayed", k.counter.Replayed(),
		"read_took", read, "count_took", counted, "took", took)
	return nil
}

// read brings an election's tally up to date: a kept one by the rankings
// changed since its version, or a new one by all of them. A kept tally
// that then disagrees with Postgres (its ballots do not add up to the
// ballots counted) is read again in full.
func (rc *Recomputer) read(ctx context.Context, id uuid.UUID) (*tallyRead, *store.Tally, error) {
	r := &tallyRead{kept: rc.tallies().take(id)}
	t, err := rc.Store.ReadTally(ctx, id, r)
	if err == nil {
		err = r.err
	}
	if err != nil {
		return nil, nil, err // a kept tally half brought up to date goes
	}
	if !r.full && !r.adds(t) {
		rc.Log.Warn("a kept tally disagrees with Postgres; reading it in full", "election_id", id,
			"ballots", t.Election.BallotsCounted, "tally", r.kept.counter.Total(), "unknown_candidates", r.unknown)
		r = &tallyRead{}
		if t, err = rc.Store.ReadTally(ctx, id, r); err == nil {
			err = r.err
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if r.keep = !r.unknown && r.adds(t); !r.keep && !r.unknown {
		rc.Log.Warn("ranking counts do not add up to the ballots counted", "election_id", id,
			"ballots", t.Election.BallotsCounted, "tally", r.kept.counter.Total())
	}
	return r, t, nil
}

// tallies are the recomputer's kept tallies, made on first use so that
// KeepRankings and KeepBytes can be set after NewRecomputer.
func (rc *Recomputer) tallies() *tallies {
	rc.keepOnce.Do(func() { rc.kept = newTallies(rc.KeepRankings, rc.KeepBytes) })
	return rc.kept
}
