package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/handlers"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
	"github.com/runoff-vote/runoff/worker"
)

// discard is a publisher whose broker confirms at once.
type discard struct{}

func (discard) Publish(context.Context, string, string, []byte) error { return nil }

func benchServer(st *fakeStore) http.Handler {
	s := &handlers.Server{
		Elections: st, DeadLetters: st, Accounts: st, Records: st, Imports: st, BallotFiles: &fakeBallotFiles{}, Invitations: st, Publisher: discard{},
		Sessions:     handlers.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"), false),
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxFormBytes: 64 << 10, PasswordCost: bcrypt.MinCost,
		Metrics: handlers.NewMetrics(nil),
	}
	return s.Handler()
}

func benchElection(st *fakeStore, n int) *runoff.Election {
	e := &runoff.Election{ID: uuid.Must(uuid.NewV7()), OwnerID: uuid.New(), Title: "Bench", Seats: 1, Status: runoff.StatusOpen,
		CreatedAt: time.Now(), Settings: runoff.DefaultSettings()}
	for i := range n {
		e.Candidates = append(e.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: "Candidate " + string(rune('A'+i)), Position: i})
	}
	st.elections[e.ID] = e
	return e
}

// The web's part of a vote: the form parsed and validated against the
// (cached) election, the message made and published (the broker's
// confirm is instant here), the receipt and voted cookies written, and
// the redirect — everything but the network and the broker.
func BenchmarkBallotSubmit(b *testing.B) {
	st := newFakeStore()
	e := benchElection(st, 12)
	h := benchServer(st)
	form := url.Values{}
	for i, p := range rand.New(rand.NewPCG(1, 2)).Perm(12)[:5] {
		form.Set("rank"+strconv.Itoa(i+1), e.Candidates[p].ID.String())
	}
	body := form.Encode()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/e/"+e.ID.String()+"/ballots", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusSeeOther {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// The ballot page of a cached election.
func BenchmarkBallotPage(b *testing.B) {
	st := newFakeStore()
	e := benchElection(st, 12)
	h := benchServer(st)
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/e/"+e.ID.String(), nil))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// million is a tally of 1,000,000 ballots over e's candidates, like the
// load tests' seeded election.
func million(e *runoff.Election) *store.Tally {
	ids := make([]uuid.UUID, len(e.Candidates))
	for i, c := range e.Candidates {
		ids[i] = c.ID
	}
	e.BallotsCounted = 1_000_000
	return &store.Tally{Election: e, ReadAt: time.Now(), Rankings: storetest.MillionRankings(ids)}
}

// The results page of an election with 1,000,000 ballots: it formats the
// stored model, whose size depends on candidates and rounds, not ballots.
func BenchmarkResultsPage1M(b *testing.B) {
	st := newFakeStore()
	e := benchElection(st, 12)
	snap, err := worker.Count(million(e))
	if err != nil {
		b.Fatal(err)
	}
	// The web's results cache parses the snapshot again every half
	// second: the page sees an equal model in new memory now and then.
	again := snap
	raw, err := json.Marshal(snap.Model)
	if err != nil {
		b.Fatal(err)
	}
	again.Model = runoff.Results{}
	if err := json.Unmarshal(raw, &again.Model); err != nil {
		b.Fatal(err)
	}
	snaps := []*runoff.ResultSnapshot{&snap, &again}
	h := benchServer(st)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i%1000 == 0 {
			st.mu.Lock()
			st.results[e.ID] = snaps[i/1000%2]
			st.mu.Unlock()
		}
		i++
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/e/"+e.ID.String()+"/results", nil))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// A full recount of 1,000,000 ballots from their distinct rankings (the
// worker's Count, without the Postgres read): what the recount cadence
// adapts to.
func BenchmarkCount1M(b *testing.B) {
	st := newFakeStore()
	e := benchElection(st, 12)
	t := million(e)
	rankings := t.Rankings
	b.ResetTimer()
	for b.Loop() {
		t.Rankings = rankings // Count lets go of them
		if _, err := worker.Count(t); err != nil {
			b.Fatal(err)
		}
	}
}
