package handlers_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/handlers"
)

// countingStore counts the reads the results stream makes.
type countingStore struct {
	*fakeStore
	elections, results atomic.Int64
}

func (c *countingStore) Election(ctx context.Context, id uuid.UUID) (*runoff.Election, error) {
	c.elections.Add(1)
	return c.fakeStore.Election(ctx, id)
}

func (c *countingStore) Result(ctx context.Context, id uuid.UUID) (*runoff.ResultSnapshot, error) {
	c.results.Add(1)
	return c.fakeStore.Result(ctx, id)
}

// capital is a two-round count Nashville wins, 5 of 9.
func capital(id uuid.UUID, counted int64) *runoff.ResultSnapshot {
	cand := func(name, votes string, share float64, status string) runoff.CandidateRound {
		return runoff.CandidateRound{Name: name, Votes: votes, Share: share, Status: status}
	}
	model := runoff.Results{Mode: runoff.WinnerIRV, Seats: 1, Winners: []string{"Nashville"}, Candidates: []string{"Nashville", "Memphis", "Knoxville"}, Ballots: counted,
		Rounds: []runoff.ResultRound{
			{Number: 1, Threshold: "5", Continuing: "9", Inactive: runoff.Inactive{Total: "0"}, Eliminated: []string{"Knoxville"},
				Tally: []runoff.CandidateRound{cand("Nashville", "3", 33.3, runoff.CandidateContinuing),
					cand("Memphis", "4", 44.4, runoff.CandidateContinuing), cand("Knoxville", "2", 22.2, runoff.CandidateEliminated)},
				Transfers: []runoff.TransferGroup{{From: "Knoxville", Why: "eliminated", To: []runoff.VoteAmount{{Name: "Nashville", Votes: "2"}}}}},
			{Number: 2, Threshold: "5", Continuing: "9", Inactive: runoff.Inactive{Total: "0"}, Elected: []string{"Nashville"},
				Tally: []runoff.CandidateRound{cand("Nashville", "5", 55.6, runoff.CandidateElected),
					cand("Memphis", "4", 44.4, runoff.CandidateContinuing), cand("Knoxville", "", 0, runoff.CandidateOut)}},
		},
		Pairwise: &runoff.Pairwise{Candidates: []string{"Nashville", "Memphis"}, Wins: [][]int64{{0, 5}, {4, 0}}, CondorcetWinner: "Nashville"}}
	return &runoff.ResultSnapshot{ElectionID: id, BallotsCounted: counted, CountsVersion: counted, Model: model, ComputedAt: time.Now()}
}

// stream reads a results stream's events, name and data, until it ends.
type stream struct {
	resp   *http.Response
	cancel context.CancelFunc
	events chan [2]string
}

func openStream(t *testing.T, c *http.Client, u string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{resp: resp, cancel: cancel, events: make(chan [2]string, 16)}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var name string
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			case line == "" && name != "":
				s.events <- [2]string{name, strings.Join(data, "\n")}
				name, data = "", nil
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *stream) close() { s.cancel(); s.resp.Body.Close() }

func (s *stream) next(t *testing.T) (name, data string) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			return "", ""
		}
		return ev[0], ev[1]
	case <-time.After(5 * time.Second):
		t.Fatal("no event in 5 s")
	}
	return "", ""
}

// However many read an election's results stream, one poller reads
// Postgres for them, once a tick; it stops when the last reader leaves.
// A new count reaches every reader.
func TestResultsLiveSharesOnePoller(t *testing.T) {
	var cs *countingStore
	e := newEnvWith(t, func(s *handlers.Server) {
		cs = &countingStore{fakeStore: s.Elections.(*fakeStore)}
		s.Elections = cs
		s.LiveEvery = 20 * time.Millisecond
	})
	el := e.addElection(uuid.New(), "Memphis", "Nashville", "Knoxville")
	e.store.mu.Lock()
	e.store.results[el.ID] = capital(el.ID, 9)
	e.store.mu.Unlock()

	live := e.srv.URL + "/e/" + el.ID.String() + "/results/live"
	var streams []*stream
	for range 5 {
		s := openStream(t, e.srv.Client(), live)
		if name, data := s.next(t); name != "results" || !strings.Contains(data, "Nashville is leading with 5 of 9 votes") {
			t.Fatalf("first event %s: %.200s", name, data)
		}
		streams = append(streams, s)
	}
	before := cs.results.Load()
	time.Sleep(300 * time.Millisecond) // 15 ticks
	if n := cs.results.Load() - before; n > 20 || n < 5 {
		t.Errorf("5 readers for 15 ticks read the results %d times, want about 15", n)
	}

	e.store.mu.Lock()
	next := capital(el.ID, 10)
	next.Model.Rounds[1].Tally[0].Votes, next.Model.Rounds[1].Continuing = "6", "10"
	e.store.results[el.ID] = next
	e.store.mu.Unlock()
	for i, s := range streams {
		if name, data := s.next(t); name != "results" || !strings.Contains(data, "6 of 10 votes") {
			t.Errorf("reader %d: %s: %.300s", i, name, data)
		}
	}

	var wg sync.WaitGroup
	for _, s := range streams {
		wg.Go(s.close)
	}
	wg.Wait()
	time.Sleep(100 * time.Millisecond)
	before = cs.results.Load()
	time.Sleep(200 * time.Millisecond)
	if n := cs.results.Load() - before; n != 0 {
		t.Errorf("with no readers left the results were read %d times", n)
	}
}

// A page that already shows the latest count is not sent it again.
func TestResultsLiveSkipsWhatThePageShows(t *testing.T) {
	e := newEnvWith(t, func(s *handlers.Server) { s.LiveEvery = 20 * time.Millisecond })
	el := e.addElection(uuid.New(), "Memphis", "Nashville", "Knoxville")
	e.store.mu.Lock()
	e.store.results[el.ID] = capital(el.ID, 9)
	e.store.mu.Unlock()
	_, page := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/results?round=1")
	i := strings.Index(page, `sse-connect="`)
	if i < 0 {
		t.Fatal("no stream on the page of an open election")
	}
	u := page[i+len(`sse-connect="`):]
	u = strings.ReplaceAll(u[:strings.Index(u, `"`)], "&amp;", "&")
	if !strings.Contains(u, "round=1") {
		t.Errorf("the stream does not keep the round: %s", u)
	}
	s := openStream(t, e.srv.Client(), e.srv.URL+u)
	select {
	case ev := <-s.events:
		t.Fatalf("sent what the page shows: %s", ev[0])
	case <-time.After(200 * time.Millisecond):
	}
	e.store.mu.Lock()
	e.store.results[el.ID] = capital(el.ID, 10)
	e.store.mu.Unlock()
	if name, data := s.next(t); name != "results" || !strings.Contains(data, `<h2 id="round-heading">Round 1`) {
		t.Errorf("%s: %.300s", name, data)
	}
}

// The stream honours who may see the results: refused to whoever may
// not, and ended, with the page saying why, when the organizer hides them.
func TestResultsLiveHonoursVisibility(t *testing.T) {
	e := newEnvWith(t, func(s *handlers.Server) { s.LiveEvery = 20 * time.Millisecond })
	el := e.addElection(uuid.New(), "Memphis", "Nashville", "Knoxville")
	e.store.mu.Lock()
	e.store.results[el.ID] = capital(el.ID, 9)
	el.Results = runoff.ResultsOrganizer
	e.store.mu.Unlock()
	live := e.srv.URL + "/e/" + el.ID.String() + "/results/live"
	if resp, _ := get(t, e.srv.Client(), live); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("hidden results streamed: %d", resp.StatusCode)
	}
	e.store.mu.Lock()
	el.Results = runoff.ResultsLive
	e.store.mu.Unlock()
	s := openStream(t, e.srv.Client(), live)
	s.next(t)
	e.store.mu.Lock()
	el.Results = runoff.ResultsAfterClose
	e.store.mu.Unlock()
	name, data := s.next(t)
	if name != "results" || strings.Contains(data, "Nashville") || !strings.Contains(data, "publishes these results when voting closes") {
		t.Errorf("after hiding: %s %q", name, data)
	}
	if name, _ := s.next(t); name != "done" {
		t.Errorf("then %q, want done", name)
	}
	if name, _ := s.next(t); name != "" {
		t.Errorf("the stream goes on: %q", name)
	}
}

// Streams end when the server shuts down, so that Shutdown does not wait
// for its deadline.
func TestResultsLiveStopsOnShutdown(t *testing.T) {
	var srv *handlers.Server
	e := newEnvWith(t, func(s *handlers.Server) { srv = s; s.LiveEvery = 20 * time.Millisecond })
	e.srv.Config.RegisterOnShutdown(srv.StopLive)
	el := e.addElection(uuid.New(), "Memphis", "Nashville")
	s := openStream(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/results/live")
	s.next(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := e.srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v after %v", err, time.Since(start))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}

// countingBacklog is a broker with ballots queued, counting the asks.
type countingBacklog struct{ asked atomic.Int64 }

func (b *countingBacklog) VotesWaiting(context.Context) (int, error) {
	b.asked.Add(1)
	return 7, nil
}

// Ballots still queued are noted on the page, from what the live pollers
// ask the broker (at most every few seconds, however many read); a page
// view never waits on the broker itself.
func TestResultsQueuedNote(t *testing.T) {
	bl := &countingBacklog{}
	e := newEnvWith(t, func(s *handlers.Server) { s.Backlog = bl; s.LiveEvery = 20 * time.Millisecond })
	el := e.addElection(uuid.New(), "Memphis", "Nashville", "Knoxville")
	e.store.mu.Lock()
	e.store.results[el.ID] = capital(el.ID, 9)
	e.store.mu.Unlock()
	results := e.srv.URL + "/e/" + el.ID.String() + "/results"
	if _, body := get(t, e.srv.Client(), results); strings.Contains(body, "still queued") || bl.asked.Load() != 0 {
		t.Fatalf("a page view asked the broker %d times", bl.asked.Load())
	}
	var streams []*stream
	for range 3 {
		s := openStream(t, e.srv.Client(), results+"/live")
		if _, data := s.next(t); !strings.Contains(data, "Ballots are still queued to be counted (at least 7 waiting on this site)") {
			t.Errorf("the stream lacks the note: %.300s", data)
		}
		streams = append(streams, s)
	}
	time.Sleep(200 * time.Millisecond)
	if n := bl.asked.Load(); n != 1 {
		t.Errorf("3 readers for 10 ticks asked the broker %d times, want once", n)
	}
	if _, body := get(t, e.srv.Client(), results); !strings.Contains(body, "at least 7 waiting on this site") {
		t.Error("a page view does not note the queued ballots the pollers saw")
	}
	e.store.mu.Lock()
	e.store.results[el.ID] = capital(el.ID, 8)
	el.BallotsCounted = 10
	e.store.mu.Unlock()
	if _, data := streams[0].next(t); !strings.Contains(data, "2 more ballots received since these results were worked out will be in them shortly.") {
		t.Errorf("stored but not yet counted: %.600s", data)
	}
}

// A stream outlives the server's write timeout, which is for pages.
func TestResultsLiveOutlivesWriteTimeout(t *testing.T) {
	var srv *handlers.Server
	e := newEnvWith(t, func(s *handlers.Server) { srv = s; s.LiveEvery = 20 * time.Millisecond })
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.WriteTimeout = 100 * time.Millisecond
	ts.Start()
	el := e.addElection(uuid.New(), "Memphis", "Nashville", "Knoxville")
	s := openStream(t, ts.Client(), ts.URL+"/e/"+el.ID.String()+"/results/live")
	defer ts.Close()
	defer s.close()
	s.next(t)
	time.Sleep(300 * time.Millisecond)
	e.store.mu.Lock()
	e.store.results[el.ID] = capital(el.ID, 9)
	e.store.mu.Unlock()
	if name, data := s.next(t); name != "results" || !strings.Contains(data, "Nashville is leading") {
		t.Errorf("after the write timeout: %s %.200s", name, data)
	}
}

// Only the embeddable card may be framed; the page and the card, and the
// preview of a shared link, show only what visibility allows.
func TestResultsEmbedAndPreview(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "Memphis", "Nashville", "Knoxville")
	e.store.mu.Lock()
	e.store.results[el.ID] = capital(el.ID, 9)
	e.store.mu.Unlock()
	base := e.srv.URL + "/e/" + el.ID.String() + "/results"
	resp, body := get(t, e.srv.Client(), base+"/embed")
	if resp.StatusCode != 200 || resp.Header.Get("X-Frame-Options") != "" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors *") {
		t.Errorf("embed: %d, X-Frame-Options %q, CSP %q", resp.StatusCode, resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"))
	}
	if !strings.Contains(body, "Nashville is leading with 5 of 9 votes") || !strings.Contains(body, `role="img"`) {
		t.Errorf("embed lacks the banner or the chart")
	}
	resp, body = get(t, e.srv.Client(), base)
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("the results page may be framed")
	}
	for _, want := range []string{`<meta property="og:title" content="Results: Best &lt;b&gt;fruit&lt;/b&gt;">`,
		`<meta property="og:description" content="Nashville is leading with 5 of 9 votes still counting, after 2 rounds.">`,
		`<meta property="og:url" content="` + base + `">`, `href="/static/results.css"`,
		"Knoxville had the fewest votes and was eliminated; all 2 went to Nashville.",
		"Nashville beats every other candidate head to head", `tabindex="0" role="region"`} {
		if !strings.Contains(body, want) {
			t.Errorf("results page lacks %s", want)
		}
	}

	e.store.mu.Lock()
	el.Results = runoff.ResultsAfterClose
	e.store.mu.Unlock()
	for _, u := range []string{base, base + "/embed"} {
		resp, body := get(t, e.srv.Client(), u)
		if resp.StatusCode != 200 || strings.Contains(body, "Nashville") || !strings.Contains(body, "publishes these results when voting closes") {
			t.Errorf("%s while hidden: %d %.400s", u, resp.StatusCode, body)
		}
	}
}
