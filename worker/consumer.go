package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
	conn, err := dial(c.URL, "runoff worker", 5*time.Second)
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
		c.Topology.DeadQueue: c.handleDeadQueue,
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
// it must be dead-lettered (a non-empty reason). An error means the batch is
// to be retried (carrying out a message again must be harmless). pub is a
// confirm-mode channel for handlers that publish.
type batchHandler func(ctx context.Context, ds []amqp.Delivery, pub *amqp.Channel) (dead []string, err error)

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
		dead, err = c.split(tctx, batch, h, dlch)
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
		if queue == c.Topology.DeadQueue {
			// A dead letter that cannot even be stored is not sent round
			// again: it is logged whole, and acked.
			c.Log.Error("dead letter could not be stored", "reason", reason, "message_id", batch[i].MessageId,
				"routing_key", batch[i].RoutingKey, "body", batch[i].Body)
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
func (c *Consumer) split(ctx context.Context, batch []amqp.Delivery, h batchHandler, pub *amqp.Channel) ([]string, error) {
	dead, err := h(ctx, batch, pub)
	if err == nil || !isPermanent(err) {
		return dead, err
	}
	dead = make([]string, len(batch))
	for i := range batch {
		d, err := h(ctx, batch[i:i+1], pub)
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
	headers["x-runoff-dead-id"] = uuid.Must(uuid.NewV7()).String()
	headers["x-runoff-queue"] = queue
	headers["x-runoff-routing-key"] = d.RoutingKey
	headers["x-runoff-dead-at"] = time.Now().UTC().Format(time.RFC3339)
	err := c.publishConfirmed(ctx, dlch, c.Topology.DeadExchange, d.RoutingKey, amqp.Publishing{
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
	c.Metrics.DeadLettered.WithLabelValues(queue).Inc()
	c.Log.Warn("message dead-lettered", "queue", queue, "routing_key", d.RoutingKey, "message_id", d.MessageId, "reason", reason)
	return nil
}

// publishConfirmed publishes on a confirm-mode channel and waits for the
// broker's confirm.
func (c *Consumer) publishConfirmed(ctx context.Context, ch *amqp.Channel, exchange, key string, msg amqp.Publishing) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, false, false, msg)
	if err != nil {
		return err
	}
	ok, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errNacked
	}
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

func (c *Consumer) handleVotes(ctx context.Context, ds []amqp.Delivery, _ *amqp.Channel) ([]string, error) {
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

// handleElections carries out organizers' actions: election.create, and
// deadletter.requeue.
func (c *Consumer) handleElections(ctx context.Context, ds []amqp.Delivery, pub *amqp.Channel) ([]string, error) {
	dead := make([]string, len(ds))
	ms := make([]runoff.ElectionCreate, 0, len(ds))
	index := make([]int, 0, len(ds))
	var requeues []int
	for i, d := range ds {
		if d.RoutingKey == runoff.KeyDeadLetterRequeue {
			requeues = append(requeues, i)
			continue
		}
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
	if len(ms) > 0 {
		out, err := c.DB.CreateElections(ctx, ms)
		if err != nil {
			return nil, err
		}
		for j, o := range out {
			dead[index[j]] = o.Dead
		}
	}
	for _, i := range requeues {
		var err error
		if dead[i], err = c.requeue(ctx, ds[i], pub); err != nil {
			return nil, err
		}
	}
	return dead, nil
}

// requeue publishes a dead letter's message again, as the organizer of its
// election asked. Publishing twice is harmless (the message is carried out
// idempotently), so a redelivered request needs no more care than the
// requeued_at mark.
func (c *Consumer) requeue(ctx context.Context, d amqp.Delivery, pub *amqp.Channel) (string, error) {
	var m runoff.DeadLetterRequeue
	if reason := decode(d, runoff.KeyDeadLetterRequeue, &m); reason != "" {
		return reason, nil
	}
	dl, err := c.DB.DeadLetter(ctx, m.DeadLetterID)
	if errors.Is(err, runoff.ErrNotFound) {
		return "no dead letter " + m.DeadLetterID.String(), nil
	} else if err != nil {
		return "", err
	}
	if dl.ElectionID == nil || *dl.ElectionID != m.ElectionID {
		return "the dead letter does not belong to election " + m.ElectionID.String(), nil
	}
	e, err := c.DB.Election(ctx, m.ElectionID)
	if errors.Is(err, runoff.ErrNotFound) {
		return "no election " + m.ElectionID.String(), nil
	} else if err != nil {
		return "", err
	}
	if e.OwnerID != m.OrganizerID {
		return "organizer " + m.OrganizerID.String() + " does not own election " + e.ID.String(), nil
	}
	if dl.RequeuedAt != nil {
		return "", nil
	}
	if err := c.publishConfirmed(ctx, pub, c.Topology.Exchange, dl.RoutingKey, amqp.Publishing{
		ContentType: "application/json", DeliveryMode: amqp.Persistent, MessageId: dl.MessageID,
		Timestamp: time.Now(), Type: dl.RoutingKey, Body: dl.Body,
		Headers: amqp.Table{"x-runoff-requeued-from": dl.ID.String()},
	}); err != nil {
		return "", err
	}
	c.Log.Info("dead letter requeued", "dead_letter_id", dl.ID, "message_id", dl.MessageID, "election_id", e.ID)
	return "", c.DB.MarkRequeued(ctx, dl.ID, time.Now())
}

// handleDeadQueue stores dead letters in Postgres, where organizers see
// them. It never dead-letters: a dead letter it cannot read is stored as it
// is, with whatever reason it carries.
func (c *Consumer) handleDeadQueue(ctx context.Context, ds []amqp.Delivery, _ *amqp.Channel) ([]string, error) {
	dls := make([]runoff.DeadLetter, len(ds))
	for i, d := range ds {
		dls[i] = deadLetterOf(d)
	}
	if err := c.DB.SaveDeadLetters(ctx, dls); err != nil {
		return nil, err
	}
	return make([]string, len(ds)), nil
}

// text makes s storable as Postgres text: valid UTF-8 without NUL bytes.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// deadLetterOf reads a delivery from the dead-letter queue: one the worker
// put there (with x-runoff-* headers), or one the broker dead-lettered
// itself (past the delivery limit, with x-death).
func deadLetterOf(d amqp.Delivery) runoff.DeadLetter {
	str := func(k string) string { s, _ := d.Headers[k].(string); return text(s) }
	dl := runoff.DeadLetter{MessageID: text(d.MessageId), RoutingKey: text(d.RoutingKey), Body: d.Body,
		Reason: str("x-runoff-reason"), Queue: str("x-runoff-queue"), DeadAt: time.Now().UTC()}
	if dl.Body == nil {
		dl.Body = []byte{}
	}
	if t, err := time.Parse(time.RFC3339, str("x-runoff-dead-at")); err == nil {
		dl.DeadAt = t
	}
	if id, err := uuid.Parse(str("x-runoff-dead-id")); err == nil {
		dl.ID = id
	} else {
		// Dead-lettered by the broker: name it by the message and how many
		// times it died, so a redelivery of the same death is stored once.
		deaths := fmt.Sprint(d.Headers["x-death"])
		dl.ID = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%s|%s|%s|%s", d.MessageId, d.RoutingKey, deaths, d.Body))
		why := str("x-first-death-reason")
		if dl.Reason == "" {
			dl.Reason = "dead-lettered by the broker: " + why
			if why == "delivery_limit" {
				dl.Reason = "delivered too many times without being carried out (the worker may have crashed on it)"
			}
		}
		if dl.Queue == "" {
			dl.Queue = str("x-first-death-queue")
		}
	}
	if dl.Reason == "" {
		dl.Reason = "unknown"
	}
	var ref struct {
		ElectionID uuid.UUID `json:"election_id"`
	}
	if json.Unmarshal(d.Body, &ref) == nil && ref.ElectionID != uuid.Nil {
		dl.ElectionID = &ref.ElectionID
	}
	return dl
}
