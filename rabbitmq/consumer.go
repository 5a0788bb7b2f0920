package rabbitmq

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff"
)

// Handler carries out a batch of messages from one queue. For each message
// it returns "" when the message was carried out (or had been before: every
// message may arrive more than once), or the reason it never can be; those
// are dead-lettered with that reason.
//
// An error means nothing of the batch is done. If it wraps runoff.ErrInvalid,
// the batch's data is at fault, and the consumer carries out each message
// alone to find the culprit; any other error is taken as transient, and the
// batch is tried again, whole, after a pause.
type Handler func(ctx context.Context, batch []runoff.Message) (dead []string, err error)

// Consumer consumes queues in batches (up to BatchSize, or whatever arrived
// within BatchWait of the first), hands each batch to its queue's Handler,
// and acks the batch with one multiple-ack only after the handler returned:
// a crash at any point leaves the batch unacked, and the broker delivers it
// again, which handlers make harmless.
type Consumer struct {
	// URL is the broker's URL, or several nodes' URLs comma-separated: the
	// consumer connects to one and, when it fails, resumes on the next.
	URL string
	// TLS configures amqps:// connections; nil trusts the system's roots.
	TLS       *tls.Config
	Topology  Topology
	Handlers  map[string]Handler // by queue name
	Log       *slog.Logger
	BatchSize int
	BatchWait time.Duration
	Prefetch  int
	Metrics   *Metrics
	// MaxBody, if set, is the largest body the consumer hands to a
	// handler: the largest message Runoff sends. A larger one comes from
	// no Runoff process; it is dead-lettered with a reason, and only its
	// first KeptBody bytes are kept.
	MaxBody int
}

// KeptBody is how much of a refused oversized message is dead-lettered.
const KeptBody = 1024

// NewConsumer makes a consumer with production defaults.
func NewConsumer(url string, topo Topology, handlers map[string]Handler, log *slog.Logger) *Consumer {
	return &Consumer{URL: url, Topology: topo, Handlers: handlers, Log: log,
		BatchSize: 200, BatchWait: 50 * time.Millisecond, Prefetch: 400, Metrics: NewMetrics(nil)}
}

// Run consumes until ctx is cancelled, reconnecting after connection loss.
// On cancel it stops taking messages, finishes and acks the batch in hand,
// and returns nil.
func (c *Consumer) Run(ctx context.Context) error {
	d := newDialer(c.URL, c.TLS)
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := c.session(ctx, d)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > 10*time.Second {
			backoff = 100 * time.Millisecond
		}
		c.Log.Warn("consumer session ended; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (c *Consumer) session(ctx context.Context, d *dialer) error {
	conn, node, err := d.dial("runoff worker", 5*time.Second)
	if err != nil {
		return fmt.Errorf("rabbitmq: dial: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("rabbitmq: channel: %w", err)
	}
	if err := c.Topology.Declare(ch); err != nil {
		return err
	}
	ch.Close()
	queues := make([]string, 0, len(c.Handlers))
	for q := range c.Handlers {
		queues = append(queues, q)
	}
	c.Log.Info("worker connected", "node", node, "queues", queues)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(c.Handlers))
	var wg sync.WaitGroup
	for q, h := range c.Handlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.consume(ctx, conn, q, h)
			cancel() // one queue's loop ending ends the session
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func (c *Consumer) consume(ctx context.Context, conn *amqp.Connection, queue string, h Handler) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("rabbitmq: %s: channel: %w", queue, err)
	}
	defer ch.Close()
	if err := ch.Qos(c.Prefetch, 0, false); err != nil {
		return fmt.Errorf("rabbitmq: %s: qos: %w", queue, err)
	}
	dlch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("rabbitmq: %s: channel: %w", queue, err)
	}
	defer dlch.Close()
	if err := dlch.Confirm(false); err != nil {
		return fmt.Errorf("rabbitmq: %s: confirm: %w", queue, err)
	}
	tag := "runoff-worker-" + uuid.NewString()
	deliveries, err := ch.Consume(queue, tag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("rabbitmq: %s: consume: %w", queue, err)
	}
	batch := make([]amqp.Delivery, 0, c.BatchSize)
	units := make([]unit, 0, c.BatchSize)
	for {
		batch, units = batch[:0], units[:0]
		if ctx.Err() != nil {
			// Shutting down: prefetched messages stay unacked and return
			// to the queue when the channel closes.
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return fmt.Errorf("rabbitmq: %s: deliveries closed: %w", queue, amqp.ErrClosed)
			}
			batch = append(batch, d)
			units = c.unpack(queue, len(batch)-1, &batch[len(batch)-1], units)
		}
		timer := time.NewTimer(c.BatchWait)
		open := true
	collect:
		for len(units) < c.BatchSize {
			select {
			case d, ok := <-deliveries:
				if !ok {
					open = false
					break collect
				}
				batch = append(batch, d)
				units = c.unpack(queue, len(batch)-1, &batch[len(batch)-1], units)
			case <-timer.C:
				break collect
			case <-ctx.Done():
				break collect
			}
		}
		timer.Stop()
		if ctx.Err() != nil {
			// Shutting down: take no more, but finish the batch in hand.
			ch.Cancel(tag, false)
		}
		if err := c.finish(ctx, ch, dlch, queue, batch, units, h); err != nil {
			return err
		}
		if !open {
			return fmt.Errorf("rabbitmq: %s: deliveries closed: %w", queue, amqp.ErrClosed)
		}
	}
}

// finish carries out a batch, dead-letters what can never be carried out,
// and acks the batch. Transient failures (Postgres down) are retried with
// backoff, holding the batch, so the broker neither redelivers it hot nor
// counts it towards the delivery limit. The batch runs on a context that
// shutdown does not cancel: the batch in hand is finished, not abandoned.
func (c *Consumer) finish(ctx context.Context, ch, dlch *amqp.Channel, queue string, batch []amqp.Delivery, units []unit, h Handler) error {
	work := context.WithoutCancel(ctx)
	for _, d := range batch {
		if d.Redelivered {
			c.Metrics.Redelivered.WithLabelValues(queue).Inc()
		}
	}
	// What unpack refused (too large, a damaged bundle) is refused here,
	// before any handler reads it.
	dead := make([]string, len(units))
	msgs := make([]runoff.Message, 0, len(units))
	handled := make([]int, 0, len(units)) // msgs[j] is units[handled[j]]
	for i, u := range units {
		if u.refused != "" {
			dead[i] = u.refused
			continue
		}
		d := &batch[u.delivery]
		m := runoff.Message{RoutingKey: u.key, ID: u.id, Body: u.body}
		if queue == c.Topology.DeadQueue {
			m.DeadLetter = deadLetterOf(d, u)
		}
		msgs = append(msgs, m)
		handled = append(handled, i)
	}
	backoff := 100 * time.Millisecond
	for attempt := 1; len(msgs) > 0; attempt++ {
		tctx, cancel := context.WithTimeout(work, 30*time.Second)
		start := time.Now()
		d, err := c.split(tctx, queue, msgs, h)
		cancel()
		if err == nil {
			for j, reason := range d {
				dead[handled[j]] = reason
			}
			c.Metrics.CommitSeconds.WithLabelValues(queue).Observe(time.Since(start).Seconds())
			break
		}
		c.Metrics.BatchRetries.WithLabelValues(queue).Inc()
		if ctx.Err() != nil {
			return fmt.Errorf("rabbitmq: %s: giving up batch at shutdown (it will be redelivered): %w", queue, err)
		}
		c.Log.Warn("batch failed; retrying", "queue", queue, "size", len(units), "attempt", attempt, "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	for i, reason := range dead {
		if reason == "" {
			continue
		}
		u, d := units[i], &batch[units[i].delivery]
		if queue == c.Topology.DeadQueue {
			// A dead letter that cannot even be stored is not sent round
			// again: it is logged whole, and acked.
			body := u.body
			if len(body) > KeptBody {
				body = body[:KeptBody]
			}
			c.Log.Error("dead letter could not be stored", "reason", reason, "message_id", u.id,
				"routing_key", u.key, "body_bytes", len(u.body), "body", body)
			continue
		}
		if err := c.deadLetter(work, dlch, queue, d, u, reason); err != nil {
			return err
		}
	}
	if err := ch.Ack(batch[len(batch)-1].DeliveryTag, true); err != nil {
		return fmt.Errorf("rabbitmq: %s: ack: %w", queue, err)
	}
	c.Metrics.Consumed.WithLabelValues(queue).Add(float64(len(units)))
	c.Metrics.BatchSize.WithLabelValues(queue).Observe(float64(len(units)))
	c.Log.Debug("batch done", "queue", queue, "size", len(units), "deliveries", len(batch))
	return nil
}

// unit is one message as handlers see it: a delivery, or one part of a
// bundle (see bundle.go).
type unit struct {
	delivery int // its delivery's index in the batch
	key      string
	id       string
	body     []byte
	part     bool   // one message of a bundle
	refused  string // why it is dead-lettered before any handler sees it
}

// unpack appends the messages a delivery carries: itself, or each part of a
// bundle.
func (c *Consumer) unpack(queue string, i int, d *amqp.Delivery, into []unit) []unit {
	tooLarge := func(body []byte) string {
		if c.MaxBody <= 0 || len(body) <= c.MaxBody {
			return ""
		}
		return fmt.Sprintf("message of %d bytes, larger than the largest Runoff sends (%d bytes); only its first %d bytes are kept",
			len(body), c.MaxBody, KeptBody)
	}
	if !isBundle(d.Body) {
		return append(into, unit{delivery: i, key: d.RoutingKey, id: d.MessageId, body: d.Body, refused: tooLarge(d.Body)})
	}
	key, parts, err := readBundle(d.Body)
	if err != nil && queue == c.Topology.DeadQueue {
		// Dead-lettered whole for being damaged: kept whole, as it is.
		return append(into, unit{delivery: i, key: d.RoutingKey, id: d.MessageId, body: d.Body, refused: tooLarge(d.Body)})
	}
	if err != nil {
		return append(into, unit{delivery: i, key: d.RoutingKey, id: d.MessageId, body: d.Body,
			refused: "This message is a bundle of messages that cannot be read whole (" + err.Error() + "), so none of it was carried out. " +
				"No Runoff process sends such a bundle: it was damaged, or made elsewhere."})
	}
	for _, p := range parts {
		into = append(into, unit{delivery: i, key: key, id: p.id, body: p.body, part: true, refused: tooLarge(p.body)})
	}
	return into
}

// split runs h over the batch; if the batch's data is at fault (an error
// wrapping runoff.ErrInvalid, which retrying cannot cure), it runs h over
// each message alone so that only the culprits are dead-lettered.
func (c *Consumer) split(ctx context.Context, queue string, batch []runoff.Message, h Handler) ([]string, error) {
	dead, err := h(ctx, batch)
	if err == nil || !errors.Is(err, runoff.ErrInvalid) {
		return dead, err
	}
	dead = make([]string, len(batch))
	for i := range batch {
		d, err := h(ctx, batch[i:i+1])
		switch {
		case err == nil:
			dead[i] = d[0]
		case errors.Is(err, runoff.ErrInvalid):
			// The details (a database's words) go to the log; the reason
			// that organizers read says what happened in theirs.
			c.Log.Warn("message refused", "queue", queue, "message_id", batch[i].ID, "err", err)
			dead[i] = runoff.Reason(err)
		default:
			return nil, err
		}
	}
	return dead, nil
}
