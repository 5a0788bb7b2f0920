package handlers_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/handlers"
)

// Every admin route of an election answers 404 to anyone but its owner,
// and publishes nothing.
func TestLifecycleRoutesOwnerOnly(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "mallory@example.org")
	el := e.addElection(uuid.New(), "A", "B")
	base := e.srv.URL + "/admin/elections/" + el.ID.String()
	for _, path := range []string{"", "/open", "/close", "/reopen", "/delete", "/ties/1"} {
		resp, _ := post(t, c, base+path, url.Values{"title": {"Mine now"}, "candidates": {"X\nY"}, "confirm": {el.Title}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s by a stranger: %d, want 404", path, resp.StatusCode)
		}
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("a stranger published %d messages", n)
	}
}

func TestEditOpenCloseThroughTheWeb(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	owner := e.store.organizers["org@example.org"].ID
	el := e.addElection(owner, "A", "B")
	e.store.mu.Lock()
	el.Status, el.Settings = runoff.StatusDraft, runoff.DefaultSettings()
	e.store.mu.Unlock()
	base := e.srv.URL + "/admin/elections/" + el.ID.String()

	// The draft's page offers the edit form and the open button.
	_, body := get(t, c, base)
	for _, want := range []string{`action="/admin/elections/` + el.ID.String() + `/open"`, "Edit this draft", `name="winner_mode"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("draft page lacks %q", want)
		}
	}
	resp, _ := post(t, c, base, url.Values{"title": {"Board"}, "candidates": {"X | the first\nY\nZ"}, "seats": {"2"}, "winner_mode": {runoff.WinnerSTV},
		"tiebreak": {runoff.TiebreakRandom}, "results": {runoff.ResultsAfterClose}, "timezone": {"Europe/Paris"}, "closes_at": {"2099-05-01T20:00"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	msgs := e.pub.messages()
	var up runoff.ElectionUpdate
	if len(msgs) != 1 || msgs[0].key != runoff.KeyElectionUpdate || json.Unmarshal(msgs[0].body, &up) != nil {
		t.Fatalf("published %+v", msgs)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	if up.Title != "Board" || up.Seats != 2 || len(up.Candidates) != 3 || up.Candidates[0].Description != "the first" || up.OrganizerID != owner ||
		up.Settings.WinnerMode != runoff.WinnerSTV || up.Settings.ClosesAt == nil || !up.Settings.ClosesAt.Equal(time.Date(2099, 5, 1, 20, 0, 0, 0, paris)) ||
		msgs[0].id != up.ChangeID.String() {
		t.Fatalf("update %+v", up)
	}
	// The page follows the change until the worker has carried it out.
	loc := resp.Header.Get("Location")
	if loc != "/admin/elections/"+el.ID.String()+"?change="+up.ChangeID.String() {
		t.Fatalf("redirected to %s", loc)
	}
	if _, body := get(t, c, e.srv.URL+loc); !strings.Contains(body, "Saving your change") || !strings.Contains(body, `hx-trigger="every 1s"`) {
		t.Fatalf("while saving:\n%s", body)
	}
	e.store.mu.Lock()
	e.store.changes[up.ChangeID] = true
	e.store.mu.Unlock()
	if _, body := get(t, c, e.srv.URL+loc); !strings.Contains(body, "Your change is saved.") {
		t.Fatalf("once saved:\n%s", body)
	}

	// Closing a draft is refused on the page, with the reason; opening is
	// published.
	resp, body = post(t, c, base+"/close", nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "The election has not opened, so there is nothing to close.") {
		t.Fatalf("closing a draft: %d", resp.StatusCode)
	}
	if resp, _ := post(t, c, base+"/open", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("open: %d", resp.StatusCode)
	}
	msgs = e.pub.messages()
	var open runoff.ElectionAction
	if len(msgs) != 2 || msgs[1].key != runoff.KeyElectionOpen || json.Unmarshal(msgs[1].body, &open) != nil || open.OrganizerID != owner || open.ElectionID != el.ID {
		t.Fatalf("published %+v", msgs)
	}
}

// Results kept until the close are hidden from the public, in every form,
// but not from the organizer; once closed, everyone sees them.
func TestResultsHiddenUntilClose(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	owner := e.store.organizers["org@example.org"].ID
	el := e.addElection(owner, "A", "B")
	e.store.mu.Lock()
	el.Settings = runoff.DefaultSettings()
	el.Results = runoff.ResultsAfterClose
	e.store.results[el.ID] = &runoff.ResultSnapshot{ElectionID: el.ID, BallotsCounted: 1, Report: []byte(`{"secret":1}`), ComputedAt: time.Now(),
		Model: runoff.Results{Seats: 1, Winners: []string{"A"}, Candidates: []string{"A", "B"}}}
	e.store.mu.Unlock()
	public := e.srv.Client()
	results := e.srv.URL + "/e/" + el.ID.String() + "/results"
	if _, body := get(t, public, results); !strings.Contains(body, "The organizer publishes these results when voting closes.") || strings.Contains(body, "A is leading") {
		t.Fatalf("public results while open:\n%s", body)
	}
	if resp, body := get(t, public, results+".json"); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "secret") {
		t.Fatalf("public results.json while open: %d", resp.StatusCode)
	}
	if _, body := get(t, public, e.srv.URL+"/e/"+el.ID.String()); strings.Contains(body, "/results") {
		t.Fatal("the ballot links to hidden results")
	}
	if resp, body := get(t, c, results+".json"); resp.StatusCode != 200 || body != `{"secret":1}` {
		t.Fatalf("organizer's results.json: %d", resp.StatusCode)
	}
	closed := time.Now()
	e.store.mu.Lock()
	el.Status, el.ClosedAt = runoff.StatusClosed, &closed
	e.store.mu.Unlock()
	if resp, body := get(t, public, results+".json"); resp.StatusCode != 200 || body != `{"secret":1}` {
		t.Fatalf("public results.json once closed: %d", resp.StatusCode)
	}
	if _, body := get(t, public, e.srv.URL+"/e/"+el.ID.String()); !strings.Contains(body, "Voting in this election has closed") || strings.Contains(body, "<form method=\"post\" action=\"/e/") {
		t.Fatalf("closed ballot page:\n%s", body)
	}
}

// A tie the count waits on is shown to the organizer with a form; the
// choice is checked against the tie and published; the results page says
// the count waits, and later that it is final.
func TestTieFormAndFinalCount(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	owner := e.store.organizers["org@example.org"].ID
	el := e.addElection(owner, "A", "B", "C")
	e.store.mu.Lock()
	el.Settings = runoff.DefaultSettings()
	el.Tiebreak = runoff.TiebreakAsk
	e.store.results[el.ID] = &runoff.ResultSnapshot{ElectionID: el.ID, BallotsCounted: 5, Report: []byte(`{}`), ComputedAt: time.Now(),
		Model: runoff.Results{Seats: 1, Candidates: []string{"A", "B", "C"},
			Waiting: &runoff.TieWait{Round: 1, Kind: runoff.TieElimination, Tied: []string{"B", "C"}, Votes: "1"}}}
	e.store.mu.Unlock()
	base := e.srv.URL + "/admin/elections/" + el.ID.String()
	_, body := get(t, c, base)
	if !strings.Contains(body, "The count is waiting for you") || !strings.Contains(body, `action="/admin/elections/`+el.ID.String()+`/ties/1"`) {
		t.Fatalf("admin page lacks the tie form:\n%s", body)
	}
	_, body = get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/results")
	if !strings.Contains(body, "The count stopped in round 1: B and C are tied with 1 vote each") {
		t.Fatalf("results page does not say the count waits:\n%s", body)
	}
	for _, bad := range []struct {
		path, candidate, want string
	}{
		{"/ties/1", "", "Choose one of the tied candidates."},
		{"/ties/1", "A", `"A" is not one of the tied candidates.`},
		{"/ties/2", "B", "The count is not waiting on this tie (round 2) any more: new ballots may have changed it. Look at the election's page again."},
	} {
		resp, body := post(t, c, base+bad.path, url.Values{"candidate": {bad.candidate}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, html.EscapeString(bad.want)) {
			t.Errorf("%s %q: %d, want the words %q", bad.path, bad.candidate, resp.StatusCode, bad.want)
		}
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("%d published for bad choices", n)
	}
	resp, _ := post(t, c, base+"/ties/1", url.Values{"candidate": {"C"}})
	var d runoff.TieDecision
	msgs := e.pub.messages()
	if resp.StatusCode != http.StatusSeeOther || len(msgs) != 1 || msgs[0].key != runoff.KeyElectionTiebreak || json.Unmarshal(msgs[0].body, &d) != nil ||
		d.Selected != "C" || d.DecidedBy != owner || d.Round != 1 || d.Kind != runoff.TieElimination {
		t.Fatalf("decision: %d, %+v", resp.StatusCode, d)
	}

	// Closed and final.
	closed, final := time.Now().Add(-time.Minute), time.Now()
	e.store.mu.Lock()
	el.Status, el.ClosedAt, el.FinalAt = runoff.StatusClosed, &closed, &final
	e.store.results[el.ID].Model.Waiting = nil
	e.store.mu.Unlock()
	if _, body := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/results"); !strings.Contains(body, "Final count: voting closed and every ballot received before the close is counted") {
		t.Fatalf("results page of a final count:\n%s", body)
	}
}

// What is running: /healthz and every page's footer carry the revision.
func TestRevisionShown(t *testing.T) {
	e := newEnv(t)
	if _, body := get(t, e.srv.Client(), e.srv.URL+"/healthz"); body != "ok\nrevision: unknown\n" {
		t.Errorf("healthz without a revision: %q", body)
	}
	e2 := newEnvWith(t, func(s *handlers.Server) { s.Revision = "0123456789abcdef0123" })
	if _, body := get(t, e2.srv.Client(), e2.srv.URL+"/healthz"); body != "ok\nrevision: 0123456789abcdef0123\n" {
		t.Errorf("healthz: %q", body)
	}
	if _, body := get(t, e2.srv.Client(), e2.srv.URL+"/"); !strings.Contains(body, "Build 0123456789ab.") {
		t.Errorf("footer lacks the revision")
	}
}

// The dashboard: each election's state, schedule, final mark and held
// messages; the ballots waiting across Runoff when the broker says.
func TestDashboard(t *testing.T) {
	waiting := backlog(7)
	e := newEnvWith(t, func(s *handlers.Server) { s.Backlog = waiting })
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	owner := e.store.organizers["org@example.org"].ID
	el := e.addElection(owner, "A", "B")
	closed, final := time.Now().Add(-time.Hour), time.Now()
	e.store.mu.Lock()
	el.Status, el.ClosedAt, el.FinalAt = runoff.StatusClosed, &closed, &final
	e.store.dead = []runoff.DeadLetter{{ID: uuid.New(), ElectionID: &el.ID, RoutingKey: runoff.KeyVoteSubmit, Reason: "x", DeadAt: time.Now()}}
	e.store.mu.Unlock()
	_, body := get(t, c, e.srv.URL+"/admin")
	for _, want := range []string{`<span class="badge closed">closed</span>`, "final count", ">1 held</a>", "At least 7 ballots (across all elections on this Runoff) are waiting"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}

type backlog int

func (b backlog) VotesWaiting(context.Context) (int, error) { return int(b), nil }

// A random tie-break's seed is shown with the results, so anyone can
// check the draw.
func TestResultsShowTheSeed(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "A", "B")
	seed := int64(424242)
	e.store.mu.Lock()
	el.Settings = runoff.DefaultSettings()
	e.store.results[el.ID] = &runoff.ResultSnapshot{ElectionID: el.ID, BallotsCounted: 1, Report: []byte(`{}`), ComputedAt: time.Now(),
		Model: runoff.Results{Seats: 1, Winners: []string{"A"}, Candidates: []string{"A", "B"}, TiebreakRule: "Drawn at random", RandomSeed: &seed}}
	e.store.mu.Unlock()
	if _, body := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/results"); !strings.Contains(body, "When candidates tie: Drawn at random (random draws use seed 424242, fixed when the election opened).") {
		t.Fatalf("results lack the seed:\n%s", body)
	}
}

// The election's page shows the ballot link as a QR code to scan.
func TestBallotLinkQR(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	el := e.addElection(e.store.organizers["org@example.org"].ID, "A", "B")
	e.store.mu.Lock()
	el.Settings = runoff.DefaultSettings()
	e.store.mu.Unlock()
	_, body := get(t, c, e.srv.URL+"/admin/elections/"+el.ID.String())
	if !strings.Contains(body, `<img class="qr" src="data:image/svg+xml;base64,`) {
		t.Fatal("no QR code of the ballot link")
	}
}
