package rabbitmq_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

// recorder is a handler that records what it carried out, and decides
// each message by its body.
type recorder struct {
	mu     sync.Mutex
	done   []string                 // bodies carried out
	dead   []runoff.DeadLetter      // what the dead-letter queue's handler saw
	decide func(body string) string // "" = carried out, else the reason
	batch  func(n int) error        // an error for a whole batch, if any
	calls  int
}

func (r *recorder) handle(_ context.Context, batch []runoff.Message) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.batch != nil {
		if err := r.batch(len(batch)); err != nil {
			return nil, err
		}
	}
	dead := make([]string, len(batch))
	for i, m := range batch {
		if r.decide != nil {
			dead[i] = r.decide(string(m.Body))
		}
		if dead[i] == "" {
			r.done = append(r.done, string(m.Body))
		}
	}
	return dead, nil
}

func (r *recorder) handleDead(_ context.Context, batch []runoff.Message) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range batch {
		r.dead = append(r.dead, *m.DeadLetter)
	}
	return make([]string, len(batch)), nil
}

func (r *recorder) snapshot() (done []string, dead []runoff.DeadLetter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.done), slices.Clone(r.dead)
}

// consume runs a consumer of the votes and dead-letter queues with h until
// the test ends.
func consume(t *testing.T, topo rabbitmq.Topology, r *recorder) *rabbitmq.Metrics {
	t.Helper()
	return consumeFrom(t, rabbitmqtest.URL(), topo, r)
}

func consumeFrom(t *testing.T, urls string, topo rabbitmq.Topology, r *recorder) *rabbitmq.Metrics {
	t.Helper()
	return consumeVia(t, urls, topo, r.handle, r.handleDead)
}

// consumeWith runs a consumer of the votes and dead-letter queues with
// these handlers until the test ends.
func consumeWith(t *testing.T, topo rabbitmq.Topology, votes, dead rabbitmq.Handler) *rabbitmq.Metrics {
	t.Helper()
	return consumeVia(t, rabbitmqtest.URL(), topo, votes, dead)
}

func consumeVia(t *testing.T, urls string, topo rabbitmq.Topology, votes, dead rabbitmq.Handler) *rabbitmq.Metrics {
	t.Helper()
	c := rabbitmq.NewConsumer(urls, topo, map[string]rabbitmq.Handler{
		topo.Votes:     votes,
		topo.Bundles:   votes,
		topo.DeadQueue: dead,
	}, quiet())
	c.BatchWait = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consumer: %v", err)
		}
	})
	return c.Metrics
}

func publishBodies(t *testing.T, topo rabbitmq.Topology, bodies ...string) {
	t.Helper()
	pub := rabbitmq.NewPublisher(rabbitmqtest.URL(), topo, quiet())
	defer pub.Close()
	for i, b := range bodies {
		if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, fmt.Sprintf("m%d", i), []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
}

// Messages a handler refuses go to the dead-letter queue with its reason;
// the dead-letter queue's handler reads them back with the reason, the queue
// they died on and the routing key; the rest are carried out once and acked.
func TestConsumerDeadLettersWithReason(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	r := &recorder{decide: func(body string) string {
		if strings.HasPrefix(body, "bad") {
			return "bad message: " + body
		}
		return ""
	}}
	m := consume(t, topo, r)
	publishBodies(t, topo, "ok1", "bad1", "ok2", "bad2", "ok3")
	rabbitmqtest.WaitFor(t, "two dead letters read back", func() bool { _, dead := r.snapshot(); return len(dead) == 2 })
	rabbitmqtest.WaitFor(t, "queues drained", func() bool {
		return rabbitmqtest.Depth(t, topo.Votes) == 0 && rabbitmqtest.Depth(t, topo.DeadQueue) == 0
	})
	done, dead := r.snapshot()
	slices.Sort(done)
	if !slices.Equal(done, []string{"ok1", "ok2", "ok3"}) {
		t.Errorf("carried out %q", done)
	}
	for _, dl := range dead {
		if dl.Reason != "bad message: "+string(dl.Body) || dl.Queue != topo.Votes || dl.RoutingKey != runoff.KeyVoteSubmit || dl.MessageID == "" || dl.DeadAt.IsZero() {
			t.Errorf("dead letter %+v", dl)
		}
	}
	if got := testutil.ToFloat64(m.DeadLettered.WithLabelValues(topo.Votes)); got != 2 {
		t.Errorf("runoff_dead_lettered_total = %v, want 2", got)
	}
}

// A batch refused for its data (ErrInvalid) is split so that only the
// culprit is dead-lettered, with a reason in words, not the error's text.
func TestConsumerSplitsABatchWithBadData(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	r := &recorder{}
	poison := errors.New("pq: value too long for type character varying(5) (22001)")
	// Any batch holding the poison fails for its data, as a store refusing
	// one row refuses the whole transaction; the others alone pass.
	h := func(ctx context.Context, batch []runoff.Message) ([]string, error) {
		for _, m := range batch {
			if string(m.Body) == "poison" {
				return nil, fmt.Errorf("store: votes: %w: %w", runoff.ErrInvalid, poison)
			}
		}
		return r.handle(ctx, batch)
	}
	c := rabbitmq.NewConsumer(rabbitmqtest.URL(), topo, map[string]rabbitmq.Handler{topo.Votes: h, topo.DeadQueue: r.handleDead}, quiet())
	c.BatchWait = 200 * time.Millisecond // so the five arrive as one batch
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { c.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	publishBodies(t, topo, "a", "b", "poison", "c", "d")
	rabbitmqtest.WaitFor(t, "the poison dead-lettered", func() bool { _, dead := r.snapshot(); return len(dead) == 1 })
	done, dead := r.snapshot()
	slices.Sort(done)
	if !slices.Equal(done, []string{"a", "b", "c", "d"}) {
		t.Errorf("carried out %q, want the four good ones", done)
	}
	if string(dead[0].Body) != "poison" || dead[0].Reason != runoff.Reason(runoff.ErrInvalid) || strings.Contains(dead[0].Reason, "pq:") {
		t.Errorf("dead letter %q: reason %q", dead[0].Body, dead[0].Reason)
	}
}

// A transient failure holds the batch and retries it: nothing is
// dead-lettered, nothing is lost, and the retries are counted.
func TestConsumerRetriesTransientFailures(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	failures := 2
	r := &recorder{}
	r.batch = func(int) error {
		if failures > 0 {
			failures--
			return errors.New("connection refused")
		}
		return nil
	}
	m := consume(t, topo, r)
	publishBodies(t, topo, "x")
	rabbitmqtest.WaitFor(t, "the message carried out", func() bool { done, _ := r.snapshot(); return len(done) == 1 })
	rabbitmqtest.WaitFor(t, "queue drained", func() bool { return rabbitmqtest.Depth(t, topo.Votes) == 0 })
	if got := testutil.ToFloat64(m.BatchRetries.WithLabelValues(topo.Votes)); got != 2 {
		t.Errorf("runoff_batch_retries_total = %v, want 2", got)
	}
	if _, dead := r.snapshot(); len(dead) != 0 {
		t.Errorf("dead-lettered %d", len(dead))
	}
}

// Given several nodes, the consumer resumes on the next when its node goes;
// what it had not acked comes again, and nothing is lost.
func TestConsumerFollowsTheCluster(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	a, b := rabbitmqtest.NewProxy(t), rabbitmqtest.NewProxy(t)
	r := &recorder{}
	consumeFrom(t, a.URL()+","+b.URL(), topo, r)
	publishBodies(t, topo, "before")
	rabbitmqtest.WaitFor(t, "the first message carried out", func() bool { done, _ := r.snapshot(); return len(done) == 1 })
	a.Cut()
	publishBodies(t, topo, "after")
	rabbitmqtest.WaitFor(t, "the second message carried out through the other node", func() bool {
		done, _ := r.snapshot()
		return slices.Contains(done, "after")
	})
	rabbitmqtest.WaitFor(t, "queue drained", func() bool { return rabbitmqtest.Depth(t, topo.Votes) == 0 })
}

// A message larger than any Runoff sends is refused before a handler reads
// it, dead-lettered with the reason, and only its start is kept.
func TestConsumerRefusesOversizedMessages(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	r := &recorder{}
	c := rabbitmq.NewConsumer(rabbitmqtest.URL(), topo, map[string]rabbitmq.Handler{
		topo.Votes:     r.handle,
		topo.DeadQueue: r.handleDead,
	}, quiet())
	c.BatchWait = 20 * time.Millisecond
	c.MaxBody = 2000
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	big := strings.Repeat("x", 5000)
	publishBodies(t, topo, "small", big, strings.Repeat("y", 2000))
	rabbitmqtest.WaitFor(t, "the oversized message dead-lettered", func() bool { _, dead := r.snapshot(); return len(dead) == 1 })
	rabbitmqtest.WaitFor(t, "the others carried out", func() bool { d, _ := r.snapshot(); return len(d) == 2 })
	carried, dead := r.snapshot()
	for _, b := range carried {
		if len(b) > 2000 {
			t.Errorf("a handler was given a body of %d bytes", len(b))
		}
	}
	dl := dead[0]
	if len(dl.Body) != rabbitmq.KeptBody || string(dl.Body) != big[:rabbitmq.KeptBody] {
		t.Errorf("dead letter kept %d bytes, want the first %d", len(dl.Body), rabbitmq.KeptBody)
	}
	if !strings.Contains(dl.Reason, "5000 bytes") || !strings.Contains(dl.Reason, "2000") {
		t.Errorf("reason %q", dl.Reason)
	}
}
