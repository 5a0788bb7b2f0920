//go:build faults

// Fault tests: the real binary's web and worker run as processes of their
// own against the real PostgreSQL and RabbitMQ, a stream of ballots goes
// through the real HTTP endpoint, and each test breaks something in the
// middle of it — kills the worker or the web with SIGKILL, restarts
// RabbitMQ or PostgreSQL, injects poison messages, runs three workers at
// once. Afterwards every ballot that got a receipt must be stored exactly
// once, the counts and results must equal a recount, and the queues must
// be empty.
//
//	go test -tags faults -count=1 -timeout 20m -run Fault -v ./cmd/runoff/faults/
//
// These tests stop and start this machine's PostgreSQL and RabbitMQ (as
// root, with rabbitmqctl and pg_ctlcluster) and always start them again.
package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runoff-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
	runoffBin = filepath.Join(dir, "runoff")
	build := exec.Command("go", "build", "-o", runoffBin, "github.com/runoff-vote/runoff/cmd/runoff")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faults: go build:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// 1. The worker is killed with SIGKILL five times mid-stream, and started
// again each time: batches in hand die uncommitted or committed-but-unacked,
// and are redelivered; nothing is lost and nothing counted twice.
func TestFaultWorkerKilled(t *testing.T) {
	c := newCluster(t)
	c.startWeb(0)
	w := c.startWorker()
	e := c.setUpElection()
	d := c.drive(e, loadOptions{clients: 4, perSecond: 300, maxSent: 20000})
	d.waitReceipts("the stream starts", 0, 200)

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5 {
		// Each worker carries out a few hundred votes, a different number
		// each time, so that the kill lands at a different point of a batch.
		waitConsumed(t, c, w, 200+rng.IntN(300))
		before := d.receipted()
		w.kill9(t)
		w = c.startWorker()
		t.Logf("kill %d: worker killed and restarted at %d receipts", i+1, before)
	}
	waitConsumed(t, c, w, 300)
	c.check("worker_kill9", d, checkOptions{})
}

// waitConsumed waits until worker w has carried out and acked n more votes
// than it had when called (runoff_consumed_total on its /metrics, of the
// votes queue and the bundles queue).
func waitConsumed(t *testing.T, c *cluster, w *proc, n int) {
	t.Helper()
	from := c.voteMetric(t, w, "runoff_consumed_total")
	rabbitmqtest.WaitFor(t, fmt.Sprintf("%s carries out %d more votes", w.name, n), func() bool {
		got, err := c.voteMetricErr(w, "runoff_consumed_total")
		return err == nil && got >= from+float64(n)
	})
}

// voteMetric is a worker's metric summed over the queues ballots come by.
func (c *cluster) voteMetric(t *testing.T, w *proc, metric string) float64 {
	t.Helper()
	v, err := c.voteMetricErr(w, metric)
	if err != nil {
		t.Fatalf("%s /metrics: %v", w.name, err)
	}
	return v
}

func (c *cluster) voteMetricErr(w *proc, metric string) (float64, error) {
	sum := 0.0
	for _, q := range c.topo.VoteQueues() {
		v, err := w.metric(perQueue(metric, q))
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// 2. RabbitMQ's application is stopped mid-stream and started again: while
// it is down votes get the 503 page and no receipt; afterwards the same web
// and worker processes publish and consume again by themselves.
func TestFaultRabbitMQRestart(t *testing.T) {
	c := newCluster(t)
	web := c.startWeb(0)
	w := c.startWorker()
	e := c.setUpElection()
	d := c.drive(e, loadOptions{clients: 4, perSecond: 300, maxSent: 20000})
	d.waitReceipts("the stream starts", 0, 300)

	stopRabbitMQ(t)
	// Once the broker application has stopped, no publish can be confirmed:
	// a ballot sent from now on must be refused, never receipted. (Requests
	// sent before may still be answering, with or without a receipt.)
	down := time.Now()
	rabbitmqtest.WaitFor(t, "200 ballots sent while the broker is down are refused with a 503", func() bool {
		_, _, refused := d.sentSince(down)
		return refused >= 200
	})
	if answered, receipted, _ := d.sentSince(down); receipted != 0 {
		t.Errorf("%d of the %d ballots sent while RabbitMQ was down got a receipt", receipted, answered)
	}
	if err := startRabbitMQ(); err != nil {
		t.Fatal(err)
	}
	d.waitReceipts("receipts resume after RabbitMQ is back", d.receipted(), 300)
	// The same worker process reconnects by itself and carries votes out
	// again (it was never restarted: the check below says so).
	waitConsumed(t, c, w, 300)

	if !web.alive() || !w.alive() || c.web != web || len(c.workers) != 1 {
		t.Errorf("web or worker process did not survive the broker restart")
	}
	c.check("rabbitmq_restart", d, checkOptions{})
}

// 3. PostgreSQL is restarted (fast shutdown: sessions cut, transactions in
// flight rolled back) while the worker has a backlog in hand. Its batches
// fail and are retried until Postgres is back; the web's reads fail
// meanwhile (the driver counts them) and recover by themselves.
func TestFaultPostgresRestart(t *testing.T) {
	version, name := pgCluster(t)
	c := newCluster(t)
	web := c.startWeb(0)
	w := c.startWorker()
	e := c.setUpElection()
	d := c.drive(e, loadOptions{clients: 4, perSecond: 300, maxSent: 20000})
	d.waitReceipts("the stream starts", 0, 300)

	// Pause the worker briefly so that it holds a backlog of votes when
	// Postgres goes away, as a busy worker would.
	t.Cleanup(func() { w.cmd.Process.Signal(syscall.SIGCONT) })
	if err := w.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	backlogFrom := d.receipted()
	d.waitReceipts("a backlog builds up", backlogFrom, 200)
	stopPostgres(t, version, name)
	if err := w.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The worker holds its batch and retries it with backoff (0.1s, 0.2s,
	// … 1.6s), not dead-lettering it nor losing it: five retries keep
	// Postgres down for a few seconds, as a restart would.
	rabbitmqtest.WaitFor(t, "the worker retries its batch five times while Postgres is down", func() bool {
		n, err := c.voteMetricErr(w, "runoff_batch_retries_total")
		return err == nil && n >= 5
	})
	if err := startPostgres(version, name); err != nil {
		t.Fatal(err)
	}
	d.waitReceipts("receipts resume after Postgres is back", d.receipted(), 300)
	waitConsumed(t, c, w, 300)

	if !web.alive() || !w.alive() || c.web != web || len(c.workers) != 1 {
		t.Errorf("web or worker process did not survive the Postgres restart")
	}
	retried := c.voteMetric(t, w, "runoff_batch_retries_total")
	c.check("postgres_restart", d, checkOptions{})
	t.Logf("worker retried batches %v times; web requests failed while Postgres was down: %d",
		retried, d.otherCode.Load()+d.rejected.Load())
}

// 4. The web process is killed with SIGKILL three times mid-stream and
// started again (on the same port when it is free; the driver follows).
// Requests in flight get no answer; every receipt given is honoured.
func TestFaultWebKilled(t *testing.T) {
	c := newCluster(t)
	c.startWeb(0)
	c.startWorker()
	e := c.setUpElection()
	d := c.drive(e, loadOptions{clients: 4, perSecond: 300, maxSent: 20000})
	d.waitReceipts("the stream starts", 0, 200)

	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3 {
		// A few hundred receipts, a different number each time, so that the
		// kill lands at a different point of the stream.
		d.waitReceipts(fmt.Sprintf("the web takes votes before kill %d", i+1), d.receipted(), 300+rng.IntN(300))
		port := c.webPort
		noAnswer := d.noAnswer.Load()
		c.web.kill9(t)
		rabbitmqtest.WaitFor(t, "the voters notice the web is gone", func() bool { return d.noAnswer.Load() > noAnswer })
		c.restartWeb(port)
		d.waitReceipts("receipts resume after the web restarts", d.receipted(), 200)
		t.Logf("kill %d: web killed on port %d and restarted on %d", i+1, port, c.webPort)
	}
	d.waitReceipts("the last web takes more votes", d.receipted(), 300)
	c.check("web_kill9", d, checkOptions{})
}

// restartWeb starts the web on port again, as a platform restarts a dyno
// behind its router; if a client's ephemeral port took the port meanwhile,
// on any port (the driver follows).
func (c *cluster) restartWeb(port int) {
	c.t.Helper()
	if _, err := c.tryStartWeb(port); err != nil {
		c.t.Logf("%v; starting it on another port", err)
		c.startWeb(0)
	}
}

// 5. Poison messages are published straight into the exchange among the
// ballots: malformed JSON, unknown routing keys, a vote for an election
// that does not exist, a message_id that is not its ballot's ID, a vote
// without a ballot ID. Each is dead-lettered once, with the reason (the
// x-runoff-reason header, kept by the worker in dead_letters), none is
// stored as a ballot, and the stream around them flows.
func TestFaultPoisonMessages(t *testing.T) {
	c := newCluster(t)
	c.startWeb(0)
	c.startWorker()
	e := c.setUpElection()
	d := c.drive(e, loadOptions{clients: 4, perSecond: 300, maxSent: 20000})
	d.waitReceipts("the stream starts", 0, 200)

	type poison struct {
		key, messageID string
		body           []byte
		// reason is the dead letter's reason, word for word; a malformed
		// message's ends with the JSON decoder's words, so for those it
		// is how the reason starts.
		reason string
		prefix bool
	}
	vote := func(ballot, electionID uuid.UUID) []byte {
		b, _ := json.Marshal(runoff.VoteSubmit{BallotID: ballot, ElectionID: electionID,
			Ranking: []uuid.UUID{uuid.MustParse(e.ids[0])}, SubmittedAt: time.Now().UTC()})
		return b
	}
	malformed := func(key string) string { return "The " + key + " message is not valid JSON of the expected shape (" }
	real := uuid.MustParse(e.id)
	// The one message whose message_id cannot be unique: a vote without a
	// ballot ID (its message_id must match the nil ID, or be empty).
	poisons := []poison{{key: runoff.KeyVoteSubmit, messageID: uuid.Nil.String(), body: vote(uuid.Nil, real),
		reason: "This ballot message has no ballot ID, so it cannot be stored or receipted."}}
	var mustNotStore []uuid.UUID
	for range 3 {
		b1, b2, b3, b4 := uuid.New(), uuid.New(), uuid.New(), uuid.New()
		mustNotStore = append(mustNotStore, b1, b2, b3, b4)
		nowhere, wrongID := uuid.New(), uuid.NewString()
		poisons = append(poisons,
			poison{runoff.KeyVoteSubmit, uuid.NewString(), []byte(`{"ballot_id": "`), malformed(runoff.KeyVoteSubmit), true},
			poison{runoff.KeyVoteSubmit, uuid.NewString(), []byte(`[1, 2, 3]`), malformed(runoff.KeyVoteSubmit), true},
			poison{runoff.KeyVoteSubmit, b4.String(), []byte(`{"ballot_id":"` + b4.String() + `","election_id":"not-a-uuid"}`), malformed(runoff.KeyVoteSubmit), true},
			poison{runoff.KeyElectionCreate, uuid.NewString(), []byte(`not json`), malformed(runoff.KeyElectionCreate), true},
			poison{"vote.bogus", b1.String(), vote(b1, real), `Runoff has no action for messages of kind "vote.bogus".`, false},
			poison{"election.bogus", uuid.NewString(), []byte(`{}`), `Runoff has no action for messages of kind "election.bogus".`, false},
			poison{runoff.KeyVoteSubmit, b2.String(), vote(b2, nowhere),
				fmt.Sprintf("There is no election %s (yet): the ballot names an election that was never created.", nowhere), false},
			poison{runoff.KeyVoteSubmit, wrongID, vote(b3, real),
				fmt.Sprintf("The vote.submit message's ID %q is not the ID its body names (%s).", wrongID, b3), false},
		)
	}
	ch := rabbitmqtest.Channel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, len(poisons)))
	for i, p := range poisons {
		dc, err := ch.PublishWithDeferredConfirm(c.topo.Exchange, p.key, true, false, amqp.Publishing{
			ContentType: "application/json", DeliveryMode: amqp.Persistent, MessageId: p.messageID, Body: p.body,
		})
		if err != nil {
			t.Fatal(err)
		}
		if !dc.Wait() {
			t.Fatalf("poison %d not confirmed", i)
		}
		if i%3 == 2 { // spread them through the stream
			d.waitReceipts("ballots between the poison", d.receipted(), 100)
		}
	}
	select {
	case r := <-returns:
		t.Fatalf("poison %s (%s) was unroutable: it never reached a queue", r.MessageId, r.RoutingKey)
	default:
	}
	d.waitReceipts("ballots flow after the poison", d.receipted(), 300)
	c.check("poison", d, checkOptions{deadLetters: len(poisons)})

	dls, err := c.deadLetters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string][]deadLetter{}
	for _, dl := range dls {
		seen[dl.MessageID] = append(seen[dl.MessageID], dl)
	}
	for i, p := range poisons {
		got := seen[p.messageID]
		if len(got) != 1 {
			t.Errorf("poison %d (%s, %q) dead-lettered %d times, want once", i, p.key, p.reason, len(got))
			continue
		}
		reasonOK := got[0].Reason == p.reason || p.prefix && strings.HasPrefix(got[0].Reason, p.reason)
		if !reasonOK || got[0].RoutingKey != p.key {
			t.Errorf("poison %d: dead letter %+v, want routing key %s and the reason %q", i, got[0], p.key, p.reason)
		}
	}
	for _, id := range mustNotStore {
		var n int
		if err := c.db.QueryRow(`SELECT count(*) FROM ballots WHERE id = $1`, id).Scan(&n); err != nil || n != 0 {
			t.Errorf("poison ballot %s stored (%d, %v)", id, n, err)
		}
	}
}

// 6. Two webs take the ballots in turn and three workers consume at once
// while 20,000 ballots stream in: the counts and the results are exactly
// those of the ballots the voters were given receipts for, counted on the
// client side — the same as one web and one worker.
func TestFaultThreeWorkers(t *testing.T) {
	const ballots = 20000
	c := newCluster(t)
	for range 2 {
		c.startWeb(0)
		c.voteBases = append(c.voteBases, c.baseURL())
	}
	var ws []*proc
	for range 3 {
		ws = append(ws, c.startWorker())
	}
	e := c.setUpElection()
	d := c.drive(e, loadOptions{clients: 8, want: ballots, maxSent: 2 * ballots})
	rabbitmqtest.WaitForWithin(t, 5*time.Minute, "20,000 receipts", func() bool { return d.receipted() >= ballots })
	d.stop()
	if n := d.receipted(); n != ballots {
		t.Fatalf("%d receipts after %d requests, want %d", n, d.sent.Load(), ballots)
	}
	// Each web published its half of the ballots, every one of them
	// through its bundler: alone, or in a bundle with others.
	for _, w := range c.webs {
		n := w.mustMetric(t, `runoff_publish_confirmed_total{key="vote.submit"}`)
		if n < ballots*2/5 {
			t.Errorf("%s confirmed %v ballots, want at least %d (two fifths)", w.name, n, ballots*2/5)
		}
		parts := w.mustMetric(t, `runoff_publish_bundle_parts_sum{key="vote.submit"}`)
		messages := w.mustMetric(t, `runoff_publish_bundle_parts_count{key="vote.submit"}`)
		if parts != n {
			t.Errorf("%s sent %v ballots through its bundler and had %v confirmed", w.name, parts, n)
		}
		t.Logf("%s: %v ballots in %v broker messages", w.name, parts, messages)
	}
	f := c.check("three_workers", d, checkOptions{})
	t.Logf("vote batches per worker: %v", f.voteBatches)
	if len(f.voteBatches) != len(ws) {
		t.Fatalf("%d workers running at the end, want %d", len(f.voteBatches), len(ws))
	}
	for i, n := range f.voteBatches {
		if n == 0 {
			t.Errorf("worker %d stored no batch: the three did not share the work", i+1)
		}
	}
	if f.receiptedStored != ballots || f.counted != ballots {
		t.Errorf("stored %d of the %d receipted ballots, counted %d", f.receiptedStored, ballots, f.counted)
	}

	// The snapshot is the tabulation of exactly what the voters sent…
	ctx := context.Background()
	var snapshot []byte
	if err := c.db.QueryRow(`SELECT report FROM results WHERE election_id = $1`, e.id).Scan(&snapshot); err != nil {
		t.Fatal(err)
	}
	c.checkSnapshot(ctx, e, snapshot, d.clientTally(ctx), "the tabulation of the ballots sent, counted client-side")
	// …and, spelled out, its first round is the voters' first choices.
	var rep struct {
		Results []struct {
			Tally map[string]string `json:"tally"`
		} `json:"results"`
	}
	if err := json.Unmarshal(snapshot, &rep); err != nil || len(rep.Results) == 0 {
		t.Fatalf("results report: %v", err)
	}
	first := map[string]int{}
	d.mu.Lock()
	for _, r := range d.receipts {
		first[e.names[r[0]]]++
	}
	d.mu.Unlock()
	for _, name := range e.names {
		if got := rep.Results[0].Tally[name]; got != fmt.Sprint(first[name]) {
			t.Errorf("round 1, %s: %s in the results, %d first choices sent", name, got, first[name])
		}
	}
	t.Logf("round 1 first choices: %v; %d rounds", first, len(rep.Results))
}
