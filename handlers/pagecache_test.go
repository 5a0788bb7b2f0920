package handlers_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// The ballot page is drawn once and served again with each visitor's own
// ballot ID, and anything that changes the page (a name, the state, a
// scheduled close passing) is seen on the very next request.
func TestBallotPageKeptButNeverStale(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "Apple", "Banana", "Cherry")
	u := e.srv.URL + "/e/" + el.ID.String()
	page := func() (id, body string) {
		t.Helper()
		resp, body := get(t, e.srv.Client(), u)
		if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) {
			t.Fatalf("status %d, length %d for %d bytes", resp.StatusCode, resp.ContentLength, len(body))
		}
		m := ballotIDRE.FindStringSubmatch(body)
		if m == nil {
			return "", body
		}
		return m[1], body
	}
	id1, body1 := page()
	id2, body2 := page()
	if id1 == "" || id1 == id2 {
		t.Fatalf("ballot IDs %q and %q: each visitor needs their own", id1, id2)
	}
	if strings.ReplaceAll(body1, id1, "ID") != strings.ReplaceAll(body2, id2, "ID") {
		t.Fatal("the two pages differ by more than their ballot IDs")
	}

	e.store.mu.Lock()
	el.Candidates[1].Name = "Blueberry"
	e.store.mu.Unlock()
	if _, body := page(); !strings.Contains(body, "Blueberry") || strings.Contains(body, "Banana") {
		t.Error("a renamed candidate is not on the next page")
	}

	e.store.mu.Lock()
	closes := time.Now().Add(300 * time.Millisecond)
	el.ClosesAt = &closes
	e.store.mu.Unlock()
	if id, _ := page(); id == "" {
		t.Fatal("no ballot while the election is still open")
	}
	time.Sleep(time.Until(closes) + 50*time.Millisecond)
	if id, body := page(); id != "" || !strings.Contains(body, "closed") {
		t.Errorf("the ballot is still offered after the scheduled close (ballot ID %q)", id)
	}

	e.store.mu.Lock()
	el.ClosesAt = nil
	el.Status = runoff.StatusClosed
	e.store.mu.Unlock()
	if id, _ := page(); id != "" {
		t.Error("the ballot is still offered after the election was closed by hand")
	}
	e.store.mu.Lock()
	el.Status = runoff.StatusOpen
	e.store.mu.Unlock()
	if id, _ := page(); id == "" {
		t.Error("no ballot after the election reopened")
	}
	if resp, _ := get(t, e.srv.Client(), u); resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("headers: %v", resp.Header)
	}
}

// The results page is kept too, and a new count, a change in who may see
// the results, or another round asked for shows at once.
func TestResultsPageKeptButNeverStale(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "A", "B")
	u := e.srv.URL + "/e/" + el.ID.String() + "/results"
	snap := func(a, b string, counted int64) *runoff.ResultSnapshot {
		return &runoff.ResultSnapshot{ElectionID: el.ID, BallotsCounted: counted, Report: []byte(`{}`), ComputedAt: time.Unix(counted, 0),
			Model: runoff.Results{Seats: 1, Candidates: []string{"A", "B"}, Ballots: counted, Rounds: []runoff.ResultRound{{Number: 1, Threshold: "2",
				Continuing: "3", Inactive: runoff.Inactive{Total: "0"},
				Tally: []runoff.CandidateRound{{Name: "A", Votes: a, Status: runoff.CandidateContinuing}, {Name: "B", Votes: b, Status: runoff.CandidateContinuing}}}}}}
	}
	// Read as sent: Go's client would otherwise ask for gzip and unzip.
	plain := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	page := func() string {
		t.Helper()
		resp, body := get(t, plain, u)
		if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) || resp.Header.Get("Content-Encoding") != "" {
			t.Fatalf("status %d, length %d for %d bytes, encoding %q", resp.StatusCode, resp.ContentLength, len(body), resp.Header.Get("Content-Encoding"))
		}
		return body
	}
	// The same page gzipped for a browser that takes it, and not for one
	// that refuses it.
	zipped := func(accept string) (string, bool) {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept-Encoding", accept)
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Vary %q", resp.Header.Get("Vary"))
		}
		raw, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Content-Encoding") != "gzip" {
			return string(raw), false
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil || resp.ContentLength != int64(len(raw)) {
			t.Fatalf("gzipped page: %v, length %d for %d bytes", err, resp.ContentLength, len(raw))
		}
		return string(body), true
	}
	e.store.mu.Lock()
	e.store.results[el.ID] = snap("2", "1", 3)
	e.store.mu.Unlock()
	first := page()
	if !strings.Contains(first, "3 ballots counted") || page() != first {
		t.Fatalf("the same results drawn twice differ, or lack the count:\n%s", first)
	}
	if body, z := zipped("gzip, deflate, br"); !z || body != first {
		t.Errorf("gzipped=%v, or the gzipped page differs from the page", z)
	}
	if body, z := zipped("br, gzip;q=0"); z || body != first {
		t.Errorf("gzip refused but sent gzipped=%v", z)
	}
	e.store.mu.Lock()
	e.store.results[el.ID] = snap("2", "3", 5)
	e.store.mu.Unlock()
	if body := page(); !strings.Contains(body, "5 ballots counted") {
		t.Fatal("a new count is not on the next page")
	}
	if body, _ := zipped("gzip"); !strings.Contains(body, "5 ballots counted") {
		t.Fatal("a new count is not on the next gzipped page")
	}
	e.store.mu.Lock()
	el.Results = runoff.ResultsAfterClose
	e.store.mu.Unlock()
	if body := page(); strings.Contains(body, "5 ballots counted") {
		t.Fatal("results still shown after the organizer hid them until the close")
	}
}
