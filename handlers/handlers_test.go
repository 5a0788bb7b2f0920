package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/bcrypt"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/handlers"
)

// fakeStore is the handlers' view of Postgres, in memory.
type fakeStore struct {
	mu         sync.Mutex
	elections  map[uuid.UUID]*runoff.Election
	ballots    map[uuid.UUID]*runoff.Ballot
	results    map[uuid.UUID]*runoff.ResultSnapshot
	organizers map[string]*runoff.Organizer
	dead       []runoff.DeadLetter
	changes    map[uuid.UUID]bool // changes the worker has carried out
	audit      map[uuid.UUID][]runoff.AuditEntry
	acct       *fakeAccounts
	imports    map[uuid.UUID][2]int // import → total, stored
	invited    map[uuid.UUID]int    // election → invitations sent
	panicOn    uuid.UUID
	down       bool // Postgres not answering
}

func (f *fakeStore) DeadLetters(_ context.Context, electionID uuid.UUID) ([]runoff.DeadLetter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []runoff.DeadLetter
	for _, dl := range f.dead {
		if dl.ElectionID != nil && *dl.ElectionID == electionID {
			out = append(out, dl)
		}
	}
	return out, nil
}

func (f *fakeStore) DeadLetter(_ context.Context, id uuid.UUID) (*runoff.DeadLetter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, dl := range f.dead {
		if dl.ID == id {
			return &dl, nil
		}
	}
	return nil, runoff.ErrNotFound
}

func (f *fakeStore) DeadLetterByMessage(_ context.Context, id string) (*runoff.DeadLetter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, dl := range f.dead {
		if dl.MessageID == id {
			return &dl, nil
		}
	}
	return nil, runoff.ErrNotFound
}

func (f *fakeStore) HeldByOwner(ctx context.Context, owner uuid.UUID) (map[uuid.UUID]int, error) {
	f.mu.Lock()
	var ids []uuid.UUID
	for id, e := range f.elections {
		if e.OwnerID == owner {
			ids = append(ids, id)
		}
	}
	f.mu.Unlock()
	held := map[uuid.UUID]int{}
	for _, id := range ids {
		n, err := f.CountDeadLetters(ctx, id)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			held[id] = n
		}
	}
	return held, nil
}

func (f *fakeStore) CountDeadLetters(ctx context.Context, electionID uuid.UUID) (int, error) {
	dls, err := f.DeadLetters(ctx, electionID)
	return len(dls), err
}

func newFakeStore() *fakeStore {
	return &fakeStore{elections: map[uuid.UUID]*runoff.Election{}, ballots: map[uuid.UUID]*runoff.Ballot{},
		results: map[uuid.UUID]*runoff.ResultSnapshot{}, organizers: map[string]*runoff.Organizer{}, changes: map[uuid.UUID]bool{}}
}

func (f *fakeStore) Election(_ context.Context, id uuid.UUID) (*runoff.Election, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == f.panicOn && id != uuid.Nil {
		panic("fake store exploded")
	}
	if f.down {
		return nil, fmt.Errorf("fake: dial tcp: connection refused: %w", runoff.ErrUnavailable)
	}
	if e, ok := f.elections[id]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("fake: %w", runoff.ErrNotFound)
}

func (f *fakeStore) ChangeApplied(_ context.Context, id uuid.UUID) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changes[id], nil
}

func (f *fakeStore) ElectionsByOwner(_ context.Context, owner uuid.UUID) ([]runoff.Election, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var es []runoff.Election
	for _, e := range f.elections {
		if e.OwnerID == owner {
			es = append(es, *e)
		}
	}
	return es, nil
}

func (f *fakeStore) Ballot(_ context.Context, id uuid.UUID) (*runoff.Ballot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.ballots[id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("fake: %w", runoff.ErrNotFound)
}

func (f *fakeStore) Result(_ context.Context, id uuid.UUID) (*runoff.ResultSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.results[id]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("fake: %w", runoff.ErrNotFound)
}

func (f *fakeStore) CreateOrganizer(_ context.Context, o *runoff.Organizer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.organizers[o.Email]; ok {
		return runoff.ErrConflict
	}
	f.organizers[o.Email] = o
	return nil
}

func (f *fakeStore) OrganizerByEmail(_ context.Context, email string) (*runoff.Organizer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o, ok := f.organizers[email]; ok {
		return o, nil
	}
	return nil, runoff.ErrNotFound
}

type message struct {
	key, id string
	body    []byte
}

type fakePublisher struct {
	mu   sync.Mutex
	sent []message
	fail error
}

func (p *fakePublisher) Publish(_ context.Context, key, id string, body []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.sent = append(p.sent, message{key, id, body})
	return nil
}

func (p *fakePublisher) messages() []message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]message(nil), p.sent...)
}

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

type env struct {
	store *fakeStore
	pub   *fakePublisher
	files *fakeBallotFiles
	srv   *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the server adjusted by set before it starts.
func newEnvWith(t *testing.T, set func(*handlers.Server)) *env {
	t.Helper()
	e := &env{store: newFakeStore(), pub: &fakePublisher{}, files: &fakeBallotFiles{}}
	s := &handlers.Server{
		Elections: e.store, DeadLetters: e.store, Accounts: e.store, Records: e.store, Imports: e.store, BallotFiles: e.files, Invitations: e.store, Publisher: e.pub,
		Ready:        map[string]handlers.Pinger{"postgres": pinger{}, "rabbitmq": pinger{errors.New("down")}},
		Sessions:     handlers.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"), false),
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxFormBytes: 64 << 10,
		PasswordCost: bcrypt.MinCost,
	}
	if set != nil {
		set(s)
	}
	e.srv = httptest.NewServer(s.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// client is a browser: it keeps cookies and does not follow redirects.
func (e *env) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) addElection(owner uuid.UUID, names ...string) *runoff.Election {
	el := &runoff.Election{ID: uuid.Must(uuid.NewV7()), OwnerID: owner, Title: "Best <b>fruit</b>", Seats: 1, Status: runoff.StatusOpen, CreatedAt: time.Now()}
	for i, n := range names {
		el.Candidates = append(el.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: n, Position: i})
	}
	e.store.mu.Lock()
	e.store.elections[el.ID] = el
	e.store.mu.Unlock()
	return el
}

func TestBallotForm(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "Apple", "Banana", "Cherry")
	resp, body := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String())
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"<legend>1st choice</legend>", "<legend>3rd choice</legend>", `name="rank3"`, `value="` + el.Candidates[1].ID.String() + `"`, "Best &lt;b&gt;fruit&lt;/b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("ballot lacks %q", want)
		}
	}
	if strings.Contains(body, `name="rank4"`) {
		t.Error("ballot has more ranks than candidates")
	}
	for _, path := range []string{"/e/" + uuid.NewString(), "/e/not-a-uuid", "/nowhere"} {
		if resp, body := get(t, e.srv.Client(), e.srv.URL+path); resp.StatusCode != 404 || !strings.Contains(body, "<h1>") {
			t.Errorf("%s: status %d, want a 404 page", path, resp.StatusCode)
		}
	}
}

func TestBallotSubmitAndReceipt(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "Apple", "Banana", "Cherry")
	c := e.client(t)
	a, cherry := el.Candidates[0].ID.String(), el.Candidates[2].ID.String()
	// A skipped 2nd rank closes up.
	resp, _ := post(t, c, e.srv.URL+"/e/"+el.ID.String()+"/ballots", url.Values{"rank1": {a}, "rank2": {""}, "rank3": {cherry}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/b/") {
		t.Fatalf("submit: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	msgs := e.pub.messages()
	if len(msgs) != 1 || msgs[0].key != runoff.KeyVoteSubmit {
		t.Fatalf("published %+v", msgs)
	}
	var v runoff.VoteSubmit
	if err := json.Unmarshal(msgs[0].body, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Ranking) != 2 || v.Ranking[0] != el.Candidates[0].ID || v.Ranking[1] != el.Candidates[2].ID || v.ElectionID != el.ID {
		t.Fatalf("vote = %+v", v)
	}
	if "/b/"+v.BallotID.String() != resp.Header.Get("Location") || msgs[0].id != v.BallotID.String() {
		t.Fatalf("receipt %s, message id %s, ballot %s", resp.Header.Get("Location"), msgs[0].id, v.BallotID)
	}

	// Queued: this browser sees its ranking; the page polls.
	resp, body := get(t, c, e.srv.URL+resp.Header.Get("Location"))
	if resp.StatusCode != 200 || !strings.Contains(body, "queued") || !strings.Contains(body, "<li>Apple</li>") || !strings.Contains(body, `hx-trigger="every 1s"`) {
		t.Fatalf("queued receipt: %d\n%s", resp.StatusCode, body)
	}
	// Counted, once the worker stored it.
	e.store.mu.Lock()
	e.store.ballots[v.BallotID] = &runoff.Ballot{ID: v.BallotID, ElectionID: el.ID, Ranking: v.Ranking, Status: runoff.BallotCounted}
	e.store.mu.Unlock()
	_, body = get(t, c, e.srv.URL+"/b/"+v.BallotID.String())
	if !strings.Contains(body, "has been counted") || !strings.Contains(body, "<li>Cherry</li>") || strings.Contains(body, "hx-trigger") {
		t.Fatalf("counted receipt:\n%s", body)
	}
	// Anyone else with the link sees its state, not the ranking: a receipt
	// cannot prove to someone else how its voter voted.
	_, body = get(t, e.srv.Client(), e.srv.URL+"/b/"+v.BallotID.String())
	if !strings.Contains(body, "has been counted") || strings.Contains(body, "Cherry") || strings.Contains(body, "Apple") ||
		!strings.Contains(body, "Only the browser that cast this ballot sees its ranking here") {
		t.Fatalf("counted receipt, seen elsewhere:\n%s", body)
	}
	// This browser has voted: the ballot page shows its receipt instead of
	// a second ballot, and a second ballot is answered with the first
	// receipt, publishing nothing.
	if resp, _ := get(t, c, e.srv.URL+"/e/"+el.ID.String()); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/b/"+v.BallotID.String() {
		t.Fatalf("ballot page after voting: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = post(t, c, e.srv.URL+"/e/"+el.ID.String()+"/ballots", url.Values{"ballot_id": {uuid.Must(uuid.NewV7()).String()}, "rank1": {el.Candidates[1].ID.String()}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/b/"+v.BallotID.String() || len(e.pub.messages()) != 1 {
		t.Fatalf("second ballot from the same browser: %d %s, %d published", resp.StatusCode, resp.Header.Get("Location"), len(e.pub.messages()))
	}
	// An old unknown receipt number is not found; a fresh one may be queued.
	old := uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057")
	if resp, _ := get(t, e.srv.Client(), e.srv.URL+"/b/"+old.String()); resp.StatusCode != 404 {
		t.Fatalf("old unknown receipt: %d", resp.StatusCode)
	}
}

// errorSummary reads what a form page says is wrong: the message at its
// top and each marked field's message, by field name.
func errorSummary(t *testing.T, body string) (message string, fields map[string]string) {
	t.Helper()
	summary := summaryRE.FindString(body)
	if summary == "" {
		t.Fatalf("the page shows no error summary:\n%s", body)
	}
	if m := summaryMessageRE.FindStringSubmatch(summary); m != nil {
		message = html.UnescapeString(m[1])
	}
	fields = map[string]string{}
	for _, m := range summaryFieldRE.FindAllStringSubmatch(summary, -1) {
		fields[m[1]] = html.UnescapeString(m[2])
	}
	return message, fields
}

var (
	summaryRE        = regexp.MustCompile(`<div class="error-summary"[^>]*>.*?</div>`)
	summaryMessageRE = regexp.MustCompile(`<p>(.*?)</p>`)
	summaryFieldRE   = regexp.MustCompile(`<li><a href="#([^"]+)">(.*?)</a></li>`)
	ledeRE           = regexp.MustCompile(`<p class="lede">(.*?)</p>`)
)

// lede reads the message of an error page (one that shows no form).
func lede(t *testing.T, body string) string {
	t.Helper()
	m := ledeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the page shows no message:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// Each bad ballot is refused with the words that tell the voter what to
// change, on the ballot form.
func TestBadBallots(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "Apple", "Banana", "Cherry")
	a, b := el.Candidates[0].ID.String(), el.Candidates[1].ID.String()
	for _, c := range []struct {
		name   string
		form   url.Values
		want   string
		fields map[string]string // the ranks marked and linked from the summary
	}{
		{"no choice", url.Values{"rank1": {""}, "rank2": {""}, "rank3": {""}}, "Choose at least one candidate: mark your 1st choice.", nil},
		{"unknown candidate", url.Values{"rank1": {uuid.NewString()}}, "Your 1st choice is not a candidate in this election. Please choose again.",
			map[string]string{"rank1": "Your 1st choice is not a candidate in this election. Please choose again."}},
		{"not an id", url.Values{"rank1": {a}, "rank2": {"<script>"}}, "Your 2nd choice is not a candidate in this election. Please choose again.",
			map[string]string{"rank2": "Your 2nd choice is not a candidate in this election. Please choose again."}},
		{"duplicate", url.Values{"rank1": {a}, "rank2": {a}}, "You ranked Apple both 1st and 2nd. Rank each candidate at most once.",
			map[string]string{"rank2": "Apple is already your 1st choice. Choose someone else as your 2nd choice, or no 2nd choice."}},
		// The ranks are named as the voter marked them, not as they close
		// up once the blank 1st choice is skipped.
		{"skip then duplicate", url.Values{"rank1": {""}, "rank2": {b}, "rank3": {b}}, "You ranked Banana both 2nd and 3rd. Rank each candidate at most once.",
			map[string]string{"rank3": "Banana is already your 2nd choice. Choose someone else as your 3rd choice, or no 3rd choice."}},
		{"two at one rank", url.Values{"rank1": {a, b}}, "Choose only one candidate as your 1st choice.",
			map[string]string{"rank1": "Choose only one candidate as your 1st choice."}},
		{"too many ranks", url.Values{"rank1": {a}, "rank4": {b}}, "This ballot has more ranks than the election's 3 candidates.", nil},
	} {
		for _, path := range []string{"/review", "/ballots"} {
			resp, body := post(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+path, c.form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s %s: status %d, want 422", path, c.name, resp.StatusCode)
				continue
			}
			msg, fields := errorSummary(t, body)
			if msg != c.want || len(fields) != len(c.fields) {
				t.Errorf("%s %s: the ballot says %q %v, want %q %v", path, c.name, msg, fields, c.want, c.fields)
			}
			for f, want := range c.fields {
				if fields[f] != want {
					t.Errorf("%s %s: the summary links #%s with %q, want %q", path, c.name, f, fields[f], want)
				}
				// The rank group at fault carries its error, and names it.
				if !strings.Contains(body, `<fieldset id="`+f+`" data-rank="`+strings.TrimPrefix(f, "rank")+`" aria-describedby="`+f+`-error">`) {
					t.Errorf("%s %s: the %s group is not described by its error", path, c.name, f)
				}
			}
		}
	}
	resp, body := post(t, e.srv.Client(), e.srv.URL+"/e/"+uuid.NewString()+"/ballots", url.Values{"rank1": {a}})
	if want := "There is no election at this address. Check the link you were given; if the election was created moments ago, try again shortly."; resp.StatusCode != 404 || lede(t, body) != want {
		t.Errorf("ballot for unknown election: %d %q, want 404 %q", resp.StatusCode, lede(t, body), want)
	}
	big := url.Values{"rank1": {a}, "padding": {strings.Repeat("x", 1<<20)}}
	resp, body = post(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/ballots", big)
	if want := "What you sent is larger than the 65536 bytes Runoff accepts for this form. Nothing was saved."; resp.StatusCode != http.StatusRequestEntityTooLarge || lede(t, body) != want {
		t.Errorf("1 MB form: %d %q, want 413 %q", resp.StatusCode, lede(t, body), want)
	}
	e.store.mu.Lock()
	el.Status = runoff.StatusClosed
	e.store.mu.Unlock()
	resp, body = post(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/ballots", url.Values{"rank1": {a}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("ballot for closed election: %d", resp.StatusCode)
	} else if msg, _ := errorSummary(t, body); msg != "This election has closed, so it no longer accepts ballots." {
		t.Errorf("ballot for closed election: %q", msg)
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("bad ballots published %d messages", n)
	}
}

var ballotIDRE = regexp.MustCompile(`name="ballot_id" value="([0-9a-f-]{36})"`)

func TestBrokerDownGives503(t *testing.T) {
	e := newEnv(t)
	e.pub.fail = fmt.Errorf("no confirm: %w", runoff.ErrUnavailable)
	el := e.addElection(uuid.New(), "Apple", "Banana")
	_, form := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String())
	m := ballotIDRE.FindStringSubmatch(form)
	if m == nil {
		t.Fatal("ballot form has no ballot_id")
	}
	ballotID := m[1]
	vote := url.Values{"ballot_id": {ballotID}, "rank1": {el.Candidates[1].ID.String()}}
	resp, body := post(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/ballots", vote)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "no receipt was issued") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	// The voter's choice is still marked, and the form keeps its ballot ID,
	// so submitting it again cannot count the ballot twice.
	if !strings.Contains(body, `value="`+el.Candidates[1].ID.String()+`" data-name="Banana" data-description="" checked`) {
		t.Error("choice not kept on the 503 page")
	}
	if m := ballotIDRE.FindStringSubmatch(body); m == nil || m[1] != ballotID {
		t.Errorf("503 page changed the ballot ID: %v", m)
	}
	// Reads still work.
	if resp, _ := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()); resp.StatusCode != 200 {
		t.Errorf("ballot page with broker down: %d", resp.StatusCode)
	}
	e.pub.fail = nil
	for range 2 { // the retry, and a double click
		if resp, _ := post(t, e.client(t), e.srv.URL+"/e/"+el.ID.String()+"/ballots", vote); resp.Header.Get("Location") != "/b/"+ballotID {
			t.Fatalf("retry: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, msg := range e.pub.messages() {
		if msg.id != ballotID {
			t.Errorf("a retry published ballot %s, not %s", msg.id, ballotID)
		}
	}
	// An ID that is not a fresh UUIDv7 is not trusted: a new one is made.
	vote.Set("ballot_id", "01890a5d-ac96-774b-bcce-b302099a8057")
	if resp, _ := post(t, e.client(t), e.srv.URL+"/e/"+el.ID.String()+"/ballots", vote); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") == "/b/01890a5d-ac96-774b-bcce-b302099a8057" {
		t.Error("an old ballot ID from the form was used")
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "Apple", "Banana")
	req, _ := http.NewRequest("POST", e.srv.URL+"/e/"+el.ID.String()+"/ballots", strings.NewReader("rank1="+el.Candidates[0].ID.String()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(e.pub.messages()) != 0 {
		t.Fatalf("cross-site post: %d, %d published", resp.StatusCode, len(e.pub.messages()))
	}
}

func signUp(t *testing.T, e *env, c *http.Client, email string) {
	t.Helper()
	resp, _ := post(t, c, e.srv.URL+"/signup", url.Values{"email": {email}, "password": {"correct horse battery"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("signup: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestAccounts(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	if resp, _ := get(t, c, e.srv.URL+"/admin"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fadmin" {
		t.Fatalf("admin signed out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, bad := range []struct {
		name   string
		form   url.Values
		fields map[string]string
	}{
		{"no email", url.Values{"email": {" "}, "password": {"correct horse battery"}},
			map[string]string{"email": "Enter a valid email address."}},
		{"bad email", url.Values{"email": {"nope"}, "password": {"correct horse battery"}},
			map[string]string{"email": "Enter a valid email address, like name@example.org."}},
		{"short password", url.Values{"email": {"a@example.org"}, "password": {"short"}},
			map[string]string{"password": "Choose a password of at least 10 characters."}},
		{"long password", url.Values{"email": {"a@example.org"}, "password": {strings.Repeat("é", 40)}},
			map[string]string{"password": "Choose a password of at most 72 bytes (about 72 letters; fewer with accents or emoji)."}},
		{"both", url.Values{"email": {"nope"}, "password": {"short"}},
			map[string]string{"email": "Enter a valid email address, like name@example.org.", "password": "Choose a password of at least 10 characters."}},
	} {
		checkSignupRefused(t, e, c, bad.name, bad.form, bad.fields)
	}
	signUp(t, e, c, "Ada@Example.org")
	if o := e.store.organizers["ada@example.org"]; o == nil || !strings.HasPrefix(o.PasswordHash, "$2") {
		t.Fatalf("organizer not stored with a bcrypt hash: %+v", o)
	}
	resp, body := get(t, c, e.srv.URL+"/admin")
	if resp.StatusCode != 200 || !strings.Contains(body, "ada@example.org") {
		t.Fatalf("admin signed in: %d", resp.StatusCode)
	}
	checkSignupRefused(t, e, e.client(t), "duplicate signup", url.Values{"email": {"ada@example.org"}, "password": {"another long password"}},
		map[string]string{"email": "An account with this email already exists. Sign in instead."})
	c2 := e.client(t)
	// A wrong password and an unknown email get the same words: the page
	// does not tell who has an account.
	for name, form := range map[string]url.Values{
		"wrong password": {"email": {"ada@example.org"}, "password": {"wrong password!"}},
		"unknown email":  {"email": {"nobody@example.org"}, "password": {"wrong password!"}},
	} {
		resp, body := post(t, c2, e.srv.URL+"/login", form)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d", name, resp.StatusCode)
			continue
		}
		if msg, fields := errorSummary(t, body); msg != "The email or password is not right. Check them and try again." || len(fields) != 0 {
			t.Errorf("%s: the page says %q %v", name, msg, fields)
		}
	}
	resp, _ = post(t, c2, e.srv.URL+"/login", url.Values{"email": {"ADA@example.org"}, "password": {"correct horse battery"}, "next": {"//evil.example"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Errorf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	setCookie := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(setCookie, attr) {
			t.Errorf("session cookie lacks %s: %s", attr, setCookie)
		}
	}
	if resp, _ := post(t, c2, e.srv.URL+"/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c2, e.srv.URL+"/admin"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("admin after logout: %d", resp.StatusCode)
	}
}

// checkSignupRefused posts a sign-up that must be refused, and checks the
// words on each marked field.
func checkSignupRefused(t *testing.T, e *env, c *http.Client, name string, form url.Values, fields map[string]string) {
	t.Helper()
	resp, body := post(t, c, e.srv.URL+"/signup", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("%s: status %d, want 422", name, resp.StatusCode)
		return
	}
	msg, got := errorSummary(t, body)
	if msg != "The account could not be created; see the marked fields." || !maps.Equal(got, fields) {
		t.Errorf("%s: the page says %q %v, want the marked fields %v", name, msg, got, fields)
	}
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("POST", e.srv.URL+"/signup", strings.NewReader("email=s%40example.org&password=correct+horse+battery"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("cookie over HTTPS not Secure: %s", resp.Header.Get("Set-Cookie"))
	}
}

func TestCreateElection(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	for _, bad := range []struct {
		name   string
		form   url.Values
		fields map[string]string
	}{
		{"one candidate", url.Values{"title": {"T"}, "candidates": {"Solo"}, "seats": {"1"}},
			map[string]string{"candidates": "List at least 2 candidates, one per line."}},
		{"duplicates", url.Values{"title": {"T"}, "candidates": {"A\nB\na"}, "seats": {"1"}},
			map[string]string{"candidates": `"a" is listed twice; each candidate's name must be unique.`}},
		{"no title", url.Values{"title": {" "}, "candidates": {"A\nB"}, "seats": {"1"}},
			map[string]string{"title": "Give the election a title."}},
		{"long title", url.Values{"title": {strings.Repeat("t", 201)}, "candidates": {"A\nB"}, "seats": {"1"}},
			map[string]string{"title": "The title can be at most 200 characters."}},
		{"long name", url.Values{"title": {"T"}, "candidates": {"A\n" + strings.Repeat("b", 201)}, "seats": {"1"}},
			map[string]string{"candidates": "Candidate 2's name is longer than 200 characters."}},
		{"as many seats as candidates", url.Values{"title": {"T"}, "candidates": {"A\nB"}, "seats": {"2"}},
			map[string]string{"seats": "Choose fewer seats than candidates: with 2 candidates, at most 1 seat."}},
		{"two seats by instant runoff", url.Values{"title": {"T"}, "candidates": {"A\nB\nC"}, "seats": {"2"}, "winner_mode": {runoff.WinnerIRV}},
			map[string]string{"winner_mode": "Instant runoff fills one seat; for several, choose single transferable vote, bottoms-up or sequential instant runoff."}},
		{"bad settings", url.Values{"title": {"T"}, "candidates": {"A\nB"}, "tiebreak": {"coin"}, "results": {"never"}, "timezone": {"Mars/Olympus"},
			"max_ranks": {"3"}, "opens_at": {"2030-01-02T10:00"}, "closes_at": {"2030-01-01T10:00"}},
			map[string]string{"tiebreak": "Choose how ties are broken.", "results": "Choose who sees the results.",
				"timezone":  "Choose a time zone by its name, like Europe/Paris or America/Chicago.",
				"max_ranks": "Voters can fill between 1 and 2 ranks (one per candidate); leave it empty for all.",
				"closes_at": "The closing time must come after the opening time."}},
		{"unreadable times", url.Values{"title": {"T"}, "candidates": {"A\nB"}, "opens_at": {"tomorrow"}, "closes_at": {"soon"}, "max_ranks": {"two"}},
			map[string]string{"opens_at": "Enter the opening time as a date and a time, or leave it empty.",
				"closes_at": "Enter the closing time as a date and a time, or leave it empty.",
				"max_ranks": "Enter how many ranks as a whole number, or leave it empty for all."}},
		{"seats not int", url.Values{"title": {"T"}, "candidates": {"A\nB"}, "seats": {"one"}},
			map[string]string{"seats": "Enter the number of seats as a whole number."}},
		{"101 names", url.Values{"title": {"T"}, "candidates": {names(101)}, "seats": {"1"}},
			map[string]string{"candidates": "An election can have at most 100 candidates; this one lists 101."}},
		{"everything", url.Values{"title": {""}, "candidates": {"Solo"}, "seats": {"0"}},
			map[string]string{"title": "Give the election a title.", "candidates": "List at least 2 candidates, one per line.",
				"seats": "Choose between 1 and 50 seats."}},
	} {
		resp, body := post(t, c, e.srv.URL+"/admin/elections", bad.form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", bad.name, resp.StatusCode)
			continue
		}
		msg, fields := errorSummary(t, body)
		if msg != "The election could not be created; see the marked fields." || !maps.Equal(fields, bad.fields) {
			t.Errorf("%s: the page says %q %v, want the marked fields %v", bad.name, msg, fields, bad.fields)
		}
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("invalid elections published %d messages", n)
	}
	_, form := get(t, c, e.srv.URL+"/admin/elections/new")
	formID := regexp.MustCompile(`name="election_id" value="([0-9a-f-]{36})"`).FindStringSubmatch(form)
	if formID == nil {
		t.Fatal("the new-election form has no election_id")
	}
	resp, _ := post(t, c, e.srv.URL+"/admin/elections", url.Values{"election_id": {formID[1]}, "title": {"Capital"}, "description": {"Pick one"}, "candidates": {"Memphis\r\n\r\n Nashville \r\nKnoxville"}, "seats": {"1"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != "/admin/elections/"+formID[1] {
		t.Fatalf("create: %d %s, want the form's ID %s", resp.StatusCode, loc, formID[1])
	}
	msgs := e.pub.messages()
	var m runoff.ElectionCreate
	if len(msgs) != 1 || msgs[0].key != runoff.KeyElectionCreate || json.Unmarshal(msgs[0].body, &m) != nil {
		t.Fatalf("published %+v", msgs)
	}
	if len(m.Candidates) != 3 || m.Candidates[1].Name != "Nashville" || "/admin/elections/"+m.ElectionID.String() != loc {
		t.Fatalf("message %+v", m)
	}
	// Pending until the worker stores it.
	resp, body := get(t, c, e.srv.URL+loc)
	if resp.StatusCode != 200 || !strings.Contains(body, "Setting up your election") || !strings.Contains(body, `http-equiv="refresh"`) {
		t.Fatalf("pending page: %d\n%s", resp.StatusCode, body)
	}
	// Someone else's unknown ID is simply not found.
	if resp, _ := get(t, c, e.srv.URL+"/admin/elections/"+uuid.NewString()); resp.StatusCode != 404 {
		t.Errorf("unknown election admin: %d", resp.StatusCode)
	}
	owner := e.store.organizers["org@example.org"].ID
	e.store.mu.Lock()
	el := &runoff.Election{ID: m.ElectionID, OwnerID: owner, Title: m.Title, Seats: 1, Status: runoff.StatusOpen, Candidates: m.Candidates}
	e.store.elections[m.ElectionID] = el
	e.store.mu.Unlock()
	resp, body = get(t, c, e.srv.URL+loc)
	if resp.StatusCode != 200 || !strings.Contains(body, "/e/"+m.ElectionID.String()) || strings.Contains(body, "Setting up") {
		t.Fatalf("stored election page: %d", resp.StatusCode)
	}
	// Only the owner sees it.
	other := e.client(t)
	signUp(t, e, other, "other@example.org")
	if resp, _ := get(t, other, e.srv.URL+loc); resp.StatusCode != 404 {
		t.Errorf("another organizer sees the admin page: %d", resp.StatusCode)
	}
}

func names(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Candidate %d\n", i)
	}
	return b.String()
}

func TestResultsPages(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "Memphis", "Nashville", "Knoxville")
	if resp, body := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/results"); resp.StatusCode != 200 || !strings.Contains(body, "No ballots have been counted yet") {
		t.Fatalf("empty results: %d", resp.StatusCode)
	}
	if resp, _ := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/results.json"); resp.StatusCode != 404 {
		t.Fatalf("empty results.json: %d", resp.StatusCode)
	}
	report := `{"config":{"contest":"Capital"},"results":[
	 {"round":1,"tally":{"Memphis":"4","Nashville":"3","Knoxville":"2"},"tallyResults":[{"eliminated":"Knoxville","transfers":{"Nashville":"2"}}],"threshold":"5","inactiveBallots":{"exhaustedChoices":"0","overvotes":"0","repeatedRankings":"0","skippedRankings":"0"}},
	 {"round":2,"tally":{"Memphis":"4","Nashville":"5"},"tallyResults":[{"elected":"Nashville","transfers":{}}],"threshold":"5","inactiveBallots":{"exhaustedChoices":"0","overvotes":"0","repeatedRankings":"0","skippedRankings":"0"}}],
	 "runoff":{"winners":["Nashville"]},"summary":{"totalNumBallots":"9"}}`
	cand := func(name, votes string, share float64, status string) runoff.CandidateRound {
		return runoff.CandidateRound{Name: name, Votes: votes, Share: share, Status: status}
	}
	model := runoff.Results{Seats: 1, Winners: []string{"Nashville"}, Candidates: []string{"Nashville", "Memphis", "Knoxville"}, Ballots: 9,
		Rounds: []runoff.ResultRound{
			{Number: 1, Threshold: "5", Continuing: "9", Inactive: runoff.Inactive{Total: "0"}, Eliminated: []string{"Knoxville"},
				Tally: []runoff.CandidateRound{cand("Nashville", "3", 100.0*3/9, runoff.CandidateContinuing),
					cand("Memphis", "4", 100.0*4/9, runoff.CandidateContinuing), cand("Knoxville", "2", 100.0*2/9, runoff.CandidateEliminated)}},
			{Number: 2, Threshold: "5", Continuing: "9", Inactive: runoff.Inactive{Total: "0"}, Elected: []string{"Nashville"},
				Tally: []runoff.CandidateRound{cand("Nashville", "5", 100.0*5/9, runoff.CandidateElected),
					cand("Memphis", "4", 100.0*4/9, runoff.CandidateContinuing), cand("Knoxville", "", 0, runoff.CandidateOut)}},
		}}
	e.store.results[el.ID] = &runoff.ResultSnapshot{ElectionID: el.ID, BallotsCounted: 9, Report: []byte(report), Model: model, ComputedAt: time.Now()}
	resp, body := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/results")
	if resp.StatusCode != 200 {
		t.Fatalf("results: %d", resp.StatusCode)
	}
	for _, want := range []string{"Nashville is leading with 5 of 9 votes still counting, after 2 rounds.", "Round 2", `class="eliminated"`, `class="elected"`, "44.4%", "9 ballots counted"} {
		if !strings.Contains(body, want) {
			t.Errorf("results page lacks %q", want)
		}
	}
	// Winner's row comes first.
	if strings.Index(body, ">Nashville</th>") > strings.Index(body, ">Memphis</th>") {
		t.Error("winner not listed first")
	}
	resp, body = get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String()+"/results.json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || body != report {
		t.Fatalf("results.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestPanicBecomes500Page(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "A", "B")
	e.store.panicOn = el.ID
	resp, body := get(t, e.srv.Client(), e.srv.URL+"/e/"+el.ID.String())
	if resp.StatusCode != 500 || !strings.Contains(body, "Something went wrong") || strings.Contains(body, "exploded") {
		t.Fatalf("panic: %d\n%s", resp.StatusCode, body)
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	if resp, _ := get(t, e.srv.Client(), e.srv.URL+"/healthz"); resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	resp, body := get(t, e.srv.Client(), e.srv.URL+"/readyz")
	if resp.StatusCode != 503 || !strings.Contains(body, "rabbitmq: unavailable") || !strings.Contains(body, "postgres: ok") {
		t.Errorf("readyz: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, e.srv.Client(), e.srv.URL+"/static/htmx.min.js"); resp.StatusCode != 200 {
		t.Errorf("htmx: %d", resp.StatusCode)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	pub := &fakePublisher{fail: runoff.ErrUnavailable}
	store := newFakeStore()
	s := &handlers.Server{Elections: store, DeadLetters: store, Accounts: store, Records: store, Imports: store, BallotFiles: &fakeBallotFiles{}, Invitations: store, Publisher: pub,
		Sessions: handlers.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"), false),
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)), MaxFormBytes: 1 << 10,
		Metrics: handlers.NewMetrics(reg), MetricsHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), MetricsToken: "s3cret"}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	e := &env{store: store, pub: pub, srv: srv}
	el := e.addElection(uuid.New(), "A", "B")
	post(t, srv.Client(), srv.URL+"/e/"+el.ID.String()+"/ballots", url.Values{"rank1": {el.Candidates[0].ID.String()}})
	if resp, _ := get(t, srv.Client(), srv.URL+"/metrics"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/metrics without token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"runoff_http_unavailable_total 1", `runoff_http_responses_total{code="503",method="POST"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

func TestHeldMessages(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	owner := e.store.organizers["org@example.org"].ID
	el := e.addElection(owner, "A", "B")
	other := e.addElection(uuid.New(), "C", "D")
	ballotID := uuid.Must(uuid.NewV7())
	dl := runoff.DeadLetter{ID: uuid.Must(uuid.NewV7()), ElectionID: &el.ID, MessageID: ballotID.String(), RoutingKey: runoff.KeyVoteSubmit,
		Reason: "candidate withdrawn <script>", Body: []byte("{}"), DeadAt: time.Now()}
	otherDL := runoff.DeadLetter{ID: uuid.Must(uuid.NewV7()), ElectionID: &other.ID, RoutingKey: runoff.KeyVoteSubmit, Reason: "x", DeadAt: time.Now()}
	e.store.dead = []runoff.DeadLetter{dl, otherDL}

	_, body := get(t, c, e.srv.URL+"/admin/elections/"+el.ID.String())
	if !strings.Contains(body, "1 message(s) for this election could not be carried out") {
		t.Errorf("admin page does not mention the held message")
	}
	resp, body := get(t, c, e.srv.URL+"/admin/elections/"+el.ID.String()+"/dead-letters")
	if resp.StatusCode != 200 || !strings.Contains(body, "candidate withdrawn &lt;script&gt;") || !strings.Contains(body, "/dead-letters/"+dl.ID.String()+"/requeue") {
		t.Fatalf("held messages page: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, e.srv.URL+"/admin/elections/"+other.ID.String()+"/dead-letters"); resp.StatusCode != 404 {
		t.Errorf("another organizer's held messages: %d", resp.StatusCode)
	}
	// A dead letter of another election cannot be requeued through this one.
	if resp, _ := post(t, c, e.srv.URL+"/admin/elections/"+el.ID.String()+"/dead-letters/"+otherDL.ID.String()+"/requeue", nil); resp.StatusCode != 404 {
		t.Errorf("requeue of another election's message: %d", resp.StatusCode)
	}
	resp, _ = post(t, c, e.srv.URL+"/admin/elections/"+el.ID.String()+"/dead-letters/"+dl.ID.String()+"/requeue", nil)
	if resp.StatusCode != 303 {
		t.Fatalf("requeue: %d", resp.StatusCode)
	}
	msgs := e.pub.messages()
	var m runoff.DeadLetterRequeue
	if len(msgs) != 1 || msgs[0].key != runoff.KeyDeadLetterRequeue || json.Unmarshal(msgs[0].body, &m) != nil || m.DeadLetterID != dl.ID || m.OrganizerID != owner || m.ElectionID != el.ID {
		t.Fatalf("published %+v (%+v)", msgs, m)
	}
	// The voter's receipt says the ballot is held, not lost.
	_, body = get(t, e.srv.Client(), e.srv.URL+"/b/"+ballotID.String())
	if !strings.Contains(body, "could not be counted automatically") {
		t.Errorf("receipt of a held ballot:\n%s", body)
	}
}

func TestStorageDownGives503(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "A", "B")
	e.store.mu.Lock()
	e.store.down = true
	e.store.mu.Unlock()
	for _, path := range []string{"/e/" + el.ID.String(), "/e/" + el.ID.String() + "/results"} {
		resp, body := get(t, e.srv.Client(), e.srv.URL+path)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "storage is not answering") {
			t.Errorf("%s with storage down: %d", path, resp.StatusCode)
		}
	}
}
