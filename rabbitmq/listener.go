package rabbitmq

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Listener receives broadcasts on a queue of this process's own: every
// process that runs one gets every message published with Keys. The queue
// is exclusive and auto-delete (it goes when the process does), not
// durable, and named Topology.WebQueuePrefix() and a random suffix, which
// is all the web's broker user may declare and read. Messages are taken
// without acknowledgement: a broadcast is a hint to forget something, not
// work, and one missed while disconnected is covered by Up.
type Listener struct {
	// URL is the broker's URL, or several nodes' URLs comma-separated.
	URL      string
	TLS      *tls.Config
	Topology Topology
	// Keys are the binding keys on Topology.Exchange (topic patterns).
	Keys []string
	// Handle is called for each message, one at a time, in order.
	Handle func(key string, body []byte)
	// Up is called with true once the queue is bound and consumed, and with
	// false when it is lost: messages published in between were missed.
	Up  func(up bool)
	Log *slog.Logger
	// RetryEvery is the pause between two dials after a failure.
	RetryEvery time.Duration
}

// WebQueuePrefix begins the names of the web processes' own queues.
func (t Topology) WebQueuePrefix() string { return t.Exchange + ".web." }

// Run listens until ctx is cancelled, reconnecting (to the next node, if
// several) whenever the connection is lost.
func (l *Listener) Run(ctx context.Context) error {
	d := newDialer(l.URL, l.TLS)
	retry := l.RetryEvery
	if retry <= 0 {
		retry = time.Second
	}
	wait := retry
	for {
		start := time.Now()
		err := l.session(ctx, d)
		l.Up(false)
		if ctx.Err() != nil {
			return nil
		}
		// A broker that stays down is tried less and less often (up to
		// every 10 s), so the log is not a line a second.
		if time.Since(start) > time.Minute {
			wait = retry
		}
		l.Log.Warn("listener disconnected; the web reads elections from Postgres until it listens again", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, max(retry, 10*time.Second))
	}
}

func (l *Listener) session(ctx context.Context, d *dialer) error {
	conn, node, err := d.dial("runoff listener", 3*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	q, err := ch.QueueDeclare(l.Topology.WebQueuePrefix()+hex.EncodeToString(suffix[:]), false, true, true, false,
		amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeClassic})
	if err != nil {
		return fmt.Errorf("rabbitmq: declare own queue: %w", err)
	}
	for _, k := range l.Keys {
		if err := ch.QueueBind(q.Name, k, l.Topology.Exchange, false, nil); err != nil {
			return fmt.Errorf("rabbitmq: bind %s to %s: %w", q.Name, k, err)
		}
	}
	deliveries, err := ch.ConsumeWithContext(ctx, q.Name, "", true, true, false, false, nil)
	if err != nil {
		return fmt.Errorf("rabbitmq: consume %s: %w", q.Name, err)
	}
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	l.Log.Info("listening for broadcasts", "queue", q.Name, "node", node)
	l.Up(true)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-closed:
			return fmt.Errorf("rabbitmq: connection closed: %v", err)
		case m, ok := <-deliveries:
			if !ok {
				return fmt.Errorf("rabbitmq: %s: consumer cancelled", q.Name)
			}
			l.Handle(m.RoutingKey, m.Body)
		}
	}
}
