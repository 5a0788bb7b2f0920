package handlers

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"reflect"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/google/uuid"
)

// keptPages keeps the most asked-for pages as last drawn: each election's
// ballot and results pages. Drawing them was most of their CPU: a ballot
// draws a radio per candidate per rank (144 for twelve candidates), and a
// results page draws the story, charts and flows of every round. A page
// is a function of its models and nothing else, so it is served again
// only when every model it would be drawn from now is equal to those the
// kept page was drawn from, the election's state at this moment included:
// a kept page is never staler than one drawn afresh (a closed election's
// ballot is never shown as open), and it costs a comparison of models.
//
// What differs for every visitor (a ballot's ID) is drawn as a random
// placeholder, which no election's text can hold, and replaced as the
// page is written.
type keptPages struct {
	once        sync.Once
	placeholder string

	mu      sync.Mutex
	entries map[string]*keptPage // by slot: which page of which election
	size    int                  // bytes kept
}

type keptPage struct {
	models any      // compared whole with reflect.DeepEqual
	parts  [][]byte // the page, cut at the placeholder
	size   int
}

// maxKept bounds the memory kept: when it is full, it is emptied and
// fills again with the pages asked for.
const maxKept = 32 << 20

func (kp *keptPages) init() {
	kp.once.Do(func() {
		kp.placeholder = uuid.Must(uuid.NewRandomFromReader(rand.Reader)).String()
		kp.entries = map[string]*keptPage{}
	})
}

// Placeholder stands for what differs for every visitor while a page is
// drawn.
func (kp *keptPages) Placeholder() string {
	kp.init()
	return kp.placeholder
}

// renderKept writes with status the page draw makes, from the one kept in
// slot when it was drawn from models equal to these; otherwise it draws
// and keeps it. own, if not "", replaces the placeholder in what is
// written.
func (s *Server) renderKept(w http.ResponseWriter, r *http.Request, status int, slot string, models any, draw func() templ.Component, own string) {
	kp := &s.kept
	kp.init()
	kp.mu.Lock()
	k := kp.entries[slot]
	kp.mu.Unlock()
	if k == nil || !reflect.DeepEqual(k.models, models) {
		var buf bytes.Buffer
		if err := draw().Render(r.Context(), &buf); err != nil {
			s.Log.Error("render failed", "path", r.URL.Path, "err", err)
			http.Error(w, "Runoff could not draw this page. Please try again.", http.StatusInternalServerError)
			return
		}
		k = &keptPage{models: models, parts: bytes.Split(buf.Bytes(), []byte(kp.placeholder)), size: buf.Len()}
		kp.mu.Lock()
		if old := kp.entries[slot]; old != nil {
			kp.size -= old.size
		}
		if kp.size+k.size > maxKept {
			clear(kp.entries)
			kp.size = 0
		}
		kp.entries[slot] = k
		kp.size += k.size
		kp.mu.Unlock()
	}
	n := k.size + (len(k.parts)-1)*(len(own)-len(kp.placeholder))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(status)
	for i, part := range k.parts {
		if i > 0 {
			w.Write([]byte(own))
		}
		w.Write(part)
	}
}
