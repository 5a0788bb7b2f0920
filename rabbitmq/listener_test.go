package rabbitmq_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

// listen runs a Listener as url's user until the test ends and returns
// what it heard and whether it is up.
func listen(t *testing.T, url string, topo rabbitmq.Topology, keys ...string) (heard func() []string, up *atomic.Bool) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	up = &atomic.Bool{}
	l := &rabbitmq.Listener{URL: url, Topology: topo, Keys: keys, Log: quiet(), Up: up.Store,
		Handle: func(key string, body []byte) { mu.Lock(); got = append(got, key+" "+string(body)); mu.Unlock() }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	rabbitmqtest.WaitFor(t, "the listener to be up", up.Load)
	return func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }, up
}

// Every listener hears every announcement, each on a queue of its own;
// an announcement nobody listens to is not an error.
func TestListenersEachHearAnnouncements(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	pub := rabbitmq.NewPublisher(rabbitmqtest.URL(), topo, quiet())
	defer pub.Close()
	ctx := context.Background()
	if err := pub.Announce(ctx, "election.changed.x", []byte(`{}`)); err != nil {
		t.Fatalf("announcing to nobody: %v", err)
	}
	a, _ := listen(t, rabbitmqtest.URL(), topo, "election.changed.*")
	b, _ := listen(t, rabbitmqtest.URL(), topo, "election.changed.*")
	if err := pub.Announce(ctx, "election.changed.y", []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	// A confirmed publish after an announcement still gets its confirm.
	if err := pub.Publish(ctx, "vote.submit", "v1", []byte(`{}`)); err != nil {
		t.Fatalf("a publish after an announcement: %v", err)
	}
	for name, heard := range map[string]func() []string{"a": a, "b": b} {
		rabbitmqtest.WaitFor(t, "listener "+name+" to hear the announcement", func() bool {
			h := heard()
			return len(h) == 1 && h[0] == "election.changed.y 1"
		})
	}
}

// The web's broker user may declare, bind and read its own queues
// (runoff.web.*) and no other.
func TestWebUserListensOnlyOnItsOwnQueues(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	prefix := strings.TrimSuffix(topo.Exchange, "runoff")
	webURL, workerURL := brokerUsers(t, prefix)
	heard, _ := listen(t, webURL, topo, "election.changed.*", "election.close")
	worker := rabbitmq.NewPublisher(workerURL, topo, quiet())
	defer worker.Close()
	if err := worker.Announce(context.Background(), "election.changed.z", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	rabbitmqtest.WaitFor(t, "the web's listener to hear the worker", func() bool { return len(heard()) == 1 })

	conn, err := amqp.Dial(webURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.QueueDeclare(prefix+"runoff.other", false, true, true, false, nil)
	if err == nil || !strings.Contains(err.Error(), "ACCESS_REFUSED") {
		t.Errorf("the web declared a queue not its own: %v", err)
	}
}
