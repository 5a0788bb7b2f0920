package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

// A voter in a real browser: the enhancement script reads the ranking back
// as it is marked, the ballot is cast while the worker is down, and the
// receipt turns from queued to counted in place (htmx polling) once the
// worker is back, with no reload.
func TestBrowserVoteAndReceipt(t *testing.T) {
	a := startApp(t)
	electionID, _ := a.setUpElection("Apple", "Banana", "Cherry")
	a.stopWorker()

	ctx := newBrowser(t, 2*time.Minute)

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.base+"/e/"+electionID),
		chromedp.Click(css(`input[name="rank1"][data-name="Banana"]`)),
		chromedp.Click(css(`input[name="rank2"][data-name="Apple"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	summary, err := chromedp.Run(ctx, chromedp.Text(css(`[data-ranking-summary]`)))
	if err != nil {
		t.Fatal(err)
	}
	if summary != "Your ranking: 1. Banana, 2. Apple" {
		t.Errorf("ranking summary = %q", summary)
	}
	if err := chromedp.Do(ctx, chromedp.Click(css(`button[type="submit"]`)), chromedp.WaitVisible(css(`#receipt`))); err != nil {
		t.Fatal(err)
	}
	receipt, err := chromedp.Run(ctx, chromedp.Text(css(`#receipt`)))
	if err != nil {
		t.Fatal(err)
	}
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(receipt, "queued") || !strings.Contains(receipt, "Banana") || !strings.Contains(url, "/b/") {
		t.Fatalf("after casting, at %s:\n%s", url, receipt)
	}

	// Mark the page, so that a full reload (the no-JavaScript fallback)
	// would show: htmx must update the receipt in place.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.runoffMark = 1`)); err != nil {
		t.Fatal(err)
	}
	a.startWorker()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(css(`.badge.counted`))); err != nil {
		t.Fatal(err)
	}
	receipt, err = chromedp.Run(ctx, chromedp.Text(css(`#receipt`)))
	if err != nil {
		t.Fatal(err)
	}
	mark, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.runoffMark || 0`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(receipt, "has been counted") || mark != 1 {
		t.Fatalf("receipt after the worker came back (mark %d):\n%s", mark, receipt)
	}
}
