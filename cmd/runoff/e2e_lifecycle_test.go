package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
	"github.com/runoff-vote/runoff/rcv"
	"github.com/runoff-vote/runoff/worker/smtptest"
)

// page fetches a page's body.
func (a *app) page(c *http.Client, path string) string {
	a.t.Helper()
	_, body := a.get(c, path)
	return body
}

// An election's whole life through the real web and worker: a draft
// edited, opened, voted in, closed, its results kept from the public until
// the close, and its count marked final.
func TestElectionLifecycleEndToEnd(t *testing.T) {
	a := startApp(t)
	org := browser()
	if code, _ := a.post(org, "/signup", url.Values{"email": {"life@example.org"}, "password": {"correct horse battery"}}); code != 303 {
		t.Fatalf("signup: %d", code)
	}
	code, loc := a.post(org, "/admin/elections", url.Values{"title": {"Draft"}, "candidates": {"Ada\nGrace"}, "draft": {"on"}, "results": {"after_close"}})
	if code != 303 {
		t.Fatalf("create: %d", code)
	}
	id := strings.TrimPrefix(loc, "/admin/elections/")
	rabbitmqtest.WaitFor(t, "draft stored", func() bool { return strings.Contains(a.page(org, loc), "Edit this draft") })
	if body := a.page(browser(), "/e/"+id); !strings.Contains(body, "has not opened yet") || strings.Contains(body, "data-ballot") {
		t.Fatalf("a draft's ballot page:\n%s", body)
	}

	waitSaved := func(what, loc string) {
		t.Helper()
		if !strings.Contains(loc, "?change=") {
			t.Fatalf("%s: redirected to %s", what, loc)
		}
		rabbitmqtest.WaitFor(t, what+" saved", func() bool { return strings.Contains(a.page(org, loc), "Your change is saved.") })
	}
	_, loc = a.post(org, "/admin/elections/"+id, url.Values{"title": {"Board"}, "candidates": {"Ada\nGrace\nLinus"}, "results": {"after_close"}})
	waitSaved("edit", loc)
	_, loc = a.post(org, "/admin/elections/"+id+"/open", nil)
	waitSaved("open", loc)

	body := a.page(browser(), "/e/"+id)
	ids := map[string]string{}
	for _, m := range optionRE.FindAllStringSubmatch(body, -1) {
		ids[m[2]] = m[1]
	}
	if len(ids) != 3 || !strings.Contains(body, "<h1>Board</h1>") {
		t.Fatalf("the opened ballot shows %v:\n%s", ids, body)
	}
	for _, r := range [][]string{{"Grace", "Ada"}, {"Grace"}, {"Ada", "Linus"}} {
		a.vote(id, ids, r)
	}
	if body := a.page(browser(), "/e/"+id+"/results"); !strings.Contains(body, "publishes these results when voting closes") {
		t.Fatalf("public results while open:\n%s", body)
	}
	_, loc = a.post(org, "/admin/elections/"+id+"/close", nil)
	waitSaved("close", loc)
	if code, _ := a.post(browser(), "/e/"+id+"/ballots", url.Values{"rank1": {ids["Ada"]}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("a ballot after the close: %d", code)
	}
	rabbitmqtest.WaitFor(t, "public results, final", func() bool {
		body := a.page(browser(), "/e/"+id+"/results")
		return strings.Contains(body, `<p class="banner-text">Grace wins `) && strings.Contains(body, "Final count")
	})
}

// The organizer's exports count again to the same result: the counted
// ballots (a formula-like name neutralised) and the rules, through
// runoff tabulate, give the rounds the site shows.
func TestExportsCountAgain(t *testing.T) {
	a := startApp(t)
	org := browser()
	if code, _ := a.post(org, "/signup", url.Values{"email": {"exports@example.org"}, "password": {"correct horse battery"}}); code != 303 {
		t.Fatalf("signup: %d", code)
	}
	_, loc := a.post(org, "/admin/elections", url.Values{"title": {"Exports"}, "candidates": {"=HYPERLINK(\"x\")\nGrace\nLinus"}})
	id := strings.TrimPrefix(loc, "/admin/elections/")
	rabbitmqtest.WaitFor(t, "election stored", func() bool { return strings.Contains(a.page(org, loc), "/e/"+id) })
	body := a.page(browser(), "/e/"+id)
	ids := map[string]string{}
	for _, m := range optionRE.FindAllStringSubmatch(body, -1) {
		ids[html.UnescapeString(m[2])] = m[1]
	}
	rankings := [][]string{{"Grace", "Linus"}, {"=HYPERLINK(\"x\")"}, {"Linus", "=HYPERLINK(\"x\")"}, {"Grace"}, {"Linus", "Grace"}, {"=HYPERLINK(\"x\")", "Linus"}, {"Linus"}}
	for _, r := range rankings {
		a.vote(id, ids, r)
	}
	rabbitmqtest.WaitFor(t, "all counted", func() bool {
		var rep rcv.Report
		return json.Unmarshal([]byte(a.page(browser(), "/e/"+id+"/results.json")), &rep) == nil &&
			rep.Summary.TotalNumBallots == fmt.Sprint(len(rankings))
	})
	dir := t.TempDir()
	ballots := a.page(org, "/admin/elections/"+id+"/ballots.csv")
	if !strings.Contains(ballots, `"'=HYPERLINK(""x"")"`) {
		t.Fatalf("ballots.csv does not neutralise the formula:\n%s", ballots)
	}
	if err := os.WriteFile(filepath.Join(dir, "ballots.csv"), []byte(ballots), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.json"), []byte(a.page(org, "/admin/elections/"+id+"/rules.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"tabulate", "--rules", filepath.Join(dir, "rules.json"), filepath.Join(dir, "ballots.csv")}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatalf("tabulate: %v", err)
	}
	var again rcv.Report
	if err := json.Unmarshal([]byte(out.String()), &again); err != nil {
		t.Fatal(err)
	}
	site := a.report(id)
	if !reflect.DeepEqual(again.Results, site.Results) || !reflect.DeepEqual(again.Runoff.Winners, site.Runoff.Winners) {
		t.Fatalf("counted again:\n%+v\nthe site:\n%+v", again.Results, site.Results)
	}
}

// Without email, the operator prints a one-time password link; it works
// once, through the real web.
func TestAdminResetLink(t *testing.T) {
	a := startApp(t)
	if code, _ := a.post(browser(), "/signup", url.Values{"email": {"forgetful@example.org"}, "password": {"correct horse battery"}}); code != 303 {
		t.Fatalf("signup: %d", code)
	}
	var out strings.Builder
	err := run(context.Background(), []string{"admin", "reset-link", "Forgetful@Example.org", "--base", a.base}, a.getenv, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	link := strings.SplitN(out.String(), "\n", 2)[0]
	if !strings.HasPrefix(link, a.base+"/reset/") {
		t.Fatalf("printed %q", out.String())
	}
	path := strings.TrimPrefix(link, a.base)
	c := browser()
	if code, loc := a.post(c, path, url.Values{"password": {"a brand new password"}}); code != 303 || loc != "/admin?password=changed" {
		t.Fatalf("reset: %d %s", code, loc)
	}
	if code, _ := a.post(browser(), "/login", url.Values{"email": {"forgetful@example.org"}, "password": {"a brand new password"}}); code != 303 {
		t.Fatalf("sign in with the new password: %d", code)
	}
	if code, _ := a.post(browser(), path, url.Values{"password": {"yet another password"}}); code != http.StatusNotFound {
		t.Fatalf("the link again: %d", code)
	}
	err = run(context.Background(), []string{"admin", "reset-link", "nobody@example.org"}, a.getenv, io.Discard, io.Discard)
	if err == nil || err.Error() != "admin: no organizer account with the email nobody@example.org" {
		t.Fatalf("unknown email: %v", err)
	}
}

// uploadFile posts a file as the form field "file".
func (a *app) uploadFile(c *http.Client, path, name string, data []byte) (int, string) {
	a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	resp, err := c.Post(a.base+path, mw.FormDataContentType(), &body)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

// 100,000 paper ballots imported through the real web and worker: the
// progress page reaches 100%, and the results equal runoff tabulate on the
// same file with the election's rules. A file with one bad line among
// thousands stores nothing and names the line.
func TestImportPaperBallotsEndToEnd(t *testing.T) {
	a := startApp(t)
	org := browser()
	if code, _ := a.post(org, "/signup", url.Values{"email": {"paper@example.org"}, "password": {"correct horse battery"}}); code != 303 {
		t.Fatalf("signup: %d", code)
	}
	names := []string{"Memphis", "Nashville", "Chattanooga", "Knoxville", "Jackson"}
	_, loc := a.post(org, "/admin/elections", url.Values{"title": {"Paper"}, "candidates": {strings.Join(names, "\n")}})
	id := strings.TrimPrefix(loc, "/admin/elections/")
	rabbitmqtest.WaitFor(t, "election stored", func() bool { return strings.Contains(a.page(org, loc), "Paper ballots") })

	rng := rand.New(rand.NewPCG(7, 11))
	var file bytes.Buffer
	file.WriteString("rank1,rank2,rank3,rank4,rank5\n")
	const n = 100_000
	for range n {
		perm := rng.Perm(len(names))
		k := 1 + rng.IntN(len(names))
		cells := make([]string, len(names))
		for i := range k {
			cells[i] = names[perm[i]]
		}
		file.WriteString(strings.Join(cells, ",") + "\n")
	}
	data := file.Bytes()

	bad := bytes.Replace(data, []byte("\n"), []byte("\nMemphis,Atlantis\n"), 5000)
	bad = bytes.Replace(bad, []byte("\nMemphis,Atlantis\n"), []byte("\n"), 4999) // one bad line, at line 5,001
	if code, body := a.uploadFile(org, "/admin/elections/"+id+"/import", "bad.csv", bad); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Nothing was imported: line") || !strings.Contains(body, html.EscapeString(`names "Atlantis", who is not a candidate`)) {
		t.Fatalf("bad file: %d", code)
	}

	code, progress := a.uploadFile(org, "/admin/elections/"+id+"/import", "paper.csv", data)
	if code != http.StatusSeeOther || !strings.Contains(progress, "/imports/") {
		t.Fatalf("import: %d %s", code, progress)
	}
	rabbitmqtest.WaitForWithin(t, 5*time.Minute, "the import at 100%", func() bool {
		return strings.Contains(a.page(org, progress), fmt.Sprintf("All %d ballots are stored", n))
	})
	var site rcv.Report
	rabbitmqtest.WaitFor(t, "results of all the paper ballots", func() bool {
		return json.Unmarshal([]byte(a.page(browser(), "/e/"+id+"/results.json")), &site) == nil && site.Summary.TotalNumBallots == fmt.Sprint(n)
	})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "paper.csv"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "rules.json"), []byte(a.page(org, "/admin/elections/"+id+"/rules.json")), 0o644)
	var out strings.Builder
	if err := run(context.Background(), []string{"tabulate", "--rules", filepath.Join(dir, "rules.json"), filepath.Join(dir, "paper.csv")}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatalf("tabulate: %v", err)
	}
	var direct rcv.Report
	if err := json.Unmarshal([]byte(out.String()), &direct); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(direct.Results, site.Results) || !reflect.DeepEqual(direct.Runoff.Winners, site.Runoff.Winners) {
		t.Fatalf("runoff tabulate on the file:\n%+v\nthe site:\n%+v", direct.Results, site.Results)
	}
}

// With SMTP_URL set, an organizer asks for a password link by email: the
// web publishes the request, the worker makes the link and mails it, and
// the link works once.
func TestPasswordLinkByEmail(t *testing.T) {
	mail := smtptest.Start(t)
	a := startAppWith(t, map[string]string{"SMTP_URL": mail.URL()})
	if code, _ := a.post(browser(), "/signup", url.Values{"email": {"mail@example.org"}, "password": {"correct horse battery"}}); code != 303 {
		t.Fatalf("signup: %d", code)
	}
	if code, body := a.post(browser(), "/reset", url.Values{"email": {"Mail@Example.org"}}); code != 200 {
		t.Fatalf("forgot: %d %s", code, body)
	}
	var link string
	rabbitmqtest.WaitFor(t, "the email with the link", func() bool {
		for _, m := range mail.Messages() {
			if m.To[0] == "mail@example.org" {
				link = regexp.MustCompile(`/reset/[A-Za-z0-9_-]{43}`).FindString(m.Data)
			}
		}
		return link != ""
	})
	if code, loc := a.post(browser(), link, url.Values{"password": {"emailed new password"}}); code != 303 || loc != "/admin?password=changed" {
		t.Fatalf("reset: %d %s", code, loc)
	}
	if code, _ := a.post(browser(), "/login", url.Values{"email": {"mail@example.org"}, "password": {"emailed new password"}}); code != 303 {
		t.Fatalf("sign in with the new password: %d", code)
	}
}

// Voters invited by email: the organizer issues keys for two addresses and
// sends the invitations; the worker derives each key and mails it; a voter
// votes with the link from their email.
func TestInvitationsByEmail(t *testing.T) {
	mail := smtptest.Start(t)
	a := startAppWith(t, map[string]string{"SMTP_URL": mail.URL()})
	org := browser()
	if code, _ := a.post(org, "/signup", url.Values{"email": {"inviter@example.org"}, "password": {"correct horse battery"}}); code != 303 {
		t.Fatalf("signup: %d", code)
	}
	_, loc := a.post(org, "/admin/elections", url.Values{"title": {"Club"}, "candidates": {"Ada\nGrace"}, "access": {"keys"}})
	id := strings.TrimPrefix(loc, "/admin/elections/")
	rabbitmqtest.WaitFor(t, "election stored", func() bool { return strings.Contains(a.page(org, loc), `id="keys"`) })
	if code, _ := a.post(org, loc+"/keys", url.Values{"voters": {"ann@example.org\nBob <not an email>\nbo@example.org"}}); code != 303 {
		t.Fatalf("issue keys: %d", code)
	}
	rabbitmqtest.WaitFor(t, "keys issued", func() bool { return strings.Contains(a.page(org, loc), "of 3 keys used") })
	code, where := a.post(org, loc+"/keys/invite", nil)
	if code != 303 || !strings.Contains(where, "inviting=2") {
		t.Fatalf("invite: %d %s", code, where)
	}
	rabbitmqtest.WaitFor(t, "two invitations sent", func() bool { return strings.Contains(a.page(org, where), "2 of 2 invitations sent") })
	var link string
	for _, m := range mail.Messages() {
		if m.To[0] == "ann@example.org" {
			link = regexp.MustCompile(`/e/[0-9a-f-]{36}\?key=[A-Z0-9-]{19}`).FindString(m.Data)
		}
	}
	if len(mail.Messages()) != 2 || link == "" {
		t.Fatalf("%d mails, link %q", len(mail.Messages()), link)
	}
	body := a.page(browser(), link)
	m := optionRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the ballot from the invitation:\n%s", body)
	}
	key := strings.SplitN(link, "key=", 2)[1]
	if code, receipt := a.post(browser(), "/e/"+id+"/ballots", url.Values{"key": {key}, "rank1": {m[1]}}); code != 303 || !strings.HasPrefix(receipt, "/b/") {
		t.Fatalf("vote with the invitation's key: %d %s", code, receipt)
	}
}
