package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// The ballot's button goes to a review, never straight to casting: the
// review reads the ranking back in order, carries it in hidden fields to
// "Cast my ballot", and "Change my ranking" brings the ballot back marked.
func TestBallotReview(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "Apple", "Banana", "Cherry")
	c := e.client(t)
	page := e.srv.URL + "/e/" + el.ID.String()
	a, b, cherry := el.Candidates[0].ID.String(), el.Candidates[1].ID.String(), el.Candidates[2].ID.String()

	_, body := get(t, c, page)
	if !strings.Contains(body, `action="/e/`+el.ID.String()+`/review"`) || !strings.Contains(body, ">Review my ballot</button>") || strings.Contains(body, "Cast my ballot</button>") {
		t.Fatalf("the ballot's form does not go to the review:\n%s", body)
	}
	ballotID := ballotIDRE.FindStringSubmatch(body)[1]

	// A blank 2nd rank: the review says the ranks closed up, and lists
	// the ranking as it will be counted.
	resp, body := post(t, c, page+"/review", url.Values{"ballot_id": {ballotID}, "rank1": {cherry}, "rank2": {""}, "rank3": {a}})
	if resp.StatusCode != 200 {
		t.Fatalf("review: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		"<h1>Check your ballot</h1>",
		"You ranked <strong>2 of 3</strong> candidates.",
		"Your ballot is not cast yet.",
		"You left a rank blank, so the choices after it moved up.",
		`<li><span class="pos">1st</span> <span class="name">Cherry</span></li><li><span class="pos">2nd</span> <span class="name">Apple</span></li>`,
		"Not ranked: Banana.",
		`<form method="post" action="/e/` + el.ID.String() + `/ballots"`,
		`<input type="hidden" name="ballot_id" value="` + ballotID + `">`,
		`<input type="hidden" name="rank1" value="` + cherry + `">`,
		`<input type="hidden" name="rank2" value="` + a + `">`,
		`<button type="submit">Cast my ballot</button>`,
		`formaction="/e/` + el.ID.String() + `/review" name="change" value="1">Change my ranking</button>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the review lacks %q", want)
		}
	}
	// Cast comes first in the form, so it is the button Enter would press
	// in the review; but the review has no field to press Enter in.
	if strings.Index(body, ">Cast my ballot<") > strings.Index(body, ">Change my ranking<") {
		t.Error("Change comes before Cast")
	}
	if strings.Contains(body, `name="rank3"`) {
		t.Error("the review carries a rank the ranking does not have")
	}
	if regexp.MustCompile(`<input type="(text|radio|number)"`).MatchString(body) {
		t.Error("the review has a field to type or click in")
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("the review published %d messages", n)
	}

	// Change: the ballot comes back with the ranking marked, same ballot ID.
	resp, body = post(t, c, page+"/review", url.Values{"ballot_id": {ballotID}, "rank1": {cherry}, "rank2": {a}, "change": {"1"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `name="rank1" value="`+cherry+`" data-name="Cherry" data-description="" checked`) ||
		!strings.Contains(body, `name="rank2" value="`+a+`" data-name="Apple" data-description="" checked`) || ballotIDRE.FindStringSubmatch(body)[1] != ballotID {
		t.Fatalf("change: %d\n%s", resp.StatusCode, body)
	}

	// With a closing time, the review says when voting closes.
	closes := time.Date(2099, 3, 1, 18, 0, 0, 0, time.UTC)
	e.store.mu.Lock()
	el.ClosesAt = &closes
	e.store.mu.Unlock()
	_, body = post(t, c, page+"/review", url.Values{"ballot_id": {ballotID}, "rank1": {a}})
	if !strings.Contains(body, "Voting closes on Sun 1 Mar 2099, 18:00 UTC.") {
		t.Errorf("the review does not say when voting closes:\n%s", body)
	}

	// One rank: allowed, and the review says what it means.
	_, body = post(t, c, page+"/review", url.Values{"ballot_id": {ballotID}, "rank1": {b}})
	if !strings.Contains(body, "You ranked one candidate. That is allowed; but if Banana is eliminated, your ballot will not count in the later rounds.") {
		t.Errorf("one-rank review:\n%s", body)
	}

	// Cast from the review: published once, under the form's ballot ID.
	resp, _ = post(t, c, page+"/ballots", url.Values{"ballot_id": {ballotID}, "rank1": {cherry}, "rank2": {a}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/b/"+ballotID || len(e.pub.messages()) != 1 {
		t.Fatalf("cast: %d %s, %d published", resp.StatusCode, resp.Header.Get("Location"), len(e.pub.messages()))
	}
	// Having voted, this browser's review goes to its receipt.
	if resp, _ := post(t, c, page+"/review", url.Values{"rank1": {a}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/b/"+ballotID {
		t.Fatalf("review after voting: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// A closed election reviews nothing.
	e.store.mu.Lock()
	el.Status = runoff.StatusClosed
	e.store.mu.Unlock()
	resp, body = post(t, e.srv.Client(), page+"/review", url.Values{"rank1": {a}})
	if msg, _ := errorSummary(t, body); resp.StatusCode != http.StatusUnprocessableEntity || msg != "This election has closed, so it no longer accepts ballots." {
		t.Fatalf("review of a closed election: %d %q", resp.StatusCode, msg)
	}
}

// The receipt's state sits in a live region that stays on the page; only
// its inside is swapped while the ballot is queued.
func TestReceiptLiveRegion(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "Apple", "Banana")
	c := e.client(t)
	resp, _ := post(t, c, e.srv.URL+"/e/"+el.ID.String()+"/ballots", url.Values{"rank1": {el.Candidates[0].ID.String()}})
	_, body := get(t, c, e.srv.URL+resp.Header.Get("Location"))
	live := `<div id="receipt-live" aria-live="polite" aria-atomic="true"><div id="receipt-state" hx-get="` + resp.Header.Get("Location") + `" hx-trigger="every 1s" hx-select="#receipt-state" hx-swap="outerHTML">`
	if !strings.Contains(body, live) {
		t.Fatalf("queued receipt has no live region around its polled state:\n%s", body)
	}
	if strings.Contains(body, `role="status"`) {
		t.Error("a second live region inside the receipt")
	}
}
