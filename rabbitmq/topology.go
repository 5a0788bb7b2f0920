// Package rabbitmq is Runoff's messaging transport on RabbitMQ: the topology
// (a topic exchange, quorum queues, a dead-letter exchange and queue),
// dialling, the confirm publisher the web uses (which can carry a busy
// key's messages in bundles, bundle.go), and the batch consumer loop the
// worker runs (which unpacks them). It knows AMQP and a small handler contract, and nothing of
// elections or Postgres: what a routing key means is the worker's business.
package rabbitmq

import (
	"crypto/tls"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Topology names the exchanges and queues. Production uses
// DefaultTopology; tests use their own names so each runs in isolation.
type Topology struct {
	Exchange string // topic exchange the web publishes to
	// Direct is a direct exchange for the keys that carry most messages,
	// DirectKeys (routing key → queue). The broker routes an exact key
	// for about 10 µs less CPU a message than a topic match (measured on
	// the bench machine: docs/performance.md). The same keys stay bound on
	// Exchange too, so a publisher that finds no Direct exchange (a
	// broker whose topology an older worker declared) still gets through.
	Direct     string
	DirectKeys map[string]string
	// Bundles is the quorum queue that bundles of BundleKeys' messages go
	// to (bundle.go), bound on Direct by "bundle." and the key. It is a
	// queue of its own so that only workers that read bundles get them;
	// the worker consumes it with the handler of the queue the keys' lone
	// messages go to.
	Bundles      string
	BundleKeys   []string
	DeadExchange string // where the worker sends messages it can never carry out
	DeadQueue    string
	Elections    string // queue of election.* and deadletter.* messages: organizers' actions
	Votes        string // queue of vote.* messages
	// DeliveryLimit bounds redeliveries of one message before the broker
	// dead-letters it. RabbitMQ 3.10 sets none by default, and counts a
	// worker dying mid-batch as a delivery, so it is generous: it is there
	// for messages that crash the worker, not for ordinary restarts.
	DeliveryLimit int
}

// DefaultTopology is the production topology.
func DefaultTopology() Topology {
	return Topology{
		Exchange:      "runoff",
		Direct:        "runoff.direct",
		DirectKeys:    map[string]string{"vote.submit": "runoff.votes"},
		Bundles:       "runoff.bundles",
		BundleKeys:    []string{"vote.submit"},
		DeadExchange:  "runoff.dlx",
		DeadQueue:     "runoff.dead",
		Elections:     "runoff.elections",
		Votes:         "runoff.votes",
		DeliveryLimit: 20,
	}
}

// WithPrefix returns the topology with every name prefixed, for tests.
func (t Topology) WithPrefix(p string) Topology {
	t.Exchange, t.DeadExchange, t.DeadQueue = p+t.Exchange, p+t.DeadExchange, p+t.DeadQueue
	t.Elections, t.Votes = p+t.Elections, p+t.Votes
	if t.Bundles != "" {
		t.Bundles = p + t.Bundles
	}
	if t.Direct != "" {
		t.Direct = p + t.Direct
	}
	keys := make(map[string]string, len(t.DirectKeys))
	for k, q := range t.DirectKeys {
		keys[k] = p + q
	}
	t.DirectKeys = keys
	return t
}

// Queues lists the work queues with the routing keys bound to each.
func (t Topology) Queues() map[string][]string {
	return map[string][]string{
		t.Elections: {"election.*", "deadletter.*", "account.*"},
		t.Votes:     {"vote.*"},
	}
}

// VoteQueues are the queues ballots wait in: Votes, and Bundles if the
// topology has it.
func (t Topology) VoteQueues() []string {
	if t.Bundles == "" {
		return []string{t.Votes}
	}
	return []string{t.Votes, t.Bundles}
}

// workQueueArgs are the arguments of every work queue.
func (t Topology) workQueueArgs() amqp.Table {
	return amqp.Table{
		amqp.QueueTypeArg:        amqp.QueueTypeQuorum,
		"x-delivery-limit":       int64(t.DeliveryLimit),
		"x-dead-letter-exchange": t.DeadExchange,
	}
}

// Declare declares the exchanges, quorum queues and bindings. runoff
// migrate and the worker call it (the web only publishes, and its broker
// user may not declare); declaring what exists with the same arguments
// changes nothing.
func (t Topology) Declare(ch *amqp.Channel) error {
	if err := ch.ExchangeDeclare(t.Exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		return fmt.Errorf("rabbitmq: declare exchange %s: %w", t.Exchange, err)
	}
	if err := ch.ExchangeDeclare(t.DeadExchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		return fmt.Errorf("rabbitmq: declare exchange %s: %w", t.DeadExchange, err)
	}
	if _, err := ch.QueueDeclare(t.DeadQueue, true, false, false, false, amqp.Table{
		amqp.QueueTypeArg: amqp.QueueTypeQuorum,
	}); err != nil {
		return fmt.Errorf("rabbitmq: declare queue %s: %w", t.DeadQueue, err)
	}
	if err := ch.QueueBind(t.DeadQueue, "#", t.DeadExchange, false, nil); err != nil {
		return fmt.Errorf("rabbitmq: bind %s: %w", t.DeadQueue, err)
	}
	for q, keys := range t.Queues() {
		if _, err := ch.QueueDeclare(q, true, false, false, false, t.workQueueArgs()); err != nil {
			return fmt.Errorf("rabbitmq: declare queue %s: %w", q, err)
		}
		for _, k := range keys {
			if err := ch.QueueBind(q, k, t.Exchange, false, nil); err != nil {
				return fmt.Errorf("rabbitmq: bind %s to %s: %w", q, k, err)
			}
		}
	}
	if t.Direct == "" {
		return nil
	}
	if err := ch.ExchangeDeclare(t.Direct, amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
		return fmt.Errorf("rabbitmq: declare exchange %s: %w", t.Direct, err)
	}
	for k, q := range t.DirectKeys {
		if err := ch.QueueBind(q, k, t.Direct, false, nil); err != nil {
			return fmt.Errorf("rabbitmq: bind %s to %s on %s: %w", q, k, t.Direct, err)
		}
	}
	if t.Bundles == "" {
		return nil
	}
	if _, err := ch.QueueDeclare(t.Bundles, true, false, false, false, t.workQueueArgs()); err != nil {
		return fmt.Errorf("rabbitmq: declare queue %s: %w", t.Bundles, err)
	}
	for _, k := range t.BundleKeys {
		if err := ch.QueueBind(t.Bundles, bundleRoute(k), t.Direct, false, nil); err != nil {
			return fmt.Errorf("rabbitmq: bind %s to %s on %s: %w", t.Bundles, bundleRoute(k), t.Direct, err)
		}
	}
	return nil
}

// exchangeFor is the exchange a key is published to: Direct for its keys
// when the publisher found it declared, Exchange otherwise.
func (t Topology) exchangeFor(key string, direct bool) string {
	if _, ok := t.DirectKeys[key]; ok && direct {
		return t.Direct
	}
	return t.Exchange
}

// Delete removes everything Declare made; tests call it when done.
func (t Topology) Delete(ch *amqp.Channel) error {
	for _, q := range []string{t.Elections, t.Votes, t.DeadQueue, t.Bundles} {
		if q == "" {
			continue
		}
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			return fmt.Errorf("rabbitmq: delete queue %s: %w", q, err)
		}
	}
	for _, x := range []string{t.Exchange, t.DeadExchange, t.Direct} {
		if x == "" {
			continue
		}
		if err := ch.ExchangeDelete(x, false, false); err != nil {
			return fmt.Errorf("rabbitmq: delete exchange %s: %w", x, err)
		}
	}
	return nil
}

// DeclareTopology connects to one of urls (comma-separated) and declares t.
func DeclareTopology(urls string, tlsConfig *tls.Config, t Topology) error {
	conn, _, err := newDialer(urls, tlsConfig).dial("runoff migrate", 5*time.Second)
	if err != nil {
		return fmt.Errorf("rabbitmq: dial: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("rabbitmq: channel: %w", err)
	}
	return t.Declare(ch)
}
