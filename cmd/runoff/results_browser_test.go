package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

// scientists is the results page's example: five candidates, 31 ballots,
// four rounds; Barbara Liskov's one ballot goes to Edsger Dijkstra, whose
// six then go five to Alan Turing and one nowhere; Grace Hopper's eight go
// six to Ada Lovelace, who wins with 16 of 28.
func scientists(a *app) (electionID string, ids map[string]string) {
	a.t.Helper()
	electionID, ids = a.setUpElection("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")
	for _, b := range []struct {
		n       int
		ranking []string
	}{
		{10, []string{"Ada Lovelace"}},
		{6, []string{"Grace Hopper", "Ada Lovelace"}},
		{2, []string{"Grace Hopper"}},
		{7, []string{"Alan Turing"}},
		{5, []string{"Edsger Dijkstra", "Alan Turing"}},
		{1, []string{"Barbara Liskov", "Edsger Dijkstra"}},
	} {
		for range b.n {
			a.vote(electionID, ids, b.ranking)
		}
	}
	rabbitmqtest.WaitFor(a.t, "31 ballots in the results", func() bool {
		_, body := a.get(http.DefaultClient, "/e/"+electionID+"/results")
		return strings.Contains(body, "31 ballots counted")
	})
	return electionID, ids
}

// The results page tells the count as a story, in a real browser: the
// banner, a sentence per round, a chart per round with its threshold, a
// stepper of plain links, the flow of votes, the head-to-head table; on a
// phone it never scrolls sideways; it follows new ballots live without
// losing focus or scroll position; the embeddable card may be framed.
func TestResultsInBrowser(t *testing.T) {
	a := startApp(t)
	electionID, ids := scientists(a)
	pc := &pageChecker{t: t, axe: axeSource(t), dir: os.Getenv("RUNOFF_SCREENSHOTS")}
	if pc.dir != "" {
		if err := os.MkdirAll(pc.dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := newBrowser(t, 3*time.Minute)
	pc.ctx = ctx
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	text := func(sel string) string {
		t.Helper()
		q, _ := json.Marshal(sel)
		return eval(`(document.querySelector(` + string(q) + `) || {innerText: ""}).innerText`)
	}
	results := a.base + "/e/" + electionID + "/results"

	do("results", chromedp.Navigate(results), chromedp.WaitVisible(chromedp.CSS(`.banner`)))
	for sel, want := range map[string]string{
		".banner":                  "Ada Lovelace is leading with 16 of 28 votes still counting, after 4 rounds.",
		"ol.story li:nth-child(1)": "Round 1: Barbara Liskov had the fewest votes and was eliminated; the 1 vote went to Edsger Dijkstra.",
		"ol.story li:nth-child(2)": "Round 2: Edsger Dijkstra had the fewest votes and was eliminated; 5 of those 6 votes went to Alan Turing and 1 had no further choice.",
		"ol.story li:nth-child(4)": "Round 4: Ada Lovelace had more than half of the votes still counting (16 of 28) and leads.",
		"#round-heading":           "Round 4 of 4",
		".pairwise":                "Ada Lovelace beats every other candidate head to head: the Condorcet winner.",
	} {
		if got := text(sel); !strings.Contains(got, want) {
			t.Errorf("%s says %q, want %q", sel, got, want)
		}
	}
	if got := eval(`document.querySelector("#round svg.bars title").textContent`); !strings.Contains(got, "Ada Lovelace 16 votes (57.1%), elected so far") || !strings.Contains(got, "15 votes needed to win") {
		t.Errorf("the chart's text alternative: %q", got)
	}
	if got := eval(`document.querySelector("#round svg.bars").getAttribute("role")`); got != "img" {
		t.Errorf("chart role %q", got)
	}
	if got := text(".threshold-words"); !strings.Contains(got, "Lower than round 3's 16 because 2 ballots stopped counting when every candidate they ranked was out") {
		t.Errorf("threshold words: %q", got)
	}
	pc.check("results-story")

	// The stepper is links: round 2 by its link, then on to round 3.
	do("round 2", chromedp.Click(chromedp.CSS(`#round-2`)), chromedp.WaitVisible(chromedp.CSS(`#round-next`)))
	if got := text("#round-heading"); !strings.HasPrefix(got, "Round 2") {
		t.Fatalf("after the round 2 link: %q", got)
	}
	if got := eval(`location.search + location.hash`); got != "?round=2#round" {
		t.Errorf("round 2 is at %q", got)
	}
	do("next", chromedp.Click(chromedp.CSS(`#round-next`)), chromedp.WaitVisible(chromedp.CSS(`#round-prev`)))
	if got := text("#round-heading"); !strings.HasPrefix(got, "Round 3") {
		t.Fatalf("after next: %q", got)
	}
	pc.check("results-round-3")

	// On a phone: nothing wider than the screen, at 390 and at 320 px.
	for _, width := range []int64{390, 320} {
		do("narrow", chromedp.EmulateViewport(width, 800), chromedp.Navigate(results), chromedp.WaitVisible(chromedp.CSS(`.banner`)))
		if got := eval(`String(document.documentElement.scrollWidth)`); got != fmt.Sprint(width) {
			t.Errorf("at %d px the page is %s px wide", width, got)
		}
		if got := eval(`getComputedStyle(document.querySelector("#table-scroll")).display + " " + getComputedStyle(document.querySelector(".round-cards")).display`); got != "none block" {
			t.Errorf("at %d px the wide table and the cards are %q", width, got)
		}
	}

	// Live: a reader focused on the stepper, scrolled down, sees a new
	// ballot counted without losing either.
	do("live page", chromedp.EmulateViewport(1280, 700), chromedp.Navigate(results+"?round=2"), chromedp.WaitVisible(chromedp.CSS(`#round-3`)))
	rabbitmqtest.WaitFor(t, "the stream open", func() bool {
		return eval(`String(!!(document.querySelector("#results-live")["htmx-internal-data"] || {}).sseEventSource && document.querySelector("#results-live")["htmx-internal-data"].sseEventSource.readyState)`) == "1"
	})
	eval(`document.querySelector("#round-3").focus(); window.scrollTo(0, 400); String(window.scrollY)`)
	before := eval(`String(window.scrollY)`)
	a.vote(electionID, ids, []string{"Alan Turing"})
	rabbitmqtest.WaitFor(t, "the page updated by itself", func() bool {
		return strings.Contains(text(".banner"), "16 of 29")
	})
	if got := eval(`document.activeElement ? document.activeElement.id : ""`); got != "round-3" {
		t.Errorf("after the update focus is on %q, want round-3", got)
	}
	if got := eval(`String(window.scrollY)`); got != before {
		t.Errorf("after the update the page is scrolled to %s, was %s", got, before)
	}
	if got := text("#round-heading"); !strings.HasPrefix(got, "Round 2") {
		t.Errorf("after the update the stepper shows %q, want round 2 still", got)
	}
	if got := eval(`document.querySelector("#results-announce").textContent`); !strings.Contains(got, "Results updated: Ada Lovelace is leading with 16 of 29") {
		t.Errorf("the update is announced as %q", got)
	}
	pc.check("results-live")

	// Dark mode: the page's own colours, checked again by axe.
	do("dark", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}, {Name: "prefers-reduced-motion", Value: "reduce"}}})
		return err
	}), chromedp.Navigate(results), chromedp.WaitVisible(chromedp.CSS(`.banner`)))
	if got := eval(`getComputedStyle(document.body).backgroundColor`); got != "rgb(13, 17, 23)" {
		t.Errorf("dark mode background %s", got)
	}
	pc.check("results-dark")
	do("light", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
		return err
	}))

	// The card other sites may frame, and only it.
	resp, err := http.Get(results + "/embed")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if xfo, csp := resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"); xfo != "" || !strings.Contains(csp, "frame-ancestors *") {
		t.Errorf("embed headers: X-Frame-Options %q, CSP %q", xfo, csp)
	}
	resp, err = http.Get(results)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if xfo := resp.Header.Get("X-Frame-Options"); xfo != "DENY" {
		t.Errorf("the results page may be framed: X-Frame-Options %q", xfo)
	}
	do("embed", chromedp.Navigate(results+"/embed"), chromedp.WaitVisible(chromedp.CSS(`.banner`)))
	if got := text(".banner"); !strings.Contains(got, "Ada Lovelace is leading") {
		t.Errorf("embed banner %q", got)
	}
	pc.check("results-embed")

	// Without server-sent events the page asks for itself every 10 s.
	do("no EventSource", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: "delete window.EventSource;"})
		return err
	}), chromedp.Navigate(results), chromedp.WaitVisible(chromedp.CSS(`.banner`)))
	if got := eval(`String(typeof window.EventSource)`); got != "undefined" {
		t.Fatalf("EventSource is %s", got)
	}
	a.vote(electionID, ids, []string{"Alan Turing"})
	rabbitmqtest.WaitForWithin(t, 40*time.Second, "the page polled and updated by itself", func() bool {
		return strings.Contains(text(".banner"), "16 of 30")
	})

	// A shared link previews the winner.
	do("results again", chromedp.Navigate(results))
	if got := eval(`document.querySelector('meta[property="og:description"]').content`); !strings.HasPrefix(got, "Ada Lovelace is leading") {
		t.Errorf("og:description %q", got)
	}
	if got := eval(`document.querySelector('meta[property="og:url"]').content`); got != results {
		t.Errorf("og:url %q", got)
	}
}

// Several seats by single transferable vote: the banner names the seats,
// a surplus is told as one, and the page passes axe at both widths.
func TestResultsSeveralSeatsInBrowser(t *testing.T) {
	a := startApp(t)
	org := browser()
	if code, loc := a.post(org, "/signup", url.Values{"email": {"stv@example.org"}, "password": {"correct horse battery"}}); code != 303 || loc != "/admin" {
		t.Fatalf("signup: %d %s", code, loc)
	}
	code, loc := a.post(org, "/admin/elections", url.Values{"title": {"Committee"}, "candidates": {"Ada\nBo\nCy\nDi"},
		"seats": {"2"}, "winner_mode": {"multiWinnerAllowMultipleWinnersPerRound"}})
	if code != 303 {
		t.Fatalf("create: %d %s", code, loc)
	}
	electionID := strings.TrimPrefix(loc, "/admin/elections/")
	var ids map[string]string
	rabbitmqtest.WaitFor(t, "election stored", func() bool {
		code, body := a.get(http.DefaultClient, "/e/"+electionID)
		if code != 200 {
			return false
		}
		ids = map[string]string{}
		for _, m := range optionRE.FindAllStringSubmatch(body, -1) {
			ids[m[2]] = m[1]
		}
		return len(ids) == 4
	})
	for _, b := range []struct {
		n       int
		ranking []string
	}{{6, []string{"Ada", "Bo"}}, {2, []string{"Ada", "Cy"}}, {1, []string{"Bo"}}, {2, []string{"Cy"}}, {2, []string{"Di", "Cy"}}} {
		for range b.n {
			a.vote(electionID, ids, b.ranking)
		}
	}
	results := a.base + "/e/" + electionID + "/results"
	rabbitmqtest.WaitFor(t, "13 ballots in the results", func() bool {
		_, body := a.get(http.DefaultClient, "/e/"+electionID+"/results")
		return strings.Contains(body, "13 ballots counted")
	})
	pc := &pageChecker{t: t, axe: axeSource(t), dir: os.Getenv("RUNOFF_SCREENSHOTS")}
	ctx := newBrowser(t, 2*time.Minute)
	pc.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(results), chromedp.WaitVisible(chromedp.CSS(`.banner`))); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"are leading for the 2 seats", "Ada: elected in round 1 with 8 votes (5 needed).",
		"Ada reached the 5 votes needed with 8 and was elected; the surplus moved on: 2.25 of those 3 votes went to Bo and 0.75 to Cy.",
		"Cy was elected with 4.75 votes, short of the 5 needed, because no more candidates were left than seats to fill.",
		"Every seat is filled: this is the final tally."} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Head to head") {
		t.Error("a head-to-head table for several seats")
	}
	pc.check("results-seats")
}
