package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium finds the browser that scripts/services.sh installs.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("RUNOFF_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium for the browser test: 'go tool task services' installs it (Debian package chromium), or set RUNOFF_CHROMIUM")
	return ""
}

// newBrowser starts headless Chromium for the test, closed when it ends,
// with a bound so a broken test cannot hang.
func newBrowser(t *testing.T, bound time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, bound)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// browserSteps holds the small moves the voter tests make in a page.
type browserSteps struct {
	t   *testing.T
	ctx context.Context
}

func (b browserSteps) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// js evaluates an expression in the page.
func js[T any](b browserSteps, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// focused describes the element that has keyboard focus.
func (b browserSteps) focused() string {
	b.t.Helper()
	return js[string](b, `(function (e) { return (e.getAttribute("aria-label") || e.id || e.innerText || e.tagName).trim().replace(/\s+/g, " "); })(document.activeElement)`)
}

// tabTo presses Tab until the focused element is described by want, the
// way a keyboard user moves through the page.
func (b browserSteps) tabTo(want string) {
	b.t.Helper()
	var seen []string
	for range 80 {
		got := b.focused()
		if got == want {
			return
		}
		seen = append(seen, got)
		b.do("Tab", chromedp.KeyEvent(kb.Tab))
	}
	b.t.Fatalf("Tab never reached %q; it went through %q", want, seen)
}

// press presses a key on whatever has focus.
func (b browserSteps) press(key string) {
	b.t.Helper()
	b.do("key "+key, chromedp.KeyEvent(key))
}

// text reads an element's visible text in one step.
func (b browserSteps) text(sel string) string {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	return js[string](b, `(document.querySelector(`+string(q)+`) || {innerText: ""}).innerText.trim().replace(/\s+/g, " ")`)
}

// fitsWidth fails the test when the page scrolls sideways at the width of
// a small phone.
func (b browserSteps) fitsWidth(page string, width int64) {
	b.t.Helper()
	b.do("viewport", chromedp.EmulateViewport(width, 800))
	if w := js[int](b, `document.documentElement.scrollWidth`); w > int(width) {
		b.t.Errorf("%s at %d px is %d px wide: it scrolls sideways", page, width, w)
	}
	b.do("viewport", chromedp.EmulateViewport(1280, 900))
}

// colorScheme makes the page prefer a dark or light colour scheme.
func (b browserSteps) colorScheme(scheme string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		b.t.Fatal(err)
	}
}

// Without JavaScript, the ballot is the paper-style grid: Enter in a
// choice goes to the review, never casts; the review changes or casts;
// a mistake is summarised, the summary takes focus and links to the rank
// at fault; the receipt refreshes itself until the ballot is counted.
func TestBrowserBallotWithoutJavaScript(t *testing.T) {
	a := startApp(t)
	electionID, _ := a.setUpElection("Apple", "Banana", "Cherry")
	ctx := newBrowser(t, 2*time.Minute)
	b := browserSteps{t, ctx}
	pc := &pageChecker{t: t, ctx: ctx, axe: axeSource(t), dir: os.Getenv("RUNOFF_SCREENSHOTS"), scriptsOff: true}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	b.do("ballot", chromedp.Navigate(a.base+"/e/"+electionID), chromedp.WaitVisible(css(`fieldset#rank1`)))
	if js[bool](b, `!!document.querySelector("[data-ranker]")`) {
		t.Fatal("the ranking control ran with JavaScript off")
	}
	b.fitsWidth("the ballot", 320)
	pc.check("nojs-ballot")

	// A candidate marked twice: the summary names the ranks as marked,
	// takes focus, and links to the 3rd-choice group.
	b.do("mark twice", chromedp.Click(css(`input[name="rank2"][data-name="Banana"]`)), chromedp.Click(css(`input[name="rank3"][data-name="Banana"]`)),
		chromedp.Click(css(`form[data-ballot] button[type="submit"]`)), chromedp.WaitVisible(css(`#error-summary`)))
	if got := b.text(`#error-summary`); !strings.Contains(got, "You ranked Banana both 2nd and 3rd.") || !strings.Contains(got, "Banana is already your 2nd choice.") {
		t.Errorf("the summary says %q", got)
	}
	if got := js[string](b, `document.activeElement.id`); got != "error-summary" {
		t.Errorf("focus is on %q, not the error summary", got)
	}
	if got := js[string](b, `document.querySelector("#error-summary a").getAttribute("href")`); got != "#rank3" {
		t.Errorf("the summary links to %q, want #rank3", got)
	}
	pc.check("nojs-ballot-error")

	// Enter on a choice: the review, not a cast ballot.
	b.do("mark and press Enter", chromedp.Click(css(`input[name="rank3"][value=""]`)), chromedp.Click(css(`input[name="rank1"][data-name="Cherry"]`)),
		chromedp.Focus(css(`input[name="rank1"][data-name="Cherry"]`)), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`ol.ranking.review`)))
	if got := b.text("h1"); got != "Check your ballot" {
		t.Fatalf("Enter on a choice led to %q", got)
	}
	if got := b.text(`ol.ranking.review`); got != "1st Cherry 2nd Banana" {
		t.Errorf("the review lists %q", got)
	}
	if got := b.text(`.review-count`); got != "You ranked 2 of 3 candidates. Your ballot is not cast yet." {
		t.Errorf("the review says %q", got)
	}
	b.fitsWidth("the review", 320)
	pc.check("nojs-review")

	// Change: back to the grid with the marks kept; add Apple 3rd.
	b.do("change", chromedp.Click(css(`button[name="change"]`)), chromedp.WaitVisible(css(`fieldset#rank1`)))
	if !js[bool](b, `document.querySelector('input[name="rank1"][data-name="Cherry"]').checked && document.querySelector('input[name="rank2"][data-name="Banana"]').checked`) {
		t.Fatal("the marks were lost on the way back from the review")
	}
	b.do("add a 3rd", chromedp.Click(css(`input[name="rank3"][data-name="Apple"]`)), chromedp.Click(css(`form[data-ballot] button[type="submit"]`)),
		chromedp.WaitVisible(css(`ol.ranking.review`)))
	if got := b.text(`ol.ranking.review`); got != "1st Cherry 2nd Banana 3rd Apple" {
		t.Errorf("the review lists %q", got)
	}
	b.do("cast", chromedp.Click(css(`form.review-actions button:not([formaction])`)), chromedp.WaitVisible(css(`#receipt-live`)))
	if u := js[string](b, `location.pathname`); !strings.HasPrefix(u, "/b/") {
		t.Fatalf("casting led to %s", u)
	}
	// Without JavaScript the receipt refreshes itself until counted.
	b.do("counted", chromedp.WaitVisible(css(`.badge.counted`)))
	if got := b.text(`ol.ranking`); got != "Cherry Banana Apple" {
		t.Errorf("the receipt shows the ranking %q", got)
	}
	b.fitsWidth("the receipt", 320)
}

// With JavaScript, the ranking control, with the keyboard only: add, move
// and remove candidates with Tab, Enter and Space, every change announced
// and focus kept on the item moved; drag with the mouse as an extra; then
// review, cast, and the receipt turning from queued to counted in place
// (htmx, inside a live region that stays put) once the worker is back.
func TestBrowserRankingWithKeyboard(t *testing.T) {
	a := startApp(t)
	electionID, ids := a.setUpElection("Apple", "Banana", "Cherry", "Damson")
	a.stopWorker()
	ctx := newBrowser(t, 2*time.Minute)
	b := browserSteps{t, ctx}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	b.do("ballot", chromedp.Navigate(a.base+"/e/"+electionID), chromedp.WaitVisible(css(`[data-ranker]`)))
	if js[int](b, `document.querySelectorAll('input[type="radio"]').length`) != 0 {
		t.Fatal("the grid's radios are still in the form")
	}
	b.fitsWidth("the ranking control", 320)
	status := func(want string) {
		t.Helper()
		if got := b.text(`.ranker-status`); got != want {
			t.Errorf("announced %q, want %q", got, want)
		}
	}
	ranking := func() string {
		t.Helper()
		return js[string](b, `Array.from(document.querySelectorAll('[data-ranker] ol li .item-name')).map(e => e.innerText.trim().replace(/\s+/g, " ")).join(", ")`)
	}

	b.tabTo("Banana Add as your 1st choice")
	b.press(kb.Enter)
	status("Banana added as your 1st choice.")
	if got := b.focused(); got != "Cherry Add as your 2nd choice" {
		t.Errorf("after adding, focus is on %q", got)
	}
	b.press(kb.Enter) // Cherry
	status("Cherry added as your 2nd choice.")
	b.tabTo("Apple Add as your 3rd choice")
	b.press(" ")
	if got := ranking(); got != "1st Banana, 2nd Cherry, 3rd Apple" {
		t.Fatalf("ranking %q", got)
	}
	b.tabTo("Move Apple up")
	b.press(kb.Enter)
	status("Apple moved to 2nd.")
	if got := b.focused(); got != "Move Apple up" {
		t.Errorf("after moving, focus is on %q", got)
	}
	b.press(kb.Enter)
	status("Apple moved to 1st.")
	// At the top, Up is disabled: focus stays on Apple's item.
	if got := js[string](b, `document.activeElement.dataset.id || ""`); got != ids["Apple"] {
		t.Errorf("after moving to the top, focus is on %q", b.focused())
	}
	b.tabTo("Remove Cherry")
	b.press(kb.Enter)
	status("Cherry removed. You have ranked 2 of 4.")
	if got := ranking(); got != "1st Apple, 2nd Banana" {
		t.Fatalf("ranking %q", got)
	}
	// In dark mode too, nothing falls below the contrast WCAG asks for.
	pc := &pageChecker{t: t, ctx: ctx, axe: axeSource(t), dir: os.Getenv("RUNOFF_SCREENSHOTS")}
	b.colorScheme("dark")
	pc.check("dark-ballot-ranked")
	b.colorScheme("light")
	// Dragging Banana's grip above Apple.
	grip := func(name string) (x, y float64) {
		t.Helper()
		xy := js[[]float64](b, `(function () { var r = document.querySelector('[data-ranker] li[data-id="`+ids[name]+`"] .grip').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
		return xy[0], xy[1]
	}
	fx, fy := grip("Banana")
	_, ty := grip("Apple")
	held := func(p *input.DispatchMouseEventParams) {
		p.Button, p.Buttons, p.ClickCount = input.MouseButtonLeft, 1, 1
	}
	b.do("drag", chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, fx, fy, held),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, fx, (fy+ty)/2, held),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, fx, ty-10, held),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, fx, ty-10, held))
	if got := ranking(); got != "1st Banana, 2nd Apple" {
		t.Fatalf("after dragging, ranking %q", got)
	}
	status("Banana moved to 1st.")
	// The form carries the ranking in the grid's fields, and nothing else.
	if got := js[string](b, `new URLSearchParams(new FormData(document.querySelector("form[data-ballot]"))).toString().replace(/ballot_id=[^&]*&?/, "")`); got != "rank1="+ids["Banana"]+"&rank2="+ids["Apple"] {
		t.Errorf("the form sends %q", got)
	}

	b.tabTo("Review my ballot")
	b.press(kb.Enter)
	b.do("review", chromedp.WaitVisible(css(`ol.ranking.review`)))
	if got := b.text(`ol.ranking.review`); got != "1st Banana 2nd Apple" {
		t.Fatalf("the review lists %q", got)
	}
	b.tabTo("Cast my ballot")
	b.press(kb.Enter)
	b.do("receipt", chromedp.WaitVisible(css(`#receipt-live`)))
	if got := b.text(`#receipt-live`); !strings.Contains(got, "queued") {
		t.Fatalf("receipt while the worker is down: %q", got)
	}
	// Mark the page and the live region: a reload (the no-JavaScript
	// fallback) or a region swapped whole would lose the marks.
	js[bool](b, `window.runoffMark = 1; document.getElementById("receipt-live").dataset.mark = "1"; true`)
	a.startWorker()
	b.do("counted", chromedp.WaitVisible(css(`.badge.counted`)))
	if !js[bool](b, `window.runoffMark === 1 && document.getElementById("receipt-live").dataset.mark === "1"`) {
		t.Fatal("the receipt was reloaded or its live region replaced")
	}
	if got := b.text(`ol.ranking`); got != "Banana Apple" {
		t.Errorf("the receipt shows the ranking %q", got)
	}
	b.colorScheme("dark")
	pc.check("dark-receipt")
}

// An election that lets voters rank at most two: the control says so,
// offers no third, and offers again once one is removed. Candidates'
// descriptions are on their buttons.
func TestBrowserRankingLimit(t *testing.T) {
	a := startApp(t)
	electionID, _ := a.setUpElectionWith(url.Values{"max_ranks": {"2"}}, "Ada | Wrote the first program", "Grace", "Katy")
	ctx := newBrowser(t, time.Minute)
	b := browserSteps{t, ctx}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	b.do("ballot", chromedp.Navigate(a.base+"/e/"+electionID), chromedp.WaitVisible(css(`[data-ranker]`)))
	if got := b.text(`button[data-act="add"][data-name="Ada"]`); got != "Ada Wrote the first program Add as your 1st choice" {
		t.Errorf("Ada's button says %q", got)
	}
	b.do("rank two", chromedp.Click(css(`button[data-act="add"][data-name="Ada"]`)), chromedp.Click(css(`button[data-act="add"][data-name="Katy"]`)))
	if got := b.text(`#ranker-ranked`); got != "Your ranking (2 of 2 allowed)" {
		t.Errorf("the heading says %q", got)
	}
	if got := b.text(`#ranker-offered-hint`); got != "You have ranked the most this election allows (2). Remove someone to rank another." {
		t.Errorf("the hint says %q", got)
	}
	if !js[bool](b, `document.querySelector('button[data-act="add"][data-name="Grace"]').disabled`) {
		t.Error("a third candidate can still be added")
	}
	b.do("remove one", chromedp.Click(css(`button[aria-label="Remove Ada"]`)))
	if js[bool](b, `document.querySelector('button[data-act="add"][data-name="Grace"]').disabled`) {
		t.Error("after a removal, Grace still cannot be added")
	}
	if got := b.text(`.ranker-status`); got != "Ada removed. You have ranked 1 of 3." {
		t.Errorf("announced %q", got)
	}
}
