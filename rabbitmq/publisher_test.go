package rabbitmq_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestPublisherUnroutable(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	pub := rabbitmq.NewPublisher(rabbitmqtest.URL(), topo, quiet())
	defer pub.Close()
	err := pub.Publish(context.Background(), "nothing.bound", uuid.NewString(), []byte("{}"))
	if !errors.Is(err, rabbitmq.ErrUnroutable) || !errors.Is(err, runoff.ErrUnavailable) {
		t.Fatalf("unroutable publish: %v", err)
	}
	// The channel is still good after a return.
	if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}")); err != nil {
		t.Fatalf("publish after a return: %v", err)
	}
}

func TestPublisherBrokerDown(t *testing.T) {
	pub := rabbitmq.NewPublisher("amqp://guest:guest@127.0.0.1:1/", rabbitmq.DefaultTopology(), quiet())
	defer pub.Close()
	err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}"))
	if !errors.Is(err, runoff.ErrUnavailable) {
		t.Fatalf("publish with broker down: %v", err)
	}
	if err := pub.Ping(context.Background()); err == nil {
		t.Fatal("Ping with broker down succeeded")
	}
}

// Every routing key the web publishes reaches a queue: an unbound key
// would come back unroutable, and the person would get a 503 for ever.
func TestEveryPublishedKeyIsRouted(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	pub := rabbitmq.NewPublisher(rabbitmqtest.URL(), topo, quiet())
	defer pub.Close()
	for _, key := range runoff.PublishedKeys() {
		if err := pub.Publish(context.Background(), key, uuid.NewString(), []byte("{}")); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
}

// The dashboard's backlog: ballots waiting in the votes queue.
func TestVotesWaiting(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	pub := rabbitmq.NewPublisher(rabbitmqtest.URL(), topo, quiet())
	defer pub.Close()
	for range 3 {
		if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	rabbitmqtest.WaitFor(t, "three ballots waiting", func() bool {
		n, err := pub.VotesWaiting(context.Background())
		return err == nil && n == 3
	})
	down := rabbitmq.NewPublisher("amqp://guest:guest@127.0.0.1:1/", topo, quiet())
	defer down.Close()
	if _, err := down.VotesWaiting(context.Background()); err == nil {
		t.Fatal("VotesWaiting with the broker down succeeded")
	}
}

// Given several nodes, the publisher uses one that answers and, when it
// fails, the next; a publish whose confirm was lost with the node is
// reported as not confirmed, never as done.
func TestPublisherFollowsTheCluster(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	a, b := rabbitmqtest.NewProxy(t), rabbitmqtest.NewProxy(t)
	// The first URL does not answer at all.
	urls := "amqp://guest:guest@127.0.0.1:1/," + a.URL() + "," + b.URL()
	pub := rabbitmq.NewPublisher(urls, topo, quiet())
	pub.Timeout = 2 * time.Second
	defer pub.Close()
	publish := func() error {
		return pub.Publish(context.Background(), runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}"))
	}
	if err := publish(); err != nil {
		t.Fatalf("publish with the first node down: %v", err)
	}
	// The node stops answering, then goes: the confirm is lost.
	a.Hold()
	done := make(chan error, 1)
	go func() { done <- publish() }()
	time.Sleep(200 * time.Millisecond)
	a.Cut()
	if err := <-done; !errors.Is(err, runoff.ErrUnavailable) {
		t.Fatalf("a publish whose confirm was lost: %v, want ErrUnavailable", err)
	}
	if err := publish(); err != nil {
		t.Fatalf("publish after the node went: %v", err)
	}
	rabbitmqtest.WaitFor(t, "the two confirmed ballots (and perhaps the unconfirmed one) in the queue", func() bool {
		return rabbitmqtest.Depth(t, topo.Votes) >= 2
	})
}

// A broker whose topology an older worker declared has no direct exchange:
// the web then publishes ballots to the topic exchange, where vote.submit
// is bound too, rather than failing every ballot until a worker upgrades.
func TestPublisherWithoutTheDirectExchange(t *testing.T) {
	topo := rabbitmq.DefaultTopology().WithPrefix(rabbitmqtest.Prefix(t))
	older := topo
	older.Direct = ""
	if err := older.Declare(rabbitmqtest.Channel(t)); err != nil {
		t.Fatal(err)
	}
	pub := rabbitmq.NewPublisher(rabbitmqtest.URL(), topo, quiet())
	defer pub.Close()
	for range 3 {
		if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}")); err != nil {
			t.Fatalf("ballot without the direct exchange: %v", err)
		}
	}
	if n := rabbitmqtest.Depth(t, topo.Votes); n != 3 {
		t.Fatalf("votes queue holds %d, want 3", n)
	}
}

// A confirm that never comes fails the publish after Timeout, even when
// the caller's context has no deadline of its own.
func TestPublisherConfirmTimeout(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	proxy := rabbitmqtest.NewProxy(t)
	pub := rabbitmq.NewPublisher(proxy.URL(), topo, quiet())
	pub.Timeout = 300 * time.Millisecond
	defer pub.Close()
	if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	proxy.Hold() // the broker's answers stop coming
	done := make(chan error, 1)
	go func() {
		done <- pub.Publish(context.Background(), runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}"))
	}()
	select {
	case err := <-done:
		if !errors.Is(err, runoff.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("publish with no confirm: %v, want ErrUnavailable and a deadline", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a publish whose confirm never came is still waiting")
	}
	proxy.Cut() // so that closing does not wait for the held broker's answer
}
