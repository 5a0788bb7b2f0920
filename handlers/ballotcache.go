package handlers

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"reflect"
	"strconv"
	"sync"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff/views"
)

// ballotPages keeps each election's ballot page as last drawn, cut where
// the ballot ID goes. Every visitor gets a ballot ID of their own, and
// otherwise the same page; drawing it (a radio per candidate per rank,
// 144 for twelve candidates) was most of a ballot page's CPU. A page is
// served from here only when everything it is drawn from is equal to what
// the kept one was drawn from, the election's state at this moment
// included (the page is a function of its models and nothing else), so
// it is never staler than drawing it afresh: a closed election's ballot
// is never shown as open.
type ballotPages struct {
	once        sync.Once
	placeholder string // stands for the ballot ID while drawing: random, so no text can hold it

	mu      sync.Mutex
	entries map[string]*keptBallot // by election ID
	size    int                    // bytes kept
}

type keptBallot struct {
	page   views.Page
	ballot views.BallotPage // BallotID is the placeholder
	parts  [][]byte         // the page, cut at the placeholder
	size   int
}

// maxKeptBallots bounds the memory kept: when it is full, it is emptied
// and fills again with the pages asked for.
const maxKeptBallots = 16 << 20

func (bp *ballotPages) init() {
	bp.once.Do(func() {
		bp.placeholder = uuid.Must(uuid.NewRandomFromReader(rand.Reader)).String()
		bp.entries = map[string]*keptBallot{}
	})
}

// renderBallot writes the ballot page with status: from the kept page
// when it was drawn from equal models, otherwise drawn and kept.
func (s *Server) renderBallot(w http.ResponseWriter, r *http.Request, status int, page views.Page, b views.BallotPage) {
	bp := &s.ballots
	bp.init()
	id := b.BallotID
	b.BallotID = bp.placeholder
	bp.mu.Lock()
	k := bp.entries[b.ElectionID]
	bp.mu.Unlock()
	if k == nil || !reflect.DeepEqual(k.ballot, b) || !reflect.DeepEqual(k.page, page) {
		var buf bytes.Buffer
		if err := views.Ballot(page, b).Render(r.Context(), &buf); err != nil {
			s.Log.Error("render failed", "path", r.URL.Path, "err", err)
			http.Error(w, "Runoff could not draw this page. Please try again.", http.StatusInternalServerError)
			return
		}
		k = &keptBallot{page: page, ballot: b, parts: bytes.Split(buf.Bytes(), []byte(bp.placeholder)), size: buf.Len()}
		bp.mu.Lock()
		if old := bp.entries[b.ElectionID]; old != nil {
			bp.size -= old.size
		}
		if bp.size+k.size > maxKeptBallots {
			clear(bp.entries)
			bp.size = 0
		}
		bp.entries[b.ElectionID] = k
		bp.size += k.size
		bp.mu.Unlock()
	}
	n := k.size + (len(k.parts)-1)*(len(id)-len(bp.placeholder))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(status)
	for i, part := range k.parts {
		if i > 0 {
			w.Write([]byte(id))
		}
		w.Write(part)
	}
}
