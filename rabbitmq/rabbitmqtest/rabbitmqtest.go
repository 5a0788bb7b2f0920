// Package rabbitmqtest gives tests their own exchanges and queues on the real
// RabbitMQ, deleted when the test ends.
package rabbitmqtest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"os"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff/rabbitmq"
)

// URL is the broker tests use: RUNOFF_TEST_AMQP_URL, or the local one.
func URL() string {
	if u := os.Getenv("RUNOFF_TEST_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

// Topology returns a topology of tb's own, declared now and deleted at
// cleanup.
func Topology(tb testing.TB) rabbitmq.Topology {
	tb.Helper()
	topo := rabbitmq.DefaultTopology().WithPrefix(Prefix(tb))
	if err := topo.Declare(Channel(tb)); err != nil {
		tb.Fatalf("rabbitmqtest: %v", err)
	}
	return topo
}

// Prefix returns a queue-name prefix of tb's own (for RUNOFF_QUEUE_PREFIX)
// and deletes, at cleanup, whatever topology was declared under it.
func Prefix(tb testing.TB) string {
	tb.Helper()
	var b [4]byte
	rand.Read(b[:])
	prefix := "test-" + hex.EncodeToString(b[:]) + "."
	topo := rabbitmq.DefaultTopology().WithPrefix(prefix)
	tb.Cleanup(func() {
		if err := topo.Delete(Channel(tb)); err != nil {
			tb.Errorf("rabbitmqtest: %v", err)
		}
	})
	return prefix
}

// Channel opens a channel on its own connection, closed at cleanup.
func Channel(tb testing.TB) *amqp.Channel {
	tb.Helper()
	conn, err := amqp.Dial(URL())
	if err != nil {
		tb.Fatalf("rabbitmqtest: dial %s (is RabbitMQ running? 'go tool task services' starts it): %v", URL(), err)
	}
	tb.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatalf("rabbitmqtest: %v", err)
	}
	return ch
}

// Depth is the number of ready messages in a queue.
func Depth(tb testing.TB, queue string) int {
	tb.Helper()
	q, err := Channel(tb).QueueDeclarePassive(queue, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum})
	if err != nil {
		tb.Fatalf("rabbitmqtest: inspect %s: %v", queue, err)
	}
	return q.Messages
}

// PublishRaw publishes body as it is, unconfirmed and unchecked, as a
// broken or hostile client might: for tests of what the worker does with
// messages the web would never send.
func PublishRaw(tb testing.TB, exchange, key, id string, body []byte) {
	tb.Helper()
	err := Channel(tb).PublishWithContext(context.Background(), exchange, key, false, false,
		amqp.Publishing{MessageId: id, Body: body, DeliveryMode: amqp.Persistent})
	if err != nil {
		tb.Fatalf("rabbitmqtest: publish %s: %v", key, err)
	}
}

// WaitFor polls cond until it holds. Every test that waits is waiting for
// something carried through the broker, so the wait lives here, once.
//
// The bound only keeps a broken test from hanging; it asserts nothing about
// speed, so it is generous. A test that knows its wait is longer (a fault
// test's whole stream, a drain after a restart) says so with WaitForWithin.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	WaitForWithin(tb, 2*time.Minute, what, cond)
}

// WaitForWithin is WaitFor with its own bound. It polls often at first and
// then less often, so that a cheap condition is seen soon and a costly one
// (a query over every stored ballot) does not load a busy machine.
func WaitForWithin(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	pause := 10 * time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up after %v waiting for: %s", within, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// Bundle writes a bundle of key's messages (ID and body, in pairs) as the
// web's publisher sends a busy key's: "RUNOFF-BUNDLE/1\n", the key, then for
// each message its ID and its body, each of those preceded by its length as
// a uvarint. It is written here by hand, apart from the publisher's own
// code, so that a change to the wire format fails the tests that use it: a
// worker must read what webs of the same version, running beside it, send.
func Bundle(key string, idsAndBodies ...string) []byte {
	b := []byte("RUNOFF-BUNDLE/1\n")
	for _, s := range append([]string{key}, idsAndBodies...) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}
