package store

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// ElectionCache keeps the elections a web process has read, so that the
// ballot page and the ballot's submission do not read Postgres per
// request: an election changes rarely and is read for every vote.
//
// It never decides an election's state: it keeps the stored row, and the
// pages judge it with StateAt(now), so a scheduled close takes effect on
// time without any message. What it must not do is keep a row the worker
// has since changed (a close by hand, an edit). Three things see to it:
//
//   - Invalidations by message, to every web process (cmd/runoff wires a
//     rabbitmq.Listener to Changing and Changed): an organizer's change
//     request seen on the broker makes the election bypass the cache until
//     the worker says it carried the change out, and evicts it then.
//   - Live: while the listener is not connected (at start, after the
//     broker went away) messages may be missed, so nothing is cached and
//     every read goes to Postgres; reconnecting forgets everything.
//   - TTL: a row is kept at most this long, which bounds how old the
//     counters it carries (ballots counted, keys used) may be, and a
//     change whose message was lost (a worker killed between its commit
//     and its announcement).
type ElectionCache struct {
	// Load reads an election from Postgres (DB.Election).
	Load func(ctx context.Context, id uuid.UUID) (*runoff.Election, error)
	// TTL is how long a row is served; 0 caches nothing.
	TTL time.Duration
	// ChangeWait is how long a requested change bypasses the cache if the
	// worker never announces it (it refused the change, say).
	ChangeWait time.Duration
	// MaxEntries bounds the memory: past it, everything is forgotten.
	MaxEntries int
	// Now is the clock (tests set it).
	Now func() time.Time

	mu       sync.Mutex
	live     bool
	gen      uint64 // counts invalidations: a read begun before one is not kept
	entries  map[uuid.UUID]cacheEntry
	changing map[uuid.UUID]time.Time // change requested, until
	loading  map[uuid.UUID]*cacheLoad
	hits     uint64
	misses   uint64
}

type cacheEntry struct {
	e       *runoff.Election
	expires time.Time
}

// cacheLoad is one read from Postgres that concurrent misses of the same
// election wait on, rather than each reading it.
type cacheLoad struct {
	done chan struct{}
	e    *runoff.Election
	err  error
}

// NewElectionCache makes a cache in front of load, not live until
// SetLive(true).
func NewElectionCache(load func(ctx context.Context, id uuid.UUID) (*runoff.Election, error)) *ElectionCache {
	return &ElectionCache{Load: load, TTL: time.Second, ChangeWait: time.Minute, MaxEntries: 10000, Now: time.Now}
}

// Election returns the election, from the cache when it may. The caller
// gets its own copy of the row (its candidate list is shared and must not
// be changed).
func (c *ElectionCache) Election(ctx context.Context, id uuid.UUID) (*runoff.Election, error) {
	now := c.Now()
	c.mu.Lock()
	if !c.cacheable(id, now) {
		c.misses++
		c.mu.Unlock()
		return c.Load(ctx, id)
	}
	if ent, ok := c.entries[id]; ok && now.Before(ent.expires) {
		c.hits++
		c.mu.Unlock()
		cp := *ent.e
		return &cp, nil
	}
	c.misses++
	if l, ok := c.loading[id]; ok {
		c.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if l.err != nil {
			return nil, l.err
		}
		cp := *l.e
		return &cp, nil
	}
	l := &cacheLoad{done: make(chan struct{})}
	if c.loading == nil {
		c.loading = map[uuid.UUID]*cacheLoad{}
	}
	c.loading[id] = l
	gen := c.gen
	c.mu.Unlock()

	// The read is not tied to the first asker's request: others wait on it.
	l.e, l.err = c.Load(context.WithoutCancel(ctx), id)
	c.mu.Lock()
	delete(c.loading, id)
	// Keep it only if nothing was invalidated while it was read.
	if l.err == nil && gen == c.gen && c.cacheable(id, now) {
		if c.entries == nil || len(c.entries) >= c.MaxEntries {
			c.entries = map[uuid.UUID]cacheEntry{}
		}
		c.entries[id] = cacheEntry{e: l.e, expires: now.Add(c.TTL)}
	}
	c.mu.Unlock()
	close(l.done)
	if l.err != nil {
		return nil, l.err
	}
	cp := *l.e
	return &cp, nil
}

// cacheable reports whether id may be served from the cache now. Callers
// hold c.mu.
func (c *ElectionCache) cacheable(id uuid.UUID, now time.Time) bool {
	if !c.live || c.TTL <= 0 {
		return false
	}
	if until, ok := c.changing[id]; ok {
		if now.Before(until) {
			return false
		}
		delete(c.changing, id)
	}
	return true
}

// Changing says an organizer asked for a change to the election: until the
// worker has carried it out (Changed), it is read from Postgres.
func (c *ElectionCache) Changing(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, id)
	if c.changing == nil {
		c.changing = map[uuid.UUID]time.Time{}
	}
	c.changing[id] = c.Now().Add(c.ChangeWait)
}

// Changed says the worker committed a change to the election.
func (c *ElectionCache) Changed(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, id)
	delete(c.changing, id)
}

// SetLive says whether invalidations are arriving. Either way everything
// cached is forgotten: going down, it may go stale unseen; coming up,
// messages sent in between were missed.
func (c *ElectionCache) SetLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	c.entries = nil
	c.changing = nil
}

// Live reports whether invalidations are arriving, so rows are cached.
func (c *ElectionCache) Live() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// Stats returns how many reads were served from the cache and how many
// went to Postgres.
func (c *ElectionCache) Stats() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// ResultCache keeps each election's last results snapshot, parsed, for a
// short while: a popular results page then costs its rendering, not a
// Postgres read and a JSON parse of the model per request. Snapshots only
// move forward and the page already says how old its figures are, so a
// TTL (well under the worker's recount cadence) is all the invalidation
// it needs.
type ResultCache struct {
	Load func(ctx context.Context, id uuid.UUID) (*runoff.ResultSnapshot, error)
	TTL  time.Duration
	Now  func() time.Time

	mu      sync.Mutex
	entries map[uuid.UUID]resultEntry
}

type resultEntry struct {
	snap    *runoff.ResultSnapshot
	expires time.Time
}

// NewResultCache makes a result cache in front of load.
func NewResultCache(load func(ctx context.Context, id uuid.UUID) (*runoff.ResultSnapshot, error)) *ResultCache {
	return &ResultCache{Load: load, TTL: 500 * time.Millisecond, Now: time.Now}
}

// Result returns the election's snapshot, read at most TTL ago. Callers
// must not change it. Not-found is not kept: the first count shows at once.
func (c *ResultCache) Result(ctx context.Context, id uuid.UUID) (*runoff.ResultSnapshot, error) {
	now := c.Now()
	c.mu.Lock()
	if ent, ok := c.entries[id]; ok && now.Before(ent.expires) {
		c.mu.Unlock()
		return ent.snap, nil
	}
	c.mu.Unlock()
	snap, err := c.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= 10000 {
		c.entries = map[uuid.UUID]resultEntry{}
	}
	c.entries[id] = resultEntry{snap: snap, expires: now.Add(c.TTL)}
	c.mu.Unlock()
	return snap, nil
}
