package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
	"github.com/runoff-vote/runoff/rcv"
	"github.com/runoff-vote/runoff/store/storetest"
)

// app is Runoff running in this test process exactly as it runs in
// production — the real run functions, the real Postgres and RabbitMQ — on
// a database and queues of the test's own.
type app struct {
	t      *testing.T
	base   string
	getenv func(string) string
	worker context.CancelFunc
	done   chan error
}

func startApp(t *testing.T) *app {
	t.Helper()
	return startAppWith(t, nil)
}

// startAppWith is startApp with more of the environment.
func startAppWith(t *testing.T, extra map[string]string) *app {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL":        storetest.NewURL(t),
		"AMQP_URL":            rabbitmqtest.URL(),
		"RUNOFF_QUEUE_PREFIX": rabbitmqtest.Prefix(t),
		"SESSION_KEY":         "e2e-session-key-0123456789abcdef0123456789",
		"PORT":                "0",
		// info, for the web's "listening" line that tells the port.
		"LOG_LEVEL": "info",
	}
	for k, v := range extra {
		env[k] = v
	}
	a := &app{t: t, getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := run(ctx, []string{"migrate"}, a.getenv, io.Discard, testWriter{t}); err != nil {
		t.Fatal(err)
	}
	// The web runs as the binary runs it, "runoff web" with PORT=0; the
	// port it got is in its log.
	log := &listenWatcher{w: testWriter{t}, port: make(chan string, 1)}
	webDone := make(chan error, 1)
	go func() { webDone <- run(ctx, []string{"web"}, a.getenv, io.Discard, log) }()
	select {
	case port := <-log.port:
		a.base = "http://127.0.0.1:" + port
	case err := <-webDone:
		t.Fatalf("web did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-webDone; err != nil {
			t.Errorf("web: %v", err)
		}
	})
	a.startWorker()
	t.Cleanup(a.stopWorker)
	return a
}

func (a *app) startWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	a.worker, a.done = cancel, make(chan error, 1)
	go func() { a.done <- run(ctx, []string{"worker"}, a.getenv, io.Discard, testWriter{a.t}) }()
}

// stopWorker stops the worker the way SIGTERM does, and waits for it.
func (a *app) stopWorker() {
	if a.worker == nil {
		return
	}
	a.worker()
	if err := <-a.done; err != nil {
		a.t.Errorf("worker: %v", err)
	}
	a.worker = nil
}

// listenWatcher passes a web's log on, and sends the port of its
// "listening" line to port, once.
type listenWatcher struct {
	w       io.Writer
	mu      sync.Mutex
	partial []byte
	port    chan string
}

var listeningRE = regexp.MustCompile(`msg=listening .*addr=\S*:(\d+)`)

func (l *listenWatcher) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if m := listeningRE.FindStringSubmatch(line); m != nil && l.port != nil {
			l.port <- m[1]
			l.port = nil
		}
	}
	return l.w.Write(p)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// browser is a client that keeps cookies and shows redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (a *app) get(c *http.Client, path string) (int, string) {
	a.t.Helper()
	resp, err := c.Get(a.base + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (a *app) post(c *http.Client, path string, form url.Values) (int, string) {
	a.t.Helper()
	resp, err := c.PostForm(a.base+path, form)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location")
}

var optionRE = regexp.MustCompile(`name="rank1" value="([0-9a-f-]{36})" data-name="([^"]+)"`)

// setUpElection signs an organizer up, creates an election through the
// form, waits for the worker to store it, and reads the candidates' IDs
// off the public ballot.
func (a *app) setUpElection(names ...string) (electionID string, ids map[string]string) {
	a.t.Helper()
	return a.setUpElectionWith(nil, names...)
}

// setUpElectionWith is setUpElection with more of the election's settings
// (form fields); a name may carry a description ("Name | about them").
func (a *app) setUpElectionWith(settings url.Values, names ...string) (electionID string, ids map[string]string) {
	a.t.Helper()
	org := browser()
	if code, loc := a.post(org, "/signup", url.Values{"email": {"org@example.org"}, "password": {"correct horse battery"}}); code != 303 || loc != "/admin" {
		a.t.Fatalf("signup: %d %s", code, loc)
	}
	form := url.Values{"title": {"Capital"}, "candidates": {strings.Join(names, "\n")}, "seats": {"1"}}
	for k, v := range settings {
		form[k] = v
	}
	code, loc := a.post(org, "/admin/elections", form)
	if code != 303 || !strings.HasPrefix(loc, "/admin/elections/") {
		a.t.Fatalf("create election: %d %s", code, loc)
	}
	electionID = strings.TrimPrefix(loc, "/admin/elections/")
	rabbitmqtest.WaitFor(a.t, "election stored", func() bool {
		code, body := a.get(org, loc)
		return code == 200 && strings.Contains(body, "/e/"+electionID)
	})
	code, body := a.get(http.DefaultClient, "/e/"+electionID)
	if code != 200 {
		a.t.Fatalf("ballot page: %d", code)
	}
	ids = map[string]string{}
	for _, m := range optionRE.FindAllStringSubmatch(body, -1) {
		ids[m[2]] = m[1]
	}
	if len(ids) != len(names) {
		a.t.Fatalf("ballot shows %d candidates, want %d", len(ids), len(names))
	}
	return electionID, ids
}

// vote casts a ballot as a voter would, returning the receipt path.
func (a *app) vote(electionID string, ids map[string]string, ranking []string) string {
	a.t.Helper()
	form := url.Values{}
	for i, name := range ranking {
		form.Set(fmt.Sprintf("rank%d", i+1), ids[name])
	}
	code, loc := a.post(browser(), "/e/"+electionID+"/ballots", form)
	if code != 303 || !strings.HasPrefix(loc, "/b/") {
		a.t.Fatalf("vote: %d %s", code, loc)
	}
	return loc
}

func (a *app) report(electionID string) rcv.Report {
	a.t.Helper()
	code, body := a.get(http.DefaultClient, "/e/"+electionID+"/results.json")
	if code != 200 {
		a.t.Fatalf("results.json: %d %s", code, body)
	}
	var rep rcv.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		a.t.Fatal(err)
	}
	return rep
}

// Sign up, create an election, vote 50 times over HTTP, and see the results
// page and results.json report exactly those 50 ballots — the same rounds
// the tabulator gives for them.
func TestEndToEnd(t *testing.T) {
	a := startApp(t)
	names := []string{"Memphis", "Nashville", "Chattanooga", "Knoxville"}
	electionID, ids := a.setUpElection(names...)

	rng := rand.New(rand.NewPCG(50, 50))
	var cast []rcv.Ballot
	var receipts []string
	for range 50 {
		perm := rng.Perm(len(names))[:1+rng.IntN(len(names))]
		ranking := make([]string, len(perm))
		for i, p := range perm {
			ranking[i] = names[p]
		}
		receipts = append(receipts, a.vote(electionID, ids, ranking))
		cast = append(cast, rcv.Ranking(1, perm...))
	}
	for _, r := range receipts {
		rabbitmqtest.WaitFor(t, "ballot counted", func() bool {
			_, body := a.get(http.DefaultClient, r)
			return strings.Contains(body, "has been counted")
		})
	}
	var rep rcv.Report
	rabbitmqtest.WaitFor(t, "results of 50 ballots", func() bool {
		code, _ := a.get(http.DefaultClient, "/e/"+electionID+"/results.json")
		if code != 200 {
			return false
		}
		rep = a.report(electionID)
		return rep.Summary.TotalNumBallots == "50"
	})

	rules := rcv.DefaultRules()
	rules.Candidates = names
	want, err := rcv.Tabulate(rules, cast)
	if err != nil {
		t.Fatal(err)
	}
	wantRep := want.Report(rcv.ReportMeta{})
	gotRounds, _ := json.Marshal(rep.Results)
	wantRounds, _ := json.Marshal(wantRep.Results)
	if string(gotRounds) != string(wantRounds) {
		t.Fatalf("results.json rounds differ from a direct tabulation of the 50 ballots cast:\n got %s\nwant %s", gotRounds, wantRounds)
	}
	code, body := a.get(http.DefaultClient, "/e/"+electionID+"/results")
	if code != 200 || !strings.Contains(body, "50 ballots counted") || !strings.Contains(body, `<p class="banner-text">`+want.Winners[0]+" is leading ") {
		t.Fatalf("results page: %d, winner %s\n%s", code, want.Winners[0], body)
	}
	t.Logf("50 ballots, %d rounds, winner %s", len(rep.Results), want.Winners[0])

	_, metrics := a.get(http.DefaultClient, "/metrics")
	for _, line := range []string{`runoff_publish_confirmed_total{key="vote.submit"} 50`, `runoff_publish_confirmed_total{key="election.create"} 1`, `runoff_http_responses_total{code="303",method="POST"}`} {
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// The seed's point: with the worker stopped, voters still get receipts;
// when it starts again, every one of those ballots is counted, once.
func TestVotesWaitForTheWorker(t *testing.T) {
	a := startApp(t)
	electionID, ids := a.setUpElection("Apple", "Banana", "Cherry")
	a.stopWorker()

	var receipts []string
	for i := range 20 {
		ranking := []string{"Apple", "Banana", "Cherry"}[i%3:]
		receipts = append(receipts, a.vote(electionID, ids, ranking))
	}
	for _, r := range receipts[:3] {
		if _, body := a.get(http.DefaultClient, r); !strings.Contains(body, "queued") {
			t.Fatalf("receipt %s is not queued while the worker is down", r)
		}
	}
	if code, body := a.get(http.DefaultClient, "/e/"+electionID+"/results"); code != 200 || !strings.Contains(body, "No ballots have been counted yet") {
		t.Fatalf("results page while the worker is down: %d", code)
	}

	a.startWorker()
	for _, r := range receipts {
		rabbitmqtest.WaitFor(t, "ballot counted after restart", func() bool {
			_, body := a.get(http.DefaultClient, r)
			return strings.Contains(body, "has been counted")
		})
	}
	var rep rcv.Report
	rabbitmqtest.WaitFor(t, "results of 20 ballots", func() bool {
		code, _ := a.get(http.DefaultClient, "/e/"+electionID+"/results.json")
		if code == 200 {
			rep = a.report(electionID)
		}
		return rep.Summary.TotalNumBallots == "20"
	})
	// 7 ballots rank Apple first, 7 Banana, 6 Cherry.
	if r1 := rep.Results[0].Tally; r1["Apple"] != "7" || r1["Banana"] != "7" || r1["Cherry"] != "6" {
		t.Fatalf("round 1 = %v", r1)
	}
}

// The load generator casts through the real endpoint and waits until every
// receipted ballot is counted; it refuses to load any other machine.
func TestLoadGenerator(t *testing.T) {
	a := startApp(t)
	electionID, _ := a.setUpElection("Apple", "Banana", "Cherry")
	var out strings.Builder
	err := runLoad(context.Background(), []string{"--url", a.base, "--election", electionID, "--ballots", "120", "--concurrency", "4",
		"--amqp", rabbitmqtest.URL(), "--ceiling", "500", "--database", a.getenv("DATABASE_URL"), "--sample", "10"}, &out, testWriter{t})
	if err != nil {
		t.Fatalf("load: %v\n%s", err, out.String())
	}
	for _, want := range []string{"receipted=120 refused503=0 failed=0", "counted: 120 of 120", "broker ceiling: ", "ratio: ",
		"receipt to counted (12 sampled, 0 never counted)", "stored: 120 of 120 receipted (120 counted); duplicated: 0"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("load output lacks %q:\n%s", want, out.String())
		}
	}
	t.Log(out.String())
	// At a fixed rate.
	out.Reset()
	if err := runLoad(context.Background(), []string{"--url", a.base, "--election", electionID, "--ballots", "40", "--rate", "100"}, &out, testWriter{t}); err != nil {
		t.Fatalf("load --rate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "(100/s offered) receipted=40 ") || !strings.Contains(out.String(), "counted: 40 of 40") {
		t.Fatalf("load --rate output:\n%s", out.String())
	}
	if err := runLoad(context.Background(), []string{"--url", "http://192.0.2.1:8080", "--election", electionID}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("load of another machine: %v", err)
	}
	// Pages: the ballot answers 200 each time; a page that is not there
	// fails the run.
	out.Reset()
	if err := runLoad(context.Background(), []string{"--url", a.base, "--get", "/e/" + electionID, "--ballots", "200", "--concurrency", "4"}, &out, testWriter{t}); err != nil {
		t.Fatalf("load --get: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "GET /e/"+electionID+": 200 answered 200 in ") || !strings.Contains(out.String(), "requests/s at 4 connections") {
		t.Fatalf("load --get output:\n%s", out.String())
	}
	if err := runLoad(context.Background(), []string{"--url", a.base, "--get", "/e/" + uuid.NewString(), "--ballots", "5"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Fatalf("load --get of a missing page: %v", err)
	}
}
