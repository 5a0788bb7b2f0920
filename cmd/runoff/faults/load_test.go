//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
	"github.com/runoff-vote/runoff/rcv"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/worker"
)

// election is the election a fault test votes in.
type election struct {
	id    string
	names []string // candidates in listed order
	ids   []string // their IDs, read off the public ballot
}

// setUpElection signs an organizer up and creates an election over HTTP,
// as a person would, waits until the worker has stored it (its public
// ballot answers), and reads the candidates' IDs off that ballot.
func (c *cluster) setUpElection() election {
	c.t.Helper()
	e := election{names: []string{"Alder", "Birch", "Cedar", "Dogwood", "Elm"}}
	org := browser()
	if code, loc := c.post(org, "/signup", url.Values{"email": {"faults@example.org"}, "password": {"correct horse battery"}}); code != 303 {
		c.t.Fatalf("signup: %d %s", code, loc)
	}
	// A 503 (the broker busy or blocked by a resource alarm, say by another
	// test on this machine) is what a person would retry.
	var code int
	var loc string
	rabbitmqtest.WaitFor(c.t, "the web accepts the new election", func() bool {
		code, loc = c.post(org, "/admin/elections", url.Values{"title": {"Fault test"}, "candidates": {strings.Join(e.names, "\n")}, "seats": {"1"}})
		return code != http.StatusServiceUnavailable
	})
	if code != 303 || !strings.HasPrefix(loc, "/admin/elections/") {
		c.t.Fatalf("create election: %d %s", code, loc)
	}
	e.id = strings.TrimPrefix(loc, "/admin/elections/")
	var body string
	rabbitmqtest.WaitFor(c.t, "the worker stores the election", func() bool {
		code, body = c.get(http.DefaultClient, "/e/"+e.id)
		return code == 200
	})
	byName := map[string]string{}
	for _, m := range optionRE.FindAllStringSubmatch(body, -1) {
		byName[m[2]] = m[1]
	}
	for _, n := range e.names {
		if byName[n] == "" {
			c.t.Fatalf("the ballot does not offer %s:\n%s", n, body)
		}
		e.ids = append(e.ids, byName[n])
	}
	return e
}

// browser is a client that keeps cookies and shows redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (c *cluster) get(client *http.Client, path string) (int, string) {
	c.t.Helper()
	resp, err := client.Get(c.baseURL() + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *cluster) post(client *http.Client, path string, form url.Values) (int, string) {
	c.t.Helper()
	resp, err := client.PostForm(c.baseURL()+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location")
}

// optionRE reads a candidate's ID and name off the public ballot.
var optionRE = regexp.MustCompile(`name="rank1" value="([0-9a-f-]{36})" data-name="([^"]+)"`)

// loadDriver is a few voters' browsers casting ballots through the real
// endpoint, POST /e/{id}/ballots, as a steady stream; it records every
// receipt (303 to /b/{ballotID}) and every refusal. It follows the web to
// wherever it listens now, and tolerates a web that is down or failing:
// those requests are counted, and the stream goes on.
type loadDriver struct {
	c        *cluster
	e        election
	seed     uint64
	client   *http.Client
	stopc    chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	started  time.Time

	next      atomic.Int64 // index of the next ballot to make
	sent      atomic.Int64 // requests made
	rejected  atomic.Int64 // 503: "nothing was recorded, try again"
	otherCode atomic.Int64 // any other status (500 while Postgres is down, …)
	noAnswer  atomic.Int64 // connection refused or cut: the web is down

	mu       sync.Mutex
	receipts map[uuid.UUID][]int // ballot ID → ranking sent (candidate indexes)
	codes    map[int]int         // other statuses seen
	reserved int                 // receipts got or being sought, for want
	answers  []answer            // every request the web answered, in order of answer
}

// answer is a request the web answered: when it was sent and what came back.
type answer struct {
	sent    time.Time
	receipt bool
	code    int
}

type loadOptions struct {
	clients   int
	perSecond int // 0: as fast as the clients go
	maxSent   int // never make more requests than this
	want      int // stop after this many receipts (0: run until stop)
}

var receiptRE = regexp.MustCompile(`^/b/([0-9a-f-]{36})$`)

// drive starts the stream; stop ends it.
func (c *cluster) drive(e election, opt loadOptions) *loadDriver {
	d := &loadDriver{
		c: c, e: e, seed: uint64(time.Now().UnixNano()),
		client: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: opt.clients + 2},
			// The receipt is the Location header itself.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		stopc:    make(chan struct{}),
		receipts: map[uuid.UUID][]int{},
		codes:    map[int]int{},
		started:  time.Now(),
	}
	c.t.Cleanup(d.stop)
	var tick <-chan time.Time
	if opt.perSecond > 0 {
		tk := time.NewTicker(time.Second / time.Duration(opt.perSecond))
		c.t.Cleanup(tk.Stop)
		tick = tk.C
	}
	for range opt.clients {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for {
				if tick != nil {
					select {
					case <-tick:
					case <-d.stopc:
						return
					}
				}
				select {
				case <-d.stopc:
					return
				default:
				}
				switch d.reserve(opt) {
				case reserveDone:
					d.stopOnce.Do(func() { close(d.stopc) })
					return
				case reserveWait:
					// Enough requests are in flight to reach the goal.
					select {
					case <-time.After(10 * time.Millisecond):
					case <-d.stopc:
						return
					}
					continue
				}
				if !d.cast(d.next.Add(1) - 1) {
					d.release()
					// Don't spin while the web is down; a voter would retry too.
					select {
					case <-time.After(20 * time.Millisecond):
					case <-d.stopc:
						return
					}
				}
			}
		}()
	}
	return d
}

const (
	reserveGo = iota
	reserveWait
	reserveDone
)

// reserve says whether to send another ballot: not once maxSent requests
// were made or want receipts got; not yet while the requests in flight
// could make up want.
func (d *loadDriver) reserve(opt loadOptions) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if opt.maxSent > 0 && d.sent.Load() >= int64(opt.maxSent) {
		return reserveDone
	}
	if opt.want > 0 && len(d.receipts) >= opt.want {
		return reserveDone
	}
	if opt.want > 0 && d.reserved >= opt.want {
		return reserveWait
	}
	d.reserved++
	return reserveGo
}

func (d *loadDriver) release() {
	d.mu.Lock()
	d.reserved--
	d.mu.Unlock()
}

// ranking is ballot i's ranking: a random prefix of a random order of the
// candidates, the same for the same seed and i.
func (d *loadDriver) ranking(i int64) []int {
	rng := rand.New(rand.NewPCG(d.seed, uint64(i)))
	n := len(d.e.ids)
	return rng.Perm(n)[:1+rng.IntN(n)]
}

// cast sends ballot i and reports whether it got a receipt.
func (d *loadDriver) cast(i int64) bool {
	ranking := d.ranking(i)
	form := url.Values{}
	for r, ci := range ranking {
		form.Set("rank"+strconv.Itoa(r+1), d.e.ids[ci])
	}
	sent := time.Now()
	resp, err := d.client.PostForm(d.c.voteURL(i)+"/e/"+d.e.id+"/ballots", form)
	d.sent.Add(1)
	if err != nil {
		d.noAnswer.Add(1)
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	m := receiptRE.FindStringSubmatch(resp.Header.Get("Location"))
	receipt := resp.StatusCode == http.StatusSeeOther && m != nil
	d.mu.Lock()
	d.answers = append(d.answers, answer{sent: sent, receipt: receipt, code: resp.StatusCode})
	d.mu.Unlock()
	switch {
	case receipt:
		d.mu.Lock()
		d.receipts[uuid.MustParse(m[1])] = ranking
		d.mu.Unlock()
		return true
	case resp.StatusCode == http.StatusServiceUnavailable:
		d.rejected.Add(1)
	default:
		d.otherCode.Add(1)
		d.mu.Lock()
		d.codes[resp.StatusCode]++
		d.mu.Unlock()
	}
	return false
}

func (d *loadDriver) stop() {
	d.stopOnce.Do(func() { close(d.stopc) })
	d.wg.Wait()
}

func (d *loadDriver) receipted() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.receipts)
}

// sentSince counts the requests sent at or after t that the web has
// answered, those answered with a receipt, and those refused with a 503.
func (d *loadDriver) sentSince(t time.Time) (answered, receipted, refused int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range d.answers {
		if a.sent.Before(t) {
			continue
		}
		answered++
		if a.receipt {
			receipted++
		}
		if a.code == http.StatusServiceUnavailable {
			refused++
		}
	}
	return answered, receipted, refused
}

// waitReceipts waits until the stream has had n more receipts than it had
// at from: the system is (again) taking votes.
func (d *loadDriver) waitReceipts(what string, from, n int) {
	d.c.t.Helper()
	rabbitmqtest.WaitFor(d.c.t, what, func() bool { return d.receipted() >= from+n })
}

// ---- after the fault: drain and check ----

type checkOptions struct {
	deadLetters int // messages expected in the dead-letter queue
}

// figures are what the summary line reports.
type figures struct {
	stored, distinct, counted, rejectedRows int64
	ballotsCounted, rankingSum              int64
	resultCounted                           int64
	receiptedStored, unreceiptedStored      int
	duplicates                              int64
	deadLettered                            int
	// voteBatches is how many batches of votes each worker still running
	// at the end had carried out (runoff_batch_size_count), in start order.
	voteBatches []int
}

// check drains the system, stops it as a platform would (SIGTERM), logs the
// summary line, and asserts that every receipted ballot is stored exactly
// once as sent, that the counts and the results snapshot equal a recount
// from the stored ballots, and that the work queues are empty.
func (c *cluster) check(fault string, d *loadDriver, opt checkOptions) figures {
	t := c.t
	t.Helper()
	d.stop()
	ctx := context.Background()
	e := d.e

	// Drain: every receipt stored, nothing ready in the queues, the
	// snapshot caught up, and no change between two looks.
	var lastStored int64 = -1
	rabbitmqtest.WaitForWithin(t, 3*time.Minute, "the system drains: every receipt stored, queues empty, results fresh", func() bool {
		stored, err := c.storedIDs(ctx, e.id)
		if err != nil {
			return false
		}
		d.mu.Lock()
		missing := 0
		for id := range d.receipts {
			if _, ok := stored[id]; !ok {
				missing++
			}
		}
		d.mu.Unlock()
		if missing > 0 {
			return false
		}
		for _, q := range append(c.topo.VoteQueues(), c.topo.Elections) {
			if n, err := c.depth(q); err != nil || n != 0 {
				return false
			}
		}
		var counted, snap int64
		if err := c.db.QueryRowContext(ctx, `SELECT e.ballots_counted, coalesce(r.ballots_counted, -1)
			FROM elections e LEFT JOIN results r ON r.election_id = e.id WHERE e.id = $1`, e.id).Scan(&counted, &snap); err != nil {
			return false
		}
		if opt.deadLetters > 0 {
			if dl, err := c.deadLetterCount(ctx); err != nil || dl < opt.deadLetters {
				return false
			}
		}
		n := int64(len(stored))
		stable := n == lastStored
		lastStored = n
		return stable && counted == snap
	})
	var f figures
	for _, w := range c.workers {
		if w.alive() {
			f.voteBatches = append(f.voteBatches, int(c.voteMetric(t, w, "runoff_batch_size_count")))
		}
	}
	c.stopAll()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT id),
		count(*) FILTER (WHERE status = 'counted'), count(*) FILTER (WHERE status <> 'counted')
		FROM ballots WHERE election_id = $1`, e.id).Scan(&f.stored, &f.distinct, &f.counted, &f.rejectedRows))
	must(c.db.QueryRowContext(ctx, `SELECT ballots_counted FROM elections WHERE id = $1`, e.id).Scan(&f.ballotsCounted))
	must(c.db.QueryRowContext(ctx, `SELECT coalesce(sum(count), 0) FROM ranking_counts WHERE election_id = $1`, e.id).Scan(&f.rankingSum))
	var snapshot []byte
	must(c.db.QueryRowContext(ctx, `SELECT ballots_counted, report FROM results WHERE election_id = $1`, e.id).Scan(&f.resultCounted, &snapshot))
	f.duplicates = (f.stored - f.distinct) + max(0, f.rankingSum-f.counted) + max(0, f.ballotsCounted-f.counted)

	// Every receipt: stored, once, with the ranking the voter sent.
	stored, err := c.storedIDs(ctx, e.id)
	must(err)
	var lost, altered []string
	d.mu.Lock()
	for id, ranking := range d.receipts {
		got, ok := stored[id]
		if !ok {
			lost = append(lost, id.String())
			continue
		}
		f.receiptedStored++
		want := make([]string, len(ranking))
		for i, ci := range ranking {
			want[i] = e.ids[ci]
		}
		if !reflect.DeepEqual([]string(got), want) {
			altered = append(altered, id.String())
		}
	}
	f.unreceiptedStored = len(stored) - f.receiptedStored
	receipted := len(d.receipts)
	codes := fmt.Sprint(d.codes)
	d.mu.Unlock()

	dls, err := c.deadLetters(ctx)
	must(err)
	f.deadLettered = len(dls)
	t.Logf("fault=%s sent=%d receipted=%d rejected503=%d stored=%d duplicates=%d dead_lettered=%d elapsed=%s"+
		" failed_other=%d no_answer=%d stored_without_receipt=%d",
		fault, d.sent.Load(), receipted, d.rejected.Load(), f.stored, f.duplicates, f.deadLettered,
		time.Since(d.started).Round(100*time.Millisecond),
		d.otherCode.Load(), d.noAnswer.Load(), f.unreceiptedStored)
	if d.otherCode.Load() > 0 {
		t.Logf("other statuses: %s", codes)
	}

	if len(lost) > 0 {
		t.Errorf("%d receipted ballots were never stored, e.g. %v", len(lost), lost[:min(5, len(lost))])
	}
	if len(altered) > 0 {
		t.Errorf("%d stored ballots differ from the ranking sent, e.g. %v", len(altered), altered[:min(5, len(altered))])
	}
	// A ballot stored without a receipt is one whose request ended without
	// an answer we could read (the web died, or the confirm came too late):
	// never more of them than such requests.
	if ambiguous := d.noAnswer.Load() + d.rejected.Load() + d.otherCode.Load(); int64(f.unreceiptedStored) > ambiguous {
		t.Errorf("%d ballots stored without a receipt, but only %d requests ended without one", f.unreceiptedStored, ambiguous)
	}
	if f.stored != f.distinct {
		t.Errorf("ballots: %d rows for %d IDs", f.stored, f.distinct)
	}
	if f.rejectedRows != 0 {
		t.Errorf("%d ballots stored as rejected; every ballot sent was valid", f.rejectedRows)
	}
	if f.ballotsCounted != f.counted || f.rankingSum != f.counted {
		t.Errorf("counted ballots: %d rows, elections.ballots_counted %d, sum of ranking_counts %d", f.counted, f.ballotsCounted, f.rankingSum)
	}
	c.checkRankingCounts(ctx, e)
	if f.resultCounted != f.counted {
		t.Errorf("results snapshot counts %d ballots; %d are stored", f.resultCounted, f.counted)
	}
	c.checkSnapshot(ctx, e, snapshot, c.recountTally(ctx, e), "a recount of the stored ballots")

	// With every consumer gone, anything unacked would be back and ready.
	for _, q := range append(c.topo.VoteQueues(), c.topo.Elections) {
		if n := rabbitmqtest.Depth(t, q); n != 0 {
			t.Errorf("queue %s holds %d messages after the drain", q, n)
		}
	}
	if f.deadLettered != opt.deadLetters {
		t.Errorf("%d dead letters, want %d: %v", f.deadLettered, opt.deadLetters, dls[:min(5, len(dls))])
	}
	return f
}

// deadLetter is a message the worker could never carry out.
type deadLetter struct {
	ID, MessageID, RoutingKey, Reason string
}

// deadLetters lists the dead letters: those the worker has consumed from
// the dead-letter queue into Postgres (dead_letters), and those still in
// the queue; a message in both (stored, not yet acked) counts once.
func (c *cluster) deadLetters(ctx context.Context) ([]deadLetter, error) {
	byID := map[string]deadLetter{}
	var out []deadLetter
	add := func(dl deadLetter) {
		if _, dup := byID[dl.ID]; dup && dl.ID != "" {
			return
		}
		byID[dl.ID] = dl
		out = append(out, dl)
	}
	rows, err := c.db.QueryContext(ctx, `SELECT id::text, message_id, routing_key, reason FROM dead_letters ORDER BY dead_at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var dl deadLetter
		if err := rows.Scan(&dl.ID, &dl.MessageID, &dl.RoutingKey, &dl.Reason); err != nil {
			return nil, err
		}
		add(dl)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Read the queue without acking: closing the channel puts it all back.
	conn, err := amqp.Dial(rabbitmqtest.URL())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	for {
		m, ok, err := ch.Get(c.topo.DeadQueue, false)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		str := func(k string) string { s, _ := m.Headers[k].(string); return s }
		add(deadLetter{ID: str("x-runoff-dead-id"), MessageID: m.MessageId, RoutingKey: m.RoutingKey, Reason: str("x-runoff-reason")})
	}
	return out, nil
}

// deadLetterCount is a cheap count for polling: may count a message twice
// for a moment.
func (c *cluster) deadLetterCount(ctx context.Context) (int, error) {
	n, err := c.depth(c.topo.DeadQueue)
	if err != nil {
		return 0, err
	}
	var rows int
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM dead_letters`).Scan(&rows); err != nil {
		return 0, err
	}
	return n + rows, nil
}

// storedIDs reads the election's stored ballots: ID → ranking.
func (c *cluster) storedIDs(ctx context.Context, electionID string) (map[uuid.UUID]pq.StringArray, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT id, ranking::text[] FROM ballots WHERE election_id = $1`, electionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uuid.UUID]pq.StringArray{}
	for rows.Next() {
		var id uuid.UUID
		var r pq.StringArray
		if err := rows.Scan(&id, &r); err != nil {
			return nil, err
		}
		out[id] = r
	}
	return out, rows.Err()
}

// checkRankingCounts compares the distinct-ranking counts with a GROUP BY
// over the counted ballots.
func (c *cluster) checkRankingCounts(ctx context.Context, e election) {
	t := c.t
	t.Helper()
	read := func(q string) map[string]int64 {
		rows, err := c.db.QueryContext(ctx, q, e.id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]int64{}
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			m[k] = n
		}
		return m
	}
	have := read(`SELECT ranking::text, count FROM ranking_counts WHERE election_id = $1`)
	want := read(`SELECT ranking::text, count(*) FROM ballots WHERE election_id = $1 AND status = 'counted' GROUP BY ranking`)
	if !reflect.DeepEqual(have, want) {
		diff := 0
		for k, n := range want {
			if have[k] != n {
				diff++
			}
		}
		t.Errorf("ranking_counts differ from a recount by SQL in %d of %d rankings (%d rows kept)", diff, len(want), len(have))
	}
}

// recountTally counts the stored, counted ballots afresh.
func (c *cluster) recountTally(ctx context.Context, e election) *store.Tally {
	t := c.t
	t.Helper()
	sdb, err := store.Open(ctx, c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	el, err := sdb.Election(ctx, uuid.MustParse(e.id))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := c.db.QueryContext(ctx, `SELECT ranking::text[], count(*) FROM ballots
		WHERE election_id = $1 AND status = 'counted' GROUP BY ranking`, e.id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tally := &store.Tally{Election: el}
	for rows.Next() {
		var r pq.StringArray
		var rc store.RankingCount
		if err := rows.Scan(&r, &rc.Count); err != nil {
			t.Fatal(err)
		}
		for _, s := range r {
			rc.Ranking = append(rc.Ranking, uuid.MustParse(s))
		}
		tally.Rankings = append(tally.Rankings, rc)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return tally
}

// clientTally is what the voters who got receipts sent, counted on the
// client side.
func (d *loadDriver) clientTally(ctx context.Context) *store.Tally {
	t := d.c.t
	t.Helper()
	sdb, err := store.Open(ctx, d.c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	el, err := sdb.Election(ctx, uuid.MustParse(d.e.id))
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	counts := map[string]int64{}
	for _, r := range d.receipts {
		counts[fmt.Sprint(r)]++
	}
	tally := &store.Tally{Election: el}
	seen := map[string]bool{}
	for _, r := range d.receipts {
		k := fmt.Sprint(r)
		if seen[k] {
			continue
		}
		seen[k] = true
		rc := store.RankingCount{Count: counts[k]}
		for _, ci := range r {
			rc.Ranking = append(rc.Ranking, uuid.MustParse(d.e.ids[ci]))
		}
		tally.Rankings = append(tally.Rankings, rc)
	}
	return tally
}

// checkSnapshot compares the stored results report with the report of a
// tally (RCTab JSON, compared as JSON values: Postgres's jsonb reorders keys).
func (c *cluster) checkSnapshot(ctx context.Context, e election, snapshot []byte, want *store.Tally, what string) {
	t := c.t
	t.Helper()
	wantSnap, err := worker.Count(want)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := wantSnap.Report
	var got, exp any
	if err := json.Unmarshal(snapshot, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(wantJSON, &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		var g, w rcv.Report
		json.Unmarshal(snapshot, &g)
		json.Unmarshal(wantJSON, &w)
		t.Errorf("results snapshot differs from %s:\n got %d rounds, round 1 %v\nwant %d rounds, round 1 %v",
			what, len(g.Results), firstRound(g), len(w.Results), firstRound(w))
	}
}

func firstRound(r rcv.Report) string {
	if len(r.Results) == 0 {
		return "(no rounds)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "total %s:", r.Summary.TotalNumBallots)
	for k, v := range r.Results[0].Tally {
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}
