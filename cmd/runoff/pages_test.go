package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeSource finds axe-core, which scripts/services.sh --browser installs
// (pinned in scripts/axe), or RUNOFF_AXE.
func axeSource(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("RUNOFF_AXE"), filepath.Join("..", "..", "scripts", "axe", "node_modules", "axe-core", "axe.min.js")} {
		if p == "" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
	}
	t.Fatal("no axe-core for the accessibility test: 'go tool task test' installs it (scripts/services.sh --browser), or set RUNOFF_AXE to axe.min.js")
	return ""
}

// axeOptions runs every rule of WCAG 2.0, 2.1 and 2.2 at levels A and AA,
// and axe's best practices. Naming the tags also runs the rules axe leaves
// off by default, such as WCAG 2.2's target size (2.5.8).
const axeOptions = `{resultTypes: ["violations"], runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]}}`

type axeResult struct {
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	} `json:"violations"`
}

// pageChecker looks at a page as a person would: at a phone's width and a
// laptop's, with axe-core. A serious or critical violation fails the test;
// lesser ones are logged. With RUNOFF_SCREENSHOTS set to a folder, it also
// saves a full-page screenshot at each width, to look at.
type pageChecker struct {
	t    *testing.T
	ctx  context.Context
	axe  string
	dir  string
	seen []string
	// scriptsOff: the page runs without JavaScript. axe needs scripts, so
	// they are switched on for it once the page has loaded without them
	// (which runs none of the page's own) and off again after.
	scriptsOff bool
}

func (pc *pageChecker) check(name string) {
	t := pc.t
	t.Helper()
	pc.seen = append(pc.seen, name)
	for _, width := range []int64{390, 1280} {
		if err := chromedp.Do(pc.ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		if pc.dir != "" {
			if err := os.MkdirAll(pc.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			png, err := chromedp.Run(pc.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(pc.dir, fmt.Sprintf("%s-%d.png", name, width)), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if pc.scriptsOff {
			pc.scripts(true)
		}
		if _, err := chromedp.Run(pc.ctx, chromedp.Evaluate[bool](pc.axe+"\n;true")); err != nil {
			t.Fatalf("%s: loading axe: %v", name, err)
		}
		raw, err := chromedp.Run(pc.ctx, chromedp.Evaluate[string](`axe.run(document, `+axeOptions+`).then(r => JSON.stringify(r))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: axe: %v", name, err)
		}
		if pc.scriptsOff {
			pc.scripts(false)
		}
		var res axeResult
		if err := json.Unmarshal([]byte(raw), &res); err != nil {
			t.Fatal(err)
		}
		for _, v := range res.Violations {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, fmt.Sprint(n.Target...))
			}
			msg := fmt.Sprintf("%s at %d px: axe %s (%s): %s — %s", name, width, v.ID, v.Impact, v.Help, strings.Join(where, ", "))
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Error(msg)
			} else {
				t.Log(msg)
			}
		}
	}
}

func (pc *pageChecker) scripts(on bool) {
	pc.t.Helper()
	if _, err := chromedp.Call(pc.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
		pc.t.Fatal(err)
	}
}

// Every page a person reaches, in a real browser, walked through as an
// organizer and a voter would: each is checked at 390 and 1280 px with
// axe-core.
func TestPagesAccessible(t *testing.T) {
	a := startApp(t)
	pc := &pageChecker{t: t, axe: axeSource(t), dir: os.Getenv("RUNOFF_SCREENSHOTS")}
	if pc.dir != "" {
		if err := os.MkdirAll(pc.dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := newBrowser(t, 3*time.Minute)
	pc.ctx = ctx
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	// text reads an element's text in one step in the page, so an htmx
	// swap in between (pages that follow a change poll and replace
	// themselves) cannot leave it holding a node that is gone.
	text := func(sel string) string {
		t.Helper()
		js, _ := json.Marshal(sel)
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+string(js)+`) || {innerText: ""}).innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	do("home", chromedp.Navigate(a.base+"/"))
	pc.check("home")
	do("sign-up form", chromedp.Navigate(a.base+"/signup"))
	pc.check("signup")
	do("sign-up with mistakes", chromedp.SendKeys(css(`#email`), "not-an-email"), chromedp.SendKeys(css(`#password`), "short"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("form[action='/signup']").noValidate = true`),
		chromedp.Submit(css(`#password`)), chromedp.WaitVisible(css(`.field-error`)))
	pc.check("signup-errors")
	do("sign up", chromedp.Navigate(a.base+"/signup"), chromedp.SendKeys(css(`#email`), "pages@example.org"),
		chromedp.SendKeys(css(`#password`), "correct horse battery"),
		chromedp.Submit(css(`#password`)), chromedp.WaitVisible(css(`a[href="/admin/elections/new"]`)))
	pc.check("admin-empty")
	do("new election form", chromedp.Navigate(a.base+"/admin/elections/new"), chromedp.WaitVisible(css(`#title`)))
	pc.check("election-new")
	do("create", chromedp.SendKeys(css(`#title`), "Where should the capital be?"),
		chromedp.SendKeys(css(`#candidates`), "Memphis\nNashville\nChattanooga\nKnoxville"),
		chromedp.Submit(css(`#title`)), chromedp.WaitVisible(css(`code.url`)))
	pc.check("election-admin")
	electionID := regexp.MustCompile(`/admin/elections/([0-9a-f-]{36})`).FindStringSubmatch(location())
	if electionID == nil {
		t.Fatalf("not on the election's page: %s", location())
	}
	do("admin list", chromedp.Navigate(a.base+"/admin"), chromedp.WaitVisible(css(`main`)))
	pc.check("admin-list")
	do("held messages", chromedp.Navigate(a.base+"/admin/elections/"+electionID[1]+"/dead-letters"), chromedp.WaitVisible(css(`h1`)))
	pc.check("held-messages")

	// Another organizer's election under an ID already taken: refused, and
	// the page that waits for it says so.
	do("sign out", chromedp.Submit(css(`form[action="/logout"] button`)), chromedp.WaitVisible(css(`a[href="/signup"]`)))
	do("sign up again", chromedp.Navigate(a.base+"/signup"), chromedp.SendKeys(css(`#email`), "other@example.org"),
		chromedp.SendKeys(css(`#password`), "correct horse battery"),
		chromedp.Submit(css(`#password`)), chromedp.WaitVisible(css(`a[href="/admin/elections/new"]`)))
	do("refused election", chromedp.Navigate(a.base+"/admin/elections/new"), chromedp.WaitVisible(css(`#title`)),
		chromedp.SetAttributeValue(css(`input[name="election_id"]`), "value", electionID[1]),
		chromedp.SendKeys(css(`#title`), "A second election"), chromedp.SendKeys(css(`#candidates`), "Yes\nNo"),
		chromedp.Submit(css(`#title`)), chromedp.WaitVisible(css(`#election`)))
	waitUntilText := func(sel, want string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		// The pages waited on follow the worker by themselves (htmx
		// polling), so this only reads them again; a read that meets the
		// page being swapped is tried again.
		js, _ := json.Marshal(sel)
		for {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+string(js)+`) || {innerText: ""}).innerText`))
			if err == nil && strings.Contains(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never said %q: %s (%v)", sel, want, got, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitUntilText("main", "could not be created")
	pc.check("election-refused")

	do("ballot", chromedp.Navigate(a.base+"/e/"+electionID[1]), chromedp.WaitVisible(css(`form`)))
	pc.check("ballot")
	// An empty ballot sent past the ranking control (which would stop it)
	// comes back with the server's error summary.
	do("empty ballot", chromedp.Evaluate[chromedp.Void](`HTMLFormElement.prototype.submit.call(document.querySelector("form[data-ballot]"))`),
		chromedp.WaitVisible(css(`#error-summary`)))
	pc.check("ballot-error")
	do("rank", chromedp.Navigate(a.base+"/e/"+electionID[1]), chromedp.WaitVisible(css(`[data-ranker]`)), chromedp.Click(css(`button[data-act="add"][data-name="Nashville"]`)),
		chromedp.Click(css(`button[data-act="add"][data-name="Knoxville"]`)))
	pc.check("ballot-ranked")
	do("review", chromedp.Click(css(`form[data-ballot] button[type="submit"]`)), chromedp.WaitVisible(css(`ol.ranking.review`)))
	pc.check("review")
	do("cast", chromedp.Click(css(`form.review-actions button:not([formaction])`)), chromedp.WaitVisible(css(`.badge.counted`)))
	pc.check("receipt")
	do("results", chromedp.Navigate(a.base+"/e/"+electionID[1]+"/results"))
	waitUntilText("main", "Round 1")
	pc.check("results")
	do("results card to embed", chromedp.Navigate(a.base+"/e/"+electionID[1]+"/results/embed"), chromedp.WaitVisible(css(`.banner`)))
	pc.check("results-embed")
	do("printable results", chromedp.Navigate(a.base+"/e/"+electionID[1]+"/results/print"), chromedp.WaitVisible(css(`.print-summary`)))
	pc.check("results-print")

	// A draft, its audit log, then opened and closed.
	do("new draft", chromedp.Navigate(a.base+"/admin/elections/new"), chromedp.WaitVisible(css(`#title`)),
		chromedp.SendKeys(css(`#title`), "Treasurer"), chromedp.SendKeys(css(`#candidates`), "Lin | Ran the books in 2025\nMo"),
		chromedp.Click(css(`input[name="draft"][value="on"]`)),
		chromedp.Submit(css(`#title`)), chromedp.WaitVisible(css(`#election`)))
	waitUntilText("main", "Edit this draft")
	pc.check("election-draft")
	draftID := regexp.MustCompile(`/admin/elections/([0-9a-f-]{36})`).FindStringSubmatch(location())
	do("open the draft", chromedp.Submit(css(`form[action$="/open"] button`)), chromedp.WaitVisible(css(`#election`)))
	waitUntilText("main", "Your change is saved.")
	do("close it", chromedp.Navigate(a.base+"/admin/elections/"+draftID[1]), chromedp.WaitVisible(css(`form[action$="/close"] button`)),
		chromedp.Submit(css(`form[action$="/close"] button`)), chromedp.WaitVisible(css(`#election`)))
	waitUntilText("main", "Your change is saved.")
	pc.check("election-closed")
	do("closed ballot", chromedp.Navigate(a.base+"/e/"+draftID[1]), chromedp.WaitVisible(css(`h1`)))
	pc.check("ballot-closed")
	do("audit log", chromedp.Navigate(a.base+"/admin/elections/"+draftID[1]+"/audit"), chromedp.WaitVisible(css(`h1`)))
	if !strings.Contains(text("main"), "Closed voting") {
		t.Fatalf("audit log lacks the close:\n%s", text("main"))
	}
	pc.check("audit")

	// Paper ballots into the closed election, and the password page.
	paper := filepath.Join(t.TempDir(), "paper.csv")
	if err := os.WriteFile(paper, []byte("rank1,rank2\nLin,Mo\nMo,\nLin,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	do("import", chromedp.Navigate(a.base+"/admin/elections/"+draftID[1]), chromedp.WaitVisible(css(`#file`)),
		chromedp.SetUploadFiles(css(`#file`), []string{paper}), chromedp.Submit(css(`#file`)), chromedp.WaitVisible(css(`#import`)))
	waitUntilText("main", "All 3 ballots are stored")
	pc.check("import")
	// A voting system's export (a CDF report) naming "Lin Ng": refused
	// with the map of names marked, then imported with it mapped; the
	// progress page says what was made of the file.
	cdf := filepath.Join(t.TempDir(), "cvr.json")
	if err := os.WriteFile(cdf, []byte(`{"Election":[{"Candidate":[{"@id":"k1","Name":"Lin Ng"},{"@id":"k2","Name":"Mo"}],
		"Contest":[{"@id":"c1","Name":"Treasurer","ContestSelection":[{"@id":"s1","CandidateIds":["k1"]},{"@id":"s2","CandidateIds":["k2"]}]}]}],
		"CVR":[{"CurrentSnapshotId":"a","CVRSnapshot":[{"@id":"a","CVRContest":[{"ContestId":"c1","CVRContestSelection":[{"ContestSelectionId":"s1","Rank":1},{"ContestSelectionId":"s2","Rank":1},{"ContestSelectionId":"s1","Rank":2}]}]}]},
		{"CurrentSnapshotId":"b","CVRSnapshot":[{"@id":"b","CVRContest":[{"ContestId":"c1","CVRContestSelection":[{"ContestSelectionId":"s2","Rank":1}]}]}]},
		{"CurrentSnapshotId":"c","CVRSnapshot":[{"@id":"c","CVRContest":[{"ContestId":"c1","CVRContestSelection":[]}]}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	do("export refused", chromedp.Navigate(a.base+"/admin/elections/"+draftID[1]), chromedp.WaitVisible(css(`#file`)),
		chromedp.SetUploadFiles(css(`#file`), []string{cdf}), chromedp.SendKeys(css(`#import-names`), "Lin Ng = Linus"),
		chromedp.Submit(css(`#file`)), chromedp.WaitVisible(css(`#import-names-error`)))
	pc.check("import-refused")
	do("export", chromedp.Navigate(a.base+"/admin/elections/"+draftID[1]), chromedp.WaitVisible(css(`#file`)),
		chromedp.SetUploadFiles(css(`#file`), []string{cdf}), chromedp.SendKeys(css(`#import-names`), "Lin Ng = Lin"),
		chromedp.Submit(css(`#file`)), chromedp.WaitVisible(css(`#import`)))
	waitUntilText("main", "All 2 ballots are stored")
	if !strings.Contains(text("main"), "1 ballot marked more than one candidate") {
		t.Fatalf("the export's progress page lacks its notes:\n%s", text("main"))
	}
	pc.check("import-export")
	do("password page", chromedp.Navigate(a.base+"/account/password"), chromedp.WaitVisible(css(`#current`)))
	pc.check("password")
	do("forgot page", chromedp.Navigate(a.base+"/reset"), chromedp.WaitVisible(css(`h1`)))
	pc.check("forgot")

	// Voter keys, with changes allowed: issue, print, vote with a key,
	// change the vote.
	do("new keys election", chromedp.Navigate(a.base+"/admin/elections/new"), chromedp.WaitVisible(css(`#title`)),
		chromedp.SendKeys(css(`#title`), "Club board"), chromedp.SendKeys(css(`#candidates`), "Ada\nGrace\nKaty"),
		chromedp.Click(css(`input[name="access"][value="keys"]`)), chromedp.Click(css(`input[name="changes"]`)),
		chromedp.Submit(css(`#title`)), chromedp.WaitVisible(css(`#election`)))
	waitUntilText("main", "Voter keys")
	keysID := regexp.MustCompile(`/admin/elections/([0-9a-f-]{36})`).FindStringSubmatch(location())
	if keysID == nil {
		t.Fatalf("not on the keys election's page: %s", location())
	}
	do("issue keys", chromedp.SendKeys(css(`#voters`), "Ada Lovelace\nGrace Hopper\nKaty Johnson"),
		chromedp.Submit(css(`#voters`)), chromedp.WaitVisible(css(`#keys`)))
	waitUntilText("#keys", "of 3 keys used")
	pc.check("keys-admin")
	do("print keys", chromedp.Navigate(a.base+"/admin/elections/"+keysID[1]+"/keys/print"), chromedp.WaitVisible(css(`.key-card img`)))
	pc.check("keys-print")
	key := text(`.key-card .key`)
	do("ballot without a key", chromedp.Navigate(a.base+"/e/"+keysID[1]), chromedp.WaitVisible(css(`#key`)))
	pc.check("ballot-key-needed")
	do("ballot with a wrong key", chromedp.Navigate(a.base+"/e/"+keysID[1]+"?key=ABCD-EFGH-IJKL-MNOP"), chromedp.WaitVisible(css(`.error-summary`)))
	pc.check("ballot-key-wrong")
	do("keyed ballot", chromedp.Navigate(a.base+"/e/"+keysID[1]+"?key="+key), chromedp.WaitVisible(css(`form[data-ballot]`)))
	pc.check("ballot-keyed")
	do("vote with a key", chromedp.Click(css(`button[data-act="add"][data-name="Ada"]`)),
		chromedp.Click(css(`form[data-ballot] button[type="submit"]`)), chromedp.WaitVisible(css(`ol.ranking.review`)),
		chromedp.Click(css(`form.review-actions button:not([formaction])`)), chromedp.WaitVisible(css(`.badge.counted`)))
	firstReceipt := location()
	do("keyed ballot again", chromedp.Navigate(a.base+"/e/"+keysID[1]+"?key="+key), chromedp.WaitVisible(css(`form[data-ballot]`)))
	pc.check("ballot-keyed-again")
	do("change the vote", chromedp.Click(css(`button[data-act="add"][data-name="Katy"]`)),
		chromedp.Click(css(`form[data-ballot] button[type="submit"]`)), chromedp.WaitVisible(css(`ol.ranking.review`)),
		chromedp.Click(css(`form.review-actions button:not([formaction])`)), chromedp.WaitVisible(css(`.badge.counted`)))
	do("replaced receipt", chromedp.Navigate(firstReceipt), chromedp.WaitVisible(css(`.badge.replaced`)))
	pc.check("receipt-replaced")
	do("admin list with keys", chromedp.Navigate(a.base+"/admin"), chromedp.WaitVisible(css(`main`)))
	if got := text("main"); !strings.Contains(got, "1 of 3 keys used") {
		t.Fatalf("the admin list does not say 1 of 3 keys used:\n%s", got)
	}

	do("sign-in page", chromedp.Navigate(a.base+"/login"), chromedp.WaitVisible(css(`#email`)))
	pc.check("login")
	do("not found", chromedp.Navigate(a.base+"/no/such/page"), chromedp.WaitVisible(css(`h1`)))
	pc.check("not-found")
	t.Logf("checked %d pages at 390 and 1280 px: %s", len(pc.seen), strings.Join(pc.seen, ", "))
}
