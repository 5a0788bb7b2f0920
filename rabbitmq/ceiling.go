package rabbitmq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Ceiling is what the broker does alone: persistent, confirmed publishes
// into a quorum queue.
type Ceiling struct {
	Messages int
	Took     time.Duration
}

// PerSecond is the confirmed publishes per second.
func (c Ceiling) PerSecond() float64 { return float64(c.Messages) / c.Took.Seconds() }

// MeasureCeiling measures the broker's ceiling for Runoff's kind of
// message: n persistent publishes of size bytes, confirmed, with up to
// window in flight, into a quorum queue of its own (through the default
// exchange), which it deletes afterwards. The load generator reports its
// receipts against it, since a busy machine moves both.
func MeasureCeiling(ctx context.Context, url string, n, window, size int) (Ceiling, error) {
	conn, _, err := newDialer(url, nil).dial("runoff load ceiling", 5*time.Second)
	if err != nil {
		return Ceiling{}, fmt.Errorf("rabbitmq: ceiling: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return Ceiling{}, fmt.Errorf("rabbitmq: ceiling: %w", err)
	}
	var suffix [6]byte
	rand.Read(suffix[:])
	q, err := ch.QueueDeclare("runoff-load-ceiling-"+hex.EncodeToString(suffix[:]), true, false, false, false,
		amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum})
	if err != nil {
		return Ceiling{}, fmt.Errorf("rabbitmq: ceiling: declare: %w", err)
	}
	defer func() {
		if dch, err := conn.Channel(); err == nil {
			dch.QueueDelete(q.Name, false, false, false)
			dch.Close()
		}
	}()
	if err := ch.Confirm(false); err != nil {
		return Ceiling{}, fmt.Errorf("rabbitmq: ceiling: %w", err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, window))
	body := make([]byte, size)
	for i := range body {
		body[i] = 'x'
	}
	start := time.Now()
	sent, acked := 0, 0
	for acked < n {
		for sent < n && sent-acked < window {
			if err := ch.PublishWithContext(ctx, "", q.Name, false, false, amqp.Publishing{
				DeliveryMode: amqp.Persistent, ContentType: "application/json", Body: body}); err != nil {
				return Ceiling{}, fmt.Errorf("rabbitmq: ceiling: publish: %w", err)
			}
			sent++
		}
		select {
		case c, ok := <-confirms:
			if !ok {
				return Ceiling{}, fmt.Errorf("rabbitmq: ceiling: channel closed")
			}
			if !c.Ack {
				return Ceiling{}, fmt.Errorf("rabbitmq: ceiling: nacked")
			}
			acked++
		case <-ctx.Done():
			return Ceiling{}, ctx.Err()
		}
	}
	return Ceiling{Messages: n, Took: time.Since(start)}, nil
}
