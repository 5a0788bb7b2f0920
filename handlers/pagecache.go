package handlers

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"net/http"
	"reflect"
	"strconv"
	"strings"
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
	gz     []byte // a page with nothing spliced in, gzipped once for browsers that take it
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
		if len(k.parts) == 1 && k.size > 4<<10 {
			// A results page of a large election is over 100 KB; gzipped
			// once, a phone downloads about a tenth of it, and serving it
			// costs the web a tenth of the writing.
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(k.parts[0])
			if zw.Close() == nil {
				k.gz = z.Bytes()
			}
		}
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
	} else {
		// Equal, but perhaps read afresh (the results snapshot is parsed
		// again every half second): keep these models, so that the next
		// requests, which share their slices and maps, compare equal at
		// a glance rather than element by element.
		kp.mu.Lock()
		if kp.entries[slot] == k {
			kp.entries[slot] = &keptPage{models: models, parts: k.parts, size: k.size, gz: k.gz}
		}
		kp.mu.Unlock()
	}
	n := k.size + (len(k.parts)-1)*(len(own)-len(kp.placeholder))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if k.gz != nil {
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			h.Set("Content-Length", strconv.Itoa(len(k.gz)))
			w.WriteHeader(status)
			w.Write(k.gz)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(status)
	for i, part := range k.parts {
		if i > 0 {
			w.Write([]byte(own))
		}
		w.Write(part)
	}
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip
// (and does not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
