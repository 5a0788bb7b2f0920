package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// Consumer consumes the work queues and carries each message out in
// Postgres. It takes messages in batches (up to BatchSize, or whatever
// arrived within BatchWait of the first), stores a batch in one transaction,
// and acks it with one multiple-ack only after the commit: a crash at any
// point leaves the batch unacked, and the broker delivers it again, which
// the store makes harmless.
type Consumer struct {
	URL       string
	Topology  Topology
	DB        *store.DB
	Log       *slog.Logger
	BatchSize int
	BatchWait time.Duration
	Prefetch  int
	// Recompute, if set, is told which elections' counts changed.
	Recompute func(ids []uuid.UUID)
	Metrics   *Metrics
}

// NewConsumer makes a consumer with production defaults.
func NewConsumer(url string, topo Topology, db *store.DB, log *slog.Logger) *Consumer {
	return &Consumer{URL: url, Topology: topo, DB: db, Log: log, BatchSize: 200, BatchWait: 50 * time.Millisecond, Prefetch: 400, Metrics: NewMetrics(nil)}
}

// Run consumes until ctx is cancelled, reconnecting after connection loss.
// On cancel it stops taking messages, finishes and acks the batch in hand,
// and returns nil.
func (c *Consumer) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := c.session(ctx)
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

func (c *Consumer) session(ctx context.Context) error {
	conn, err := amqp.DialConfig(c.URL, amqp.Config{
		Heartbeat:  10 * time.Second,
		Locale:     "en_US",
		Dial:       amqp.DefaultDial(5 * time.Second),
		Properties: amqp.Table{"connection_name": "runoff worker"},
	})
	if err != nil {
		return fmt.Errorf("worker: dial: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("worker: channel: %w", err)
	}
	if err := c.Topology.Declare(ch); err != nil {
		return err
	}
	ch.Close()
	c.Log.Info("worker connected", "queues", []string{c.Topology.Elections, c.Topology.Votes})

	handlers := map[string]batchHandler{
		c.Topology.Elections: c.handleElections,
		c.Topology.Votes:     c.handleVotes,
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(handlers))
	var wg sync.WaitGroup
	for q, h := range handlers {
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

// batchHandler carries out a batch of deliveries and says, for each, whether
// it must be dead-lettered (a non-empty reason). An error means nothing was
// done and the whole batch is to be retried.
type batchHandler func(ctx context.Context, ds []amqp.Delivery) (dead []string, err error)

func (c *Consumer) consume(ctx context.Context, conn *amqp.Connection, queue string, h batchHandler) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("worker: %s: channel: %w", queue, err)
	}
	defer ch.Close()
	if err := ch.Qos(c.Prefetch, 0, false); err != nil {
		return fmt.Errorf("worker: %s: qos: %w", queue, err)
	}
	dlch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("worker: %s: channel: %w", queue, err)
	}
	defer dlch.Close()
	if err := dlch.Confirm(false); err != nil {
		return fmt.Errorf("worker: %s: confirm: %w", queue, err)
	}
	tag := "runoff-worker-" + uuid.NewString()
	deliveries, err := ch.Consume(queue, tag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("worker: %s: consume: %w", queue, err)
	}
	batch := make([]amqp.Delivery, 0, c.BatchSize)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return fmt.Errorf("worker: %s: deliveries closed: %w", queue, amqp.ErrClosed)
			}
			batch = append(batch, d)
		}
		timer := time.NewTimer(c.BatchWait)
		open := true
	collect:
		for len(batch) < c.BatchSize {
			select {
			case d, ok := <-deliveries:
				if !ok {
					open = false
					break collect
				}
				batch = append(batch, d)
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
		if err := c.finish(ctx, ch, dlch, queue, batch, h); err != nil {
			return err
		}
		if !open {
			return fmt.Errorf("worker: %s: deliveries closed: %w", queue, amqp.ErrClosed)
		}
	}
}

// finish carries out a batch, dead-letters what can never be carried out,
// and acks the batch. Transient failures (Postgres down) are retried with
// backoff, holding the batch, so the broker neither redelivers it hot nor
// counts it towards the delivery limit. The batch runs on a context that
// shutdown does not cancel: the batch in hand is finished, not abandoned.
func (c *Consumer) finish(ctx context.Context, ch, dlch *amqp.Channel, queue string, batch []amqp.Delivery, h batchHandler) error {
	work := context.WithoutCancel(ctx)
	backoff := 100 * time.Millisecond
	var dead []string
	for _, d := range batch {
		if d.Redelivered {
			c.Metrics.Redelivered.WithLabelValues(queue).Inc()
		}
	}
	for attempt := 1; ; attempt++ {
		tctx, cancel := context.WithTimeout(work, 30*time.Second)
		start := time.Now()
		var err error
		dead, err = c.split(tctx, batch, h)
		cancel()
		if err == nil {
			c.Metrics.CommitSeconds.WithLabelValues(queue).Observe(time.Since(start).Seconds())
			break
		}
		c.Metrics.BatchRetries.WithLabelValues(queue).Inc()
		if ctx.Err() != nil {
			return fmt.Errorf("worker: %s: giving up batch at shutdown (it will be redelivered): %w", queue, err)
		}
		c.Log.Warn("batch failed; retrying", "queue", queue, "size", len(batch), "attempt", attempt, "err", err, "in", backoff)
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
		if err := c.deadLetter(work, dlch, queue, batch[i], reason); err != nil {
			return err
		}
	}
	if err := ch.Ack(batch[len(batch)-1].DeliveryTag, true); err != nil {
		return fmt.Errorf("worker: %s: ack: %w", queue, err)
	}
	c.Metrics.Consumed.WithLabelValues(queue).Add(float64(len(batch)))
	c.Metrics.BatchSize.WithLabelValues(queue).Observe(float64(len(batch)))
	c.Log.Debug("batch done", "queue", queue, "size", len(batch))
	return nil
}

// split runs h over the batch; if Postgres rejects the batch's data itself
// (a data or constraint error, which retrying cannot cure), it runs h over
// each message alone so that only the culprits are dead-lettered.
func (c *Consumer) split(ctx context.Context, batch []amqp.Delivery, h batchHandler) ([]string, error) {
	dead, err := h(ctx, batch)
	if err == nil || !isPermanent(err) {
		return dead, err
	}
	dead = make([]string, len(batch))
	for i := range batch {
		d, err := h(ctx, batch[i:i+1])
		switch {
		case err == nil:
			dead[i] = d[0]
		case isPermanent(err):
			dead[i] = "rejected by the database: " + err.Error()
		default:
			return nil, err
		}
	}
	return dead, nil
}

// isPermanent reports a Postgres error caused by the data (class 22, data
// exception; class 23, integrity violation) rather than by the moment.
func isPermanent(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		class := string(pqErr.Code.Class())
		return class == "22" || class == "23"
	}
	return false
}

// deadLetter republishes a delivery to the dead-letter exchange with the
// reason in a header, and waits for the broker to confirm it before the
// original is acked.
func (c *Consumer) deadLetter(ctx context.Context, dlch *amqp.Channel, queue string, d amqp.Delivery, reason string) error {
	headers := amqp.Table{}
	for k, v := range d.Headers {
		headers[k] = v
	}
	headers["x-runoff-reason"] = reason
	headers["x-runoff-queue"] = queue
	headers["x-runoff-routing-key"] = d.RoutingKey
	headers["x-runoff-dead-at"] = time.Now().UTC().Format(time.RFC3339)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dc, err := dlch.PublishWithDeferredConfirmWithContext(ctx, c.Topology.DeadExchange, d.RoutingKey, false, false, amqp.Publishing{
		Headers:      headers,
		ContentType:  d.ContentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    d.MessageId,
		Timestamp:    d.Timestamp,
		Type:         d.Type,
		Body:         d.Body,
	})
	if err != nil {
		return fmt.Errorf("worker: dead-letter %s: %w", d.MessageId, err)
	}
	ok, err := dc.WaitContext(ctx)
	if err != nil || !ok {
		return fmt.Errorf("worker: dead-letter %s not confirmed: %v", d.MessageId, err)
	}
	c.Metrics.DeadLettered.WithLabelValues(queue).Inc()
	c.Log.Warn("message dead-lettered", "queue", queue, "routing_key", d.RoutingKey, "message_id", d.MessageId, "reason", reason)
	return nil
}

// decode parses a delivery's JSON body into v, and checks its routing key.
func decode(d amqp.Delivery, key string, v any) string {
	if d.RoutingKey != key {
		return fmt.Sprintf("unknown routing key %q on this queue", d.RoutingKey)
	}
	if err := json.Unmarshal(d.Body, v); err != nil {
		return "malformed " + key + " message: " + err.Error()
	}
	return ""
}

func (c *Consumer) handleVotes(ctx context.Context, ds []amqp.Delivery) ([]string, error) {
	dead := make([]string, len(ds))
	votes := make([]runoff.VoteSubmit, 0, len(ds))
	index := make([]int, 0, len(ds))
	for i, d := range ds {
		var v runoff.VoteSubmit
		if dead[i] = decode(d, runoff.KeyVoteSubmit, &v); dead[i] != "" {
			continue
		}
		if d.MessageId != "" && d.MessageId != v.BallotID.String() {
			dead[i] = "message_id does not match ballot_id"
			continue
		}
		votes, index = append(votes, v), append(index, i)
	}
	if len(votes) == 0 {
		return dead, nil
	}
	out, touched, err := c.DB.StoreVotes(ctx, votes)
	if err != nil {
		return nil, err
	}
	for j, o := range out {
		dead[index[j]] = o.Dead
	}
	if len(touched) > 0 && c.Recompute != nil {
		c.Recompute(touched)
	}
	return dead, nil
}

func (c *Consumer) handleElections(ctx context.Context, ds []amqp.Delivery) ([]string, error) {
	dead := make([]string, len(ds))
	ms := make([]runoff.ElectionCreate, 0, len(ds))
	index := make([]int, 0, len(ds))
	for i, d := range ds {
		var m runoff.ElectionCreate
		if dead[i] = decode(d, runoff.KeyElectionCreate, &m); dead[i] != "" {
			continue
		}
		if d.MessageId != "" && d.MessageId != m.ElectionID.String() {
			dead[i] = "message_id does not match election_id"
			continue
		}
		ms, index = append(ms, m), append(index, i)
	}
	if len(ms) == 0 {
		return dead, nil
	}
	out, err := c.DB.CreateElections(ctx, ms)
	if err != nil {
		return nil, err
	}
	for j, o := range out {
		dead[index[j]] = o.Dead
	}
	return dead, nil
}
