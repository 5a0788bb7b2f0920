package rabbitmq_test

import (
	"context"
	"errors"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

// brokerUsers creates the web's and the worker's broker users for a
// prefix with scripts/broker-users.sh, as scripts/services.sh does for
// development, deletes them at cleanup, and returns their URLs. It skips
// the test when rabbitmqctl cannot be run (it needs root).
func brokerUsers(t *testing.T, prefix string) (webURL, workerURL string) {
	t.Helper()
	script := filepath.Join("..", "scripts", "broker-users.sh")
	if out, err := exec.Command(script, prefix).CombinedOutput(); err != nil {
		t.Skipf("cannot create broker users with %s (rabbitmqctl needs root): %v\n%s", script, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(script, "--delete", prefix).CombinedOutput(); err != nil {
			t.Errorf("deleting the test's broker users: %v\n%s", err, out)
		}
	})
	as := func(user string) string {
		u, err := url.Parse(rabbitmqtest.URL())
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(prefix+user, prefix+user)
		return u.String()
	}
	return as("runoff_web"), as("runoff_worker")
}

// The web's broker user publishes its own routing keys to the runoff
// exchange and nothing else: it cannot forge the worker's vote.seal, write
// dead letters, declare the topology or consume a vote. The worker's user
// does what the worker does.
func TestBrokerUsersHaveLeastPrivilege(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	prefix := strings.TrimSuffix(topo.Exchange, "runoff")
	webURL, workerURL := brokerUsers(t, prefix)
	ctx := context.Background()

	web := rabbitmq.NewPublisher(webURL, topo, quiet())
	defer web.Close()
	for _, key := range runoff.PublishedKeys() {
		err := web.Publish(ctx, key, uuid.NewString(), []byte("{}"))
		if key == runoff.KeyVoteSeal {
			if err == nil || !strings.Contains(err.Error(), "ACCESS_REFUSED") {
				t.Errorf("the web published %s: %v", key, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("the web cannot publish %s: %v", key, err)
		}
	}
	if _, err := web.VotesWaiting(ctx); err != nil {
		t.Errorf("the web cannot see how many ballots wait: %v", err)
	}
	// Ballots go by the direct exchange: with vote.submit unbound from the
	// topic exchange, the web's ballot still reaches the votes queue.
	admin := rabbitmqtest.Channel(t)
	if err := admin.QueueUnbind(topo.Votes, "vote.*", topo.Exchange, nil); err != nil {
		t.Fatal(err)
	}
	if err := web.Publish(ctx, runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}")); err != nil {
		t.Errorf("the web's ballot did not go by the direct exchange: %v", err)
	}
	if err := admin.QueueBind(topo.Votes, "vote.*", topo.Exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	// Bundles of ballots go to the bundles queue, which the web's user
	// may see but not read.
	bundling := rabbitmq.NewPublisher(webURL, topo, quiet())
	bundling.Bundle.InFlight = 1
	defer bundling.Close()
	if err := bundling.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	before := rabbitmqtest.Depth(t, topo.Bundles)
	if err := bundling.Publish(ctx, runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}")); err != nil {
		t.Errorf("the web cannot send a bundle: %v", err)
	}
	rabbitmqtest.WaitFor(t, "the web's bundle on the bundles queue", func() bool { return rabbitmqtest.Depth(t, topo.Bundles) == before+1 })

	refused := func(what string, f func(ch *amqp.Channel) error) {
		t.Helper()
		conn, err := amqp.Dial(webURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		closed := ch.NotifyClose(make(chan *amqp.Error, 1))
		if err = f(ch); err == nil {
			err = <-closed // a refused publish closes the channel
		}
		var ae *amqp.Error
		if !errors.As(err, &ae) || ae.Code != amqp.AccessRefused {
			t.Errorf("the web could %s: %v", what, err)
		}
	}
	refused("consume the votes queue", func(ch *amqp.Channel) error {
		_, err := ch.Consume(topo.Votes, "", false, false, false, false, nil)
		return err
	})
	refused("consume the bundles queue", func(ch *amqp.Channel) error {
		_, err := ch.Consume(topo.Bundles, "", false, false, false, false, nil)
		return err
	})
	refused("declare the topology", func(ch *amqp.Channel) error {
		return rabbitmq.DefaultTopology().WithPrefix("test-" + uuid.NewString()[:8] + ".").Declare(ch)
	})
	refused("write a dead letter", func(ch *amqp.Channel) error {
		if err := ch.Confirm(false); err != nil {
			return err
		}
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, topo.DeadExchange, runoff.KeyVoteSubmit, false, false, amqp.Publishing{Body: []byte("{}")})
		if err != nil {
			return err
		}
		dc.WaitContext(ctx)
		return nil
	})

	// The worker: declares the topology, publishes what it publishes, and
	// consumes.
	wtopo := rabbitmq.DefaultTopology().WithPrefix(prefix)
	if err := rabbitmq.DeclareTopology(workerURL, nil, wtopo); err != nil {
		t.Fatalf("the worker cannot declare the topology: %v", err)
	}
	worker := rabbitmq.NewPublisher(workerURL, wtopo, quiet())
	defer worker.Close()
	for _, key := range runoff.PublishedKeys() {
		if err := worker.Publish(ctx, key, uuid.NewString(), []byte("{}")); err != nil {
			t.Errorf("the worker cannot publish %s: %v", key, err)
		}
	}
	r := &recorder{decide: func(string) string { return "refused, to check dead-lettering" }}
	consumeFrom(t, workerURL, wtopo, r)
	// (the web's vote.submit is in the same queue.)
	rabbitmqtest.WaitFor(t, "the worker consumed and dead-lettered its vote.seal", func() bool {
		_, dead := r.snapshot()
		return slices.ContainsFunc(dead, func(d runoff.DeadLetter) bool { return d.RoutingKey == runoff.KeyVoteSeal })
	})
}
