package handlers_test

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// fakeAccounts keeps the store's sessions and throttle in memory, with
// the same rules: sessions end idle or old, keys lock at their limit.
type fakeAccounts struct {
	mu       sync.Mutex
	sessions map[string]*fakeSession
	throttle map[string]*fakeThrottle
	resets   map[string]uuid.UUID // reset-token hash → organizer
	now      func() time.Time
}

type fakeSession struct {
	organizer         uuid.UUID
	created, lastSeen time.Time
}

type fakeThrottle struct {
	failures    int
	windowStart time.Time
	lockedUntil time.Time
}

func (f *fakeStore) accounts() *fakeAccounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.acct == nil {
		f.acct = &fakeAccounts{sessions: map[string]*fakeSession{}, throttle: map[string]*fakeThrottle{}, resets: map[string]uuid.UUID{}, now: time.Now}
	}
	return f.acct
}

func (f *fakeStore) CreateSession(_ context.Context, hash string, organizerID uuid.UUID) error {
	a := f.accounts()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions[hash] = &fakeSession{organizer: organizerID, created: a.now(), lastSeen: a.now()}
	return nil
}

func (f *fakeStore) Session(_ context.Context, hash string, idle, maxAge time.Duration) (*runoff.Organizer, error) {
	a := f.accounts()
	a.mu.Lock()
	s, ok := a.sessions[hash]
	now := a.now()
	if ok && (now.Sub(s.lastSeen) >= idle || now.Sub(s.created) >= maxAge) {
		ok = false
	}
	if ok {
		s.lastSeen = now
	}
	a.mu.Unlock()
	if !ok {
		return nil, runoff.ErrNotFound
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.organizers {
		if o.ID == s.organizer {
			return o, nil
		}
	}
	return nil, runoff.ErrNotFound
}

func (f *fakeStore) DeleteSession(_ context.Context, hash string) error {
	a := f.accounts()
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, hash)
	return nil
}

func (f *fakeStore) DeleteSessions(_ context.Context, organizerID uuid.UUID) error {
	a := f.accounts()
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, s := range a.sessions {
		if s.organizer == organizerID {
			delete(a.sessions, h)
		}
	}
	return nil
}

func (f *fakeStore) Locked(_ context.Context, keys []string) (time.Duration, error) {
	a := f.accounts()
	a.mu.Lock()
	defer a.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if t, ok := a.throttle[k]; ok && t.lockedUntil.After(a.now()) {
			wait = max(wait, t.lockedUntil.Sub(a.now()))
		}
	}
	return wait, nil
}

func (f *fakeStore) Failed(_ context.Context, key string, limit int, window, lock time.Duration) error {
	a := f.accounts()
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.throttle[key]
	if !ok || a.now().Sub(t.windowStart) > window {
		t = &fakeThrottle{windowStart: a.now()}
		a.throttle[key] = t
	}
	t.failures++
	if t.failures >= limit {
		t.lockedUntil, t.failures, t.windowStart = a.now().Add(lock), 0, a.now()
	}
	return nil
}

func (f *fakeStore) Succeeded(_ context.Context, key string) error {
	a := f.accounts()
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.throttle[key]; ok && !t.lockedUntil.After(a.now()) {
		delete(a.throttle, key)
	}
	return nil
}

func (f *fakeStore) SetPassword(ctx context.Context, organizerID uuid.UUID, hash string) error {
	f.mu.Lock()
	for _, o := range f.organizers {
		if o.ID == organizerID {
			o.PasswordHash = hash
		}
	}
	f.mu.Unlock()
	return f.DeleteSessions(ctx, organizerID)
}

func (f *fakeStore) ResetToken(_ context.Context, hash string) (*runoff.Organizer, error) {
	a := f.accounts()
	a.mu.Lock()
	id, ok := a.resets[hash]
	a.mu.Unlock()
	if !ok {
		return nil, runoff.ErrNotFound
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.organizers {
		if o.ID == id {
			return o, nil
		}
	}
	return nil, runoff.ErrNotFound
}

func (f *fakeStore) UseResetToken(_ context.Context, hash string) (uuid.UUID, error) {
	a := f.accounts()
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.resets[hash]
	if !ok {
		return uuid.Nil, runoff.ErrNotFound
	}
	delete(a.resets, hash)
	return id, nil
}
