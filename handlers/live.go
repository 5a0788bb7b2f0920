package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// The results page follows a count live with server-sent events. However
// many people read an election's results, one poller per web process
// reads it from Postgres (the election, its results, and the queue's
// backlog) once a tick and hands what it read to every reader, whose
// stream renders its own page from it: a reader costs no query after it
// connects. A poller stops when its last reader leaves, and every stream
// ends when the server shuts down (StopLive, registered with
// http.Server.RegisterOnShutdown), so that Shutdown does not wait on them.

// liveState is one read of an election for its readers.
type liveState struct {
	e       *runoff.Election
	snap    *runoff.ResultSnapshot // nil before the first count
	waiting int                    // ballots queued across the site, or 0
	key     string                 // what a reader compares to see a change
}

// liveHub keeps one feed per election being read.
type liveHub struct {
	read  func(ctx context.Context, id uuid.UUID) (*liveState, error)
	every time.Duration
	onErr func(id uuid.UUID, err error)

	ctx  context.Context // ended by stop
	stop context.CancelFunc

	mu    sync.Mutex
	feeds map[uuid.UUID]*liveFeed

	// The ballots queued across the site, asked of the broker at most
	// every queuedEvery by the pollers and shared, so that no page view
	// waits on the broker.
	qmu      sync.Mutex
	queued   int
	queuedAt time.Time
}

const queuedEvery = 5 * time.Second

type liveFeed struct {
	readers map[chan *liveState]struct{}
	last    *liveState
	cancel  context.CancelFunc
}

func newLiveHub(every time.Duration, read func(context.Context, uuid.UUID) (*liveState, error), onErr func(uuid.UUID, error)) *liveHub {
	ctx, stop := context.WithCancel(context.Background())
	return &liveHub{read: read, every: every, onErr: onErr, ctx: ctx, stop: stop, feeds: map[uuid.UUID]*liveFeed{}}
}

// subscribe adds a reader of an election: ch receives every new state (a
// reader that falls behind gets only the latest). leave must be called.
func (h *liveHub) subscribe(id uuid.UUID) (ch chan *liveState, leave func()) {
	ch = make(chan *liveState, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.feeds[id]
	if !ok {
		ctx, cancel := context.WithCancel(h.ctx)
		f = &liveFeed{readers: map[chan *liveState]struct{}{}, cancel: cancel}
		h.feeds[id] = f
		go h.poll(ctx, id, f)
	}
	f.readers[ch] = struct{}{}
	if f.last != nil {
		ch <- f.last
	}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(f.readers, ch)
		if len(f.readers) == 0 && h.feeds[id] == f {
			f.cancel()
			delete(h.feeds, id)
		}
	}
}

// poll reads the election once a tick while it has readers, and hands
// each changed state to them.
func (h *liveHub) poll(ctx context.Context, id uuid.UUID, f *liveFeed) {
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		st, err := h.read(ctx, id)
		if err != nil && ctx.Err() == nil {
			h.onErr(id, err)
		}
		if err == nil {
			h.mu.Lock()
			if f.last == nil || f.last.key != st.key {
				f.last = st
				for ch := range f.readers {
					select { // replace what the reader has not taken yet
					case <-ch:
					default:
					}
					ch <- st
				}
			}
			h.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// liveKey names what a reader sees of a state: when it changes, the
// reader's page is sent again.
func liveKey(e *runoff.Election, snap *runoff.ResultSnapshot, waiting int, now time.Time) string {
	k := fmt.Sprintf("%s|%s|%d|%v", e.StateAt(now), e.Results, e.BallotsCounted, e.FinalAt != nil)
	if snap != nil {
		k += fmt.Sprintf("|%d|%d|%d", snap.CountsVersion, snap.BallotsCounted, snap.ComputedAt.UnixNano())
	}
	return k + "|" + strconv.Itoa(waiting)
}

// readLive is the hub's one read of an election.
func (s *Server) readLive(ctx context.Context, id uuid.UUID) (*liveState, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	e, err := s.Elections.Election(ctx, id)
	if err != nil {
		return nil, err
	}
	st := &liveState{e: e}
	snap, err := s.Elections.Result(ctx, id)
	switch {
	case err == nil:
		st.snap = snap
	case !errors.Is(err, runoff.ErrNotFound):
		return nil, err
	}
	now := time.Now()
	if e.StateAt(now) != runoff.StatusClosed {
		st.waiting = s.queuedBallots(ctx, now)
	}
	st.key = liveKey(e, st.snap, st.waiting, now)
	return st, nil
}

// queuedBallots is how many ballots wait in the broker's queue across the
// site, asked at most every queuedEvery (by whichever poller comes first)
// and 0 when unknown.
func (s *Server) queuedBallots(ctx context.Context, now time.Time) int {
	h := s.live
	h.qmu.Lock()
	if s.Backlog == nil || now.Sub(h.queuedAt) < queuedEvery {
		defer h.qmu.Unlock()
		return h.queued
	}
	h.queuedAt = now // the others use the last count meanwhile
	last := h.queued
	h.qmu.Unlock()
	n, err := s.Backlog.VotesWaiting(ctx)
	if err != nil {
		return last
	}
	h.qmu.Lock()
	h.queued = n
	h.qmu.Unlock()
	return n
}

// lastQueued is the last count of queued ballots the pollers read, for a
// page view, which never asks the broker itself; 0 when it is old.
func (s *Server) lastQueued(now time.Time) int {
	h := s.live
	h.qmu.Lock()
	defer h.qmu.Unlock()
	if now.Sub(h.queuedAt) > 6*queuedEvery {
		return 0
	}
	return h.queued
}

// StopLive ends every results stream and poller. Register it with
// http.Server.RegisterOnShutdown: a stream never finishes by itself, so
// Shutdown would otherwise wait for its deadline.
func (s *Server) StopLive() {
	if s.live != nil {
		s.live.stop()
	}
}

// liveMaxAge bounds one stream; the browser reconnects, which checks again
// who may see the results.
const liveMaxAge = 10 * time.Minute

// handleResultsLive streams the results region of the page as it changes,
// as server-sent events named "results" (the region's HTML), and "done"
// once the count is final or the results are no longer visible.
func (s *Server) handleResultsLive(w http.ResponseWriter, r *http.Request) error {
	e, err := s.election(r)
	if err != nil {
		return err
	}
	if !s.resultsVisible(r, e, time.Now()) {
		return problem(runoff.ErrForbidden, hiddenWhy(e))
	}
	who, _ := s.currentOrganizer(r)
	round, _ := strconv.Atoi(r.URL.Query().Get("round"))
	since := r.URL.Query().Get("since")
	url := absURL(r, "/e/"+e.ID.String()+"/results")

	rc := http.NewResponseController(w)
	// The server's write timeout is for pages; a stream lives longer.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n\n")
	if err := rc.Flush(); err != nil {
		return nil
	}
	ch, leave := s.live.subscribe(e.ID)
	defer leave()
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	end := time.NewTimer(liveMaxAge)
	defer end.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.live.ctx.Done():
			return nil
		case <-end.C:
			return nil
		case <-keepAlive.C:
			fmt.Fprint(w, ": still here\n\n")
		case st := <-ch:
			now := time.Now()
			if st.key == since {
				since = "" // the page already shows this
				continue
			}
			since = ""
			var v views.ResultsView
			visible := visibleTo(st.e, who, now)
			if visible {
				v = buildResultsView(st.e, st.snap, now, round, url, st.waiting)
			} else {
				v = views.ResultsView{Results: views.Results{ElectionID: st.e.ID.String(), Title: st.e.Title, Hidden: hiddenWhy(st.e)}, URL: url}
			}
			var buf bytes.Buffer
			if !visible {
				fmt.Fprintf(&buf, `<p class="lede">%s</p>`, html.EscapeString(v.Hidden))
			} else if err := views.ResultsLive(v).Render(r.Context(), &buf); err != nil {
				return nil
			}
			writeEvent(w, "results", buf.String())
			if !visible || v.LiveURL == "" {
				writeEvent(w, "done", "")
			}
			if err := rc.Flush(); err != nil || !visible || v.LiveURL == "" {
				return nil
			}
			continue
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// writeEvent writes one server-sent event; each line of data is a field.
func writeEvent(w http.ResponseWriter, name, data string) {
	var b strings.Builder
	b.WriteString("event: " + name + "\n")
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	b.WriteString("\n")
	w.Write([]byte(b.String()))
}
