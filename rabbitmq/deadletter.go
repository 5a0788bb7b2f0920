package rabbitmq

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff"
)

// Headers the consumer puts on a message it dead-letters.
const (
	headerReason     = "x-runoff-reason"
	headerDeadID     = "x-runoff-dead-id"
	headerQueue      = "x-runoff-queue"
	headerRoutingKey = "x-runoff-routing-key"
	headerDeadAt     = "x-runoff-dead-at"
	headerBodyBytes  = "x-runoff-body-bytes" // the whole body's size, when only its start was kept
)

// deadLetter republishes a message (a delivery, or one part of a bundle, as
// a message of its own) to the dead-letter exchange with the reason in a
// header, and waits for the broker to confirm it before the original is
// acked.
func (c *Consumer) deadLetter(ctx context.Context, dlch *amqp.Channel, queue string, d *amqp.Delivery, u unit, reason string) error {
	headers := amqp.Table{}
	for k, v := range d.Headers {
		headers[k] = v
	}
	headers[headerReason] = reason
	headers[headerDeadID] = uuid.Must(uuid.NewV7()).String()
	headers[headerQueue] = queue
	headers[headerRoutingKey] = u.key
	headers[headerDeadAt] = time.Now().UTC().Format(time.RFC3339)
	body := u.body
	if c.MaxBody > 0 && len(body) > c.MaxBody {
		// Refused for its size: what is kept is enough to recognise it,
		// and the dead letters' table does not grow by its size.
		body = body[:KeptBody]
		headers[headerBodyBytes] = int64(len(u.body))
	}
	contentType := d.ContentType
	if u.part {
		contentType = "application/json" // what the publisher sends each part as
	}
	err := publishConfirmed(ctx, dlch, c.Topology.DeadExchange, u.key, amqp.Publishing{
		Headers:      headers,
		ContentType:  contentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    u.id,
		Timestamp:    d.Timestamp,
		Type:         d.Type,
		Body:         body,
	})
	if err != nil {
		return fmt.Errorf("rabbitmq: dead-letter %s: %w", u.id, err)
	}
	c.Metrics.DeadLettered.WithLabelValues(queue).Inc()
	c.Log.Warn("message dead-lettered", "queue", queue, "routing_key", u.key, "message_id", u.id, "reason", reason)
	return nil
}

// publishConfirmed publishes on a confirm-mode channel and waits for the
// broker's confirm.
func publishConfirmed(ctx context.Context, ch *amqp.Channel, exchange, key string, msg amqp.Publishing) error {
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

// text makes s storable as text: valid UTF-8 without NUL bytes.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// deadLetterOf reads what the transport knows of a message from the
// dead-letter queue: one the consumer put there (with x-runoff-* headers),
// or one the broker dead-lettered itself (past the delivery limit, with
// x-death; a bundle is dead-lettered whole, and each of its parts, u, is
// a dead letter of its own). What the body means is left to the worker.
func deadLetterOf(d *amqp.Delivery, u unit) *runoff.DeadLetter {
	str := func(k string) string { s, _ := d.Headers[k].(string); return text(s) }
	dl := &runoff.DeadLetter{MessageID: text(u.id), RoutingKey: text(u.key), Body: u.body,
		Reason: str(headerReason), Queue: str(headerQueue), DeadAt: time.Now().UTC()}
	if dl.Body == nil {
		dl.Body = []byte{}
	}
	if t, err := time.Parse(time.RFC3339, str(headerDeadAt)); err == nil {
		dl.DeadAt = t
	}
	if id, err := uuid.Parse(str(headerDeadID)); err == nil {
		dl.ID = id
	} else {
		// Dead-lettered by the broker: name it by the message and how many
		// times it died, so a redelivery of the same death is stored once.
		deaths := fmt.Sprint(d.Headers["x-death"])
		dl.ID = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%s|%s|%s|%s", u.id, u.key, deaths, u.body))
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
	return dl
}
