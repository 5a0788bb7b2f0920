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

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

// bundlingPublisher is a publisher that bundles the topology's BundleKeys,
// one bundle in flight, connected.
func bundlingPublisher(t *testing.T, url string, topo rabbitmq.Topology) *rabbitmq.Publisher {
	t.Helper()
	pub := rabbitmq.NewPublisher(url, topo, quiet())
	pub.Bundle.InFlight = 1
	t.Cleanup(func() { pub.Close() })
	if err := pub.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	return pub
}

// publishGathered publishes each body under its own ID, concurrently, as
// one bundle, and returns each publish's error.
func publishGathered(t *testing.T, pub *rabbitmq.Publisher, key string, ids []string, bodies []string) []error {
	t.Helper()
	send := rabbitmq.GatherBundle(pub, key)
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() { errs[i] = pub.Publish(context.Background(), key, ids[i], []byte(bodies[i])) })
	}
	send(len(ids))
	wg.Wait()
	return errs
}

// Publishes that arrive while a bundle awaits its confirm share the next
// broker message, on the bundles queue; each returns once that message is
// confirmed, and the consumer hands each to the handler as a message of its
// own, with its own ID and routing key. A publish that finds nothing in
// flight goes at once, a bundle of one.
func TestPublisherBundlesWhatArrivesTogether(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	pub := bundlingPublisher(t, rabbitmqtest.URL(), topo)
	var ids, bodies []string
	for i := range 10 {
		ids, bodies = append(ids, uuid.NewString()), append(bodies, fmt.Sprintf(`{"n":%d}`, i))
	}
	for i, err := range publishGathered(t, pub, runoff.KeyVoteSubmit, ids, bodies) {
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	lone := uuid.NewString()
	if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, lone, []byte(`{"n":"lone"}`)); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(pub.Metrics.Confirmed.WithLabelValues(runoff.KeyVoteSubmit)); got != 11 {
		t.Errorf("runoff_publish_confirmed_total = %v, want 11: each message counts, not each broker message", got)
	}

	// Two broker messages on the bundles queue, none on the votes queue:
	// the bundle of ten (under the ID of the message that came first),
	// then the bundle of one.
	rabbitmqtest.WaitFor(t, "two broker messages", func() bool { return rabbitmqtest.Depth(t, topo.Bundles) == 2 })
	if n := rabbitmqtest.Depth(t, topo.Votes); n != 0 {
		t.Errorf("%d messages on the votes queue", n)
	}
	ch := rabbitmqtest.Channel(t)
	var last uint64
	for _, want := range [][]string{ids, {lone}} {
		d, ok, err := ch.Get(topo.Bundles, false)
		if err != nil || !ok {
			t.Fatalf("get: %v %v", ok, err)
		}
		if d.ContentType != rabbitmq.BundleContentType || !slices.Contains(want, d.MessageId) || d.RoutingKey != "bundle."+runoff.KeyVoteSubmit {
			t.Errorf("bundle: %q %q %q, want one of %q", d.ContentType, d.MessageId, d.RoutingKey, want)
		}
		last = d.DeliveryTag
	}
	if err := ch.Nack(last, true, true); err != nil { // both back, for the consumer
		t.Fatal(err)
	}

	r := &recorder{}
	seen := map[string]string{}
	var mu sync.Mutex
	m := consumeWith(t, topo, func(ctx context.Context, batch []runoff.Message) ([]string, error) {
		mu.Lock()
		for _, msg := range batch {
			if msg.RoutingKey != runoff.KeyVoteSubmit {
				t.Errorf("message %s with routing key %q", msg.ID, msg.RoutingKey)
			}
			seen[msg.ID] = string(msg.Body)
		}
		mu.Unlock()
		return r.handle(ctx, batch)
	}, r.handleDead)
	rabbitmqtest.WaitFor(t, "eleven messages carried out", func() bool { done, _ := r.snapshot(); return len(done) == 11 })
	rabbitmqtest.WaitFor(t, "queue drained", func() bool { return rabbitmqtest.Depth(t, topo.Bundles) == 0 })
	mu.Lock()
	defer mu.Unlock()
	for i, id := range ids {
		if seen[id] != bodies[i] {
			t.Errorf("message %s: handler saw %q, want %q", id, seen[id], bodies[i])
		}
	}
	if seen[lone] != `{"n":"lone"}` || len(seen) != 11 {
		t.Errorf("handler saw %d messages: %v", len(seen), seen)
	}
	if got := testutil.ToFloat64(m.Consumed.WithLabelValues(topo.Bundles)); got != 11 {
		t.Errorf("runoff_consumed_total = %v, want 11", got)
	}
}

// A broker whose topology an older worker declared has no bundles queue:
// the web then sends each message alone, to the queue those workers read,
// and none is bundled for a worker that could not read it.
func TestPublisherBundlesOnlyWhereTheQueueIs(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	if _, err := rabbitmqtest.Channel(t).QueueDelete(topo.Bundles, false, false, false); err != nil {
		t.Fatal(err)
	}
	pub := bundlingPublisher(t, rabbitmqtest.URL(), topo)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, fmt.Sprint(i), []byte(`{}`)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	rabbitmqtest.WaitFor(t, "twenty messages on the votes queue", func() bool { return rabbitmqtest.Depth(t, topo.Votes) == 20 })
	if n, err := pub.VotesWaiting(context.Background()); err != nil || n != 20 {
		t.Errorf("VotesWaiting = %d, %v; want 20", n, err)
	}

	// Once workers that read bundles have declared their queue, the
	// publisher finds it, without a restart, and bundles again.
	rabbitmq.RecheckTopologyEvery(pub, 10*time.Millisecond)
	if err := topo.Declare(rabbitmqtest.Channel(t)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	for i := range 2 { // the first finds the queue; the second is bundled
		if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, fmt.Sprint("again", i), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	rabbitmqtest.WaitFor(t, "a bundle on the bundles queue", func() bool { return rabbitmqtest.Depth(t, topo.Bundles) >= 1 })
}

// Concurrent publishes through a bundling publisher, with no help from the
// test: every one is confirmed and carried out once.
func TestPublisherBundlesUnderLoad(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	pub := bundlingPublisher(t, rabbitmqtest.URL(), topo)
	pub.Bundle.MaxParts = 7 // full bundles go at once, whatever is in flight
	r := &recorder{}
	consume(t, topo, r)
	const n = 500
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, fmt.Sprint(i), fmt.Appendf(nil, "m%03d", i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rabbitmqtest.WaitFor(t, "every message carried out", func() bool { done, _ := r.snapshot(); return len(done) >= n })
	done, _ := r.snapshot()
	slices.Sort(done)
	if len(slices.Compact(done)) != n {
		t.Errorf("carried out %d distinct of %d", len(slices.Compact(done)), n)
	}
}

// A part the handler refuses is dead-lettered alone, as a message of its
// own under its own ID; the rest of its bundle is carried out.
func TestConsumerDeadLettersOnePartOfABundle(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	r := &recorder{decide: func(body string) string {
		if strings.HasPrefix(body, "bad") {
			return "bad message: " + body
		}
		return ""
	}}
	consume(t, topo, r)
	pub := bundlingPublisher(t, rabbitmqtest.URL(), topo)
	ids := []string{"id-ok1", "id-bad", "id-ok2"}
	for _, err := range publishGathered(t, pub, runoff.KeyVoteSubmit, ids, []string{"ok1", "bad", "ok2"}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	rabbitmqtest.WaitFor(t, "the bad part dead-lettered", func() bool { _, dead := r.snapshot(); return len(dead) == 1 })
	rabbitmqtest.WaitFor(t, "queues drained", func() bool {
		return rabbitmqtest.Depth(t, topo.Bundles) == 0 && rabbitmqtest.Depth(t, topo.DeadQueue) == 0
	})
	done, dead := r.snapshot()
	slices.Sort(done)
	if !slices.Equal(done, []string{"ok1", "ok2"}) {
		t.Errorf("carried out %q", done)
	}
	if dl := dead[0]; dl.MessageID != "id-bad" || string(dl.Body) != "bad" || dl.Reason != "bad message: bad" || dl.RoutingKey != runoff.KeyVoteSubmit || dl.Queue != topo.Bundles {
		t.Errorf("dead letter %+v", dl)
	}
}

// A bundle the consumer cannot read whole is carried out in no part: it is
// dead-lettered whole, with a reason, and kept whole in the dead letters.
func TestConsumerRefusesDamagedBundle(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	r := &recorder{}
	consume(t, topo, r)
	good := rabbitmq.BundleBody(runoff.KeyVoteSubmit, []string{"a", "b"}, [][]byte{[]byte("one"), []byte("two")})
	damaged := good[:len(good)-1]
	rabbitmqtest.PublishRaw(t, topo.Direct, "bundle."+runoff.KeyVoteSubmit, "damaged", damaged)
	rabbitmqtest.WaitFor(t, "the bundle dead-lettered", func() bool { _, dead := r.snapshot(); return len(dead) == 1 })
	done, dead := r.snapshot()
	if len(done) != 0 {
		t.Errorf("carried out %q from a damaged bundle", done)
	}
	if dl := dead[0]; dl.MessageID != "damaged" || string(dl.Body) != string(damaged) || !strings.Contains(dl.Reason, "bundle") {
		t.Errorf("dead letter %q %q: %q", dl.MessageID, dl.Body, dl.Reason)
	}
}

// A bundle the broker dead-lettered whole (past the delivery limit) is
// read back as one dead letter per part, each under its own ID, so an
// organizer can requeue each on its own.
func TestBundleDeadLetteredByTheBroker(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	r := &recorder{}
	consume(t, topo, r)
	body := rabbitmq.BundleBody(runoff.KeyVoteSubmit, []string{"a", "b"}, [][]byte{[]byte("one"), []byte("two")})
	rabbitmqtest.PublishRaw(t, topo.DeadExchange, "bundle."+runoff.KeyVoteSubmit, "a", body)
	rabbitmqtest.WaitFor(t, "two dead letters", func() bool { _, dead := r.snapshot(); return len(dead) == 2 })
	_, dead := r.snapshot()
	slices.SortFunc(dead, func(x, y runoff.DeadLetter) int { return strings.Compare(x.MessageID, y.MessageID) })
	if dead[0].MessageID != "a" || string(dead[0].Body) != "one" || dead[1].MessageID != "b" || string(dead[1].Body) != "two" {
		t.Errorf("dead letters %q %q, %q %q", dead[0].MessageID, dead[0].Body, dead[1].MessageID, dead[1].Body)
	}
	for _, dl := range dead {
		if dl.RoutingKey != runoff.KeyVoteSubmit {
			t.Errorf("dead letter %s: routing key %q, want its message's", dl.MessageID, dl.RoutingKey)
		}
	}
	if dead[0].ID == dead[1].ID {
		t.Error("two parts share one dead letter ID")
	}
}

// A bundle that cannot be delivered fails each of its publishes: unroutable,
// or no confirm in time. Nothing is reported accepted that was not.
func TestBundleFailsEachPublish(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	t.Run("unroutable", func(t *testing.T) {
		pub := bundlingPublisher(t, rabbitmqtest.URL(), topo)
		admin := rabbitmqtest.Channel(t)
		if err := admin.QueueUnbind(topo.Bundles, "bundle."+runoff.KeyVoteSubmit, topo.Direct, nil); err != nil {
			t.Fatal(err)
		}
		defer admin.QueueBind(topo.Bundles, "bundle."+runoff.KeyVoteSubmit, topo.Direct, false, nil)
		for i, err := range publishGathered(t, pub, runoff.KeyVoteSubmit, []string{"a", "b", "c"}, []string{"1", "2", "3"}) {
			if !errors.Is(err, rabbitmq.ErrUnroutable) || !errors.Is(err, runoff.ErrUnavailable) {
				t.Errorf("publish %d: %v", i, err)
			}
		}
	})
	t.Run("broker down", func(t *testing.T) {
		proxy := rabbitmqtest.NewProxy(t)
		pub := bundlingPublisher(t, proxy.URL(), topo)
		proxy.Cut() // the broker goes, and does not come back
		for i, err := range publishGathered(t, pub, runoff.KeyVoteSubmit, []string{"a", "b", "c"}, []string{"1", "2", "3"}) {
			if !errors.Is(err, runoff.ErrUnavailable) {
				t.Errorf("publish %d: %v", i, err)
			}
		}
		// Nothing is left in flight: the next publish is tried at once.
		if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, "d", []byte("4")); !errors.Is(err, runoff.ErrUnavailable) {
			t.Errorf("publish after: %v", err)
		}
	})
	t.Run("no confirm", func(t *testing.T) {
		proxy := rabbitmqtest.NewProxy(t)
		pub := bundlingPublisher(t, proxy.URL(), topo)
		pub.Timeout = 300 * time.Millisecond
		proxy.Hold()
		for i, err := range publishGathered(t, pub, runoff.KeyVoteSubmit, []string{"a", "b", "c"}, []string{"1", "2", "3"}) {
			if !errors.Is(err, runoff.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("publish %d: %v", i, err)
			}
		}
		proxy.Cut() // so that closing does not wait for the held broker's answer
	})
}
