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

func bundlingPublisher(t *testing.T, url string, topo rabbitmq.Topology, keys ...string) *rabbitmq.Publisher {
	t.Helper()
	pub := rabbitmq.NewPublisher(url, topo, quiet())
	pub.Bundle.Keys = keys
	pub.Bundle.InFlight = 1
	t.Cleanup(func() { pub.Close() })
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
// broker message; each returns once that message is confirmed, and the
// consumer hands each to the handler as a message of its own. A publish
// that finds nothing in flight goes alone, as plain JSON.
func TestPublisherBundlesWhatArrivesTogether(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	pub := bundlingPublisher(t, rabbitmqtest.URL(), topo, runoff.KeyVoteSubmit)
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

	// Two broker messages: the bundle (under the ID of the part that came
	// first), then the lone one as itself.
	rabbitmqtest.WaitFor(t, "two broker messages", func() bool { return rabbitmqtest.Depth(t, topo.Votes) == 2 })
	ch := rabbitmqtest.Channel(t)
	first, ok, err := ch.Get(topo.Votes, false)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	second, ok, err := ch.Get(topo.Votes, false)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if first.ContentType != rabbitmq.BundleContentType || !slices.Contains(ids, first.MessageId) || first.RoutingKey != runoff.KeyVoteSubmit {
		t.Errorf("bundle: %q %q %q", first.ContentType, first.MessageId, first.RoutingKey)
	}
	if second.ContentType != "application/json" || second.MessageId != lone || string(second.Body) != `{"n":"lone"}` {
		t.Errorf("lone message: %q %q %q", second.ContentType, second.MessageId, second.Body)
	}
	if err := ch.Nack(second.DeliveryTag, true, true); err != nil {
		t.Fatal(err)
	}

	r := &recorder{}
	seen := map[string]string{}
	var mu sync.Mutex
	m := consumeWith(t, topo, func(ctx context.Context, batch []runoff.Message) ([]string, error) {
		mu.Lock()
		for _, msg := range batch {
			seen[msg.ID] = string(msg.Body)
		}
		mu.Unlock()
		return r.handle(ctx, batch)
	}, r.handleDead)
	rabbitmqtest.WaitFor(t, "eleven messages carried out", func() bool { done, _ := r.snapshot(); return len(done) == 11 })
	rabbitmqtest.WaitFor(t, "queue drained", func() bool { return rabbitmqtest.Depth(t, topo.Votes) == 0 })
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
	if got := testutil.ToFloat64(m.Consumed.WithLabelValues(topo.Votes)); got != 11 {
		t.Errorf("runoff_consumed_total = %v, want 11", got)
	}
}

// Concurrent publishes through a bundling publisher, with no help from the
// test: every one is confirmed and carried out once.
func TestPublisherBundlesUnderLoad(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	pub := bundlingPublisher(t, rabbitmqtest.URL(), topo, runoff.KeyVoteSubmit)
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
	pub := bundlingPublisher(t, rabbitmqtest.URL(), topo, runoff.KeyVoteSubmit)
	ids := []string{"id-ok1", "id-bad", "id-ok2"}
	for _, err := range publishGathered(t, pub, runoff.KeyVoteSubmit, ids, []string{"ok1", "bad", "ok2"}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	rabbitmqtest.WaitFor(t, "the bad part dead-lettered", func() bool { _, dead := r.snapshot(); return len(dead) == 1 })
	rabbitmqtest.WaitFor(t, "queues drained", func() bool {
		return rabbitmqtest.Depth(t, topo.Votes) == 0 && rabbitmqtest.Depth(t, topo.DeadQueue) == 0
	})
	done, dead := r.snapshot()
	slices.Sort(done)
	if !slices.Equal(done, []string{"ok1", "ok2"}) {
		t.Errorf("carried out %q", done)
	}
	if dl := dead[0]; dl.MessageID != "id-bad" || string(dl.Body) != "bad" || dl.Reason != "bad message: bad" || dl.RoutingKey != runoff.KeyVoteSubmit {
		t.Errorf("dead letter %+v", dl)
	}
}

// A bundle the consumer cannot read whole is carried out in no part: it is
// dead-lettered whole, with a reason, and kept whole in the dead letters.
func TestConsumerRefusesDamagedBundle(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	r := &recorder{}
	consume(t, topo, r)
	good := rabbitmq.BundleBody([]string{"a", "b"}, [][]byte{[]byte("one"), []byte("two")})
	damaged := good[:len(good)-1]
	rabbitmqtest.PublishRaw(t, topo.Exchange, runoff.KeyVoteSubmit, "damaged", damaged)
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
	body := rabbitmq.BundleBody([]string{"a", "b"}, [][]byte{[]byte("one"), []byte("two")})
	rabbitmqtest.PublishRaw(t, topo.DeadExchange, runoff.KeyVoteSubmit, "a", body)
	rabbitmqtest.WaitFor(t, "two dead letters", func() bool { _, dead := r.snapshot(); return len(dead) == 2 })
	_, dead := r.snapshot()
	slices.SortFunc(dead, func(x, y runoff.DeadLetter) int { return strings.Compare(x.MessageID, y.MessageID) })
	if dead[0].MessageID != "a" || string(dead[0].Body) != "one" || dead[1].MessageID != "b" || string(dead[1].Body) != "two" {
		t.Errorf("dead letters %q %q, %q %q", dead[0].MessageID, dead[0].Body, dead[1].MessageID, dead[1].Body)
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
		pub := bundlingPublisher(t, rabbitmqtest.URL(), topo, "nothing.bound")
		for i, err := range publishGathered(t, pub, "nothing.bound", []string{"a", "b", "c"}, []string{"1", "2", "3"}) {
			if !errors.Is(err, rabbitmq.ErrUnroutable) || !errors.Is(err, runoff.ErrUnavailable) {
				t.Errorf("publish %d: %v", i, err)
			}
		}
	})
	t.Run("broker down", func(t *testing.T) {
		pub := bundlingPublisher(t, "amqp://guest:guest@127.0.0.1:1/", topo, runoff.KeyVoteSubmit)
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
		pub := bundlingPublisher(t, proxy.URL(), topo, runoff.KeyVoteSubmit)
		pub.Timeout = 300 * time.Millisecond
		if err := pub.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		proxy.Hold()
		for i, err := range publishGathered(t, pub, runoff.KeyVoteSubmit, []string{"a", "b", "c"}, []string{"1", "2", "3"}) {
			if !errors.Is(err, runoff.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("publish %d: %v", i, err)
			}
		}
		proxy.Cut() // so that closing does not wait for the held broker's answer
	})
}
