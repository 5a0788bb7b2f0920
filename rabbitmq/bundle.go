package rabbitmq

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// A bundle is several messages of one routing key carried by one broker
// message: what the web's concurrent publishes of a busy key (ballots on
// election night) share when they arrive together. The broker's cost is
// mostly per message, not per byte: on the bench machine a quorum queue
// takes 40-45 µs of CPU for each persistent, confirmed message, which was a
// third of everything a ballot cost (docs/performance.md). A bundle of ten
// costs it about as much as one.
//
// Nothing of what a message promises changes. Each message is published by
// its own Publish call, which returns only once the broker confirmed the
// bundle that carries it; the worker acks the bundle only once every
// message in it is carried out. The consumer unpacks a bundle before any
// handler sees it, so each message keeps its own ID (a ballot's, by which
// the worker deduplicates) and routing key, is decided on its own, and is
// dead-lettered on its own, as a lone message, if it can never be carried
// out; a batch that fails on bad data is split message by message, as
// ever.
//
// Bundles go to a queue of their own (Topology.Bundles), which only
// workers that read bundles consume: while webs and workers of two versions
// run side by side during an upgrade, a worker that predates bundles never
// gets one. A web uses it only when it finds the queue declared.
//
// The body is bundleMagic; the routing key of its messages; then for each
// message its ID and its body. Each of those is preceded by its length as a
// uvarint. No JSON document starts with the magic, so a consumer knows a
// bundle by its body alone, wherever the body has been: a bundle the
// broker dead-lettered whole has lost none of it.
const bundleMagic = "RUNOFF-BUNDLE/1\n"

// BundleContentType is a bundle's content type, for people reading the
// queue in the broker's tools; consumers go by the body.
const BundleContentType = "application/vnd.runoff.bundle"

// maxBundleParts bounds the messages a consumer reads from one bundle.
const maxBundleParts = 4096

// part is one message of a bundle.
type part struct {
	id   string
	body []byte
}

// isBundle reports whether a message body is a bundle.
func isBundle(body []byte) bool { return bytes.HasPrefix(body, []byte(bundleMagic)) }

// bundleRoute is the routing key, on the Direct exchange, of bundles of
// key's messages.
func bundleRoute(key string) string { return "bundle." + key }

// newBundle starts a bundle of key's messages.
func newBundle(b []byte, key string) []byte {
	b = append(b, bundleMagic...)
	b = binary.AppendUvarint(b, uint64(len(key)))
	return append(b, key...)
}

func appendBundlePart(b []byte, id string, body []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(len(body)))
	return append(b, body...)
}

// errDamagedBundle is a bundle body that cannot be read whole.
var errDamagedBundle = errors.New("damaged bundle")

// readBundle reads a bundle's routing key and messages. Their bodies share
// the bundle's bytes. A bundle that cannot be read whole is refused whole:
// a message read from a damaged body could be a different one than was
// published.
func readBundle(body []byte) (key string, parts []part, err error) {
	rest, ok := bytes.CutPrefix(body, []byte(bundleMagic))
	if !ok {
		return "", nil, fmt.Errorf("%w: no bundle header", errDamagedBundle)
	}
	field := func() ([]byte, bool) {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return nil, false
		}
		f := rest[w : w+int(n) : w+int(n)]
		rest = rest[w+int(n):]
		return f, true
	}
	k, ok := field()
	if !ok || len(k) == 0 || len(k) > 255 {
		return "", nil, fmt.Errorf("%w: no routing key", errDamagedBundle)
	}
	for len(rest) > 0 {
		if len(parts) == maxBundleParts {
			return "", nil, fmt.Errorf("%w: more than %d messages", errDamagedBundle, maxBundleParts)
		}
		id, ok := field()
		if !ok {
			return "", nil, fmt.Errorf("%w: message %d's ID is cut short", errDamagedBundle, len(parts)+1)
		}
		b, ok := field()
		if !ok {
			return "", nil, fmt.Errorf("%w: message %d's body is cut short", errDamagedBundle, len(parts)+1)
		}
		parts = append(parts, part{id: string(id), body: b})
	}
	if len(parts) == 0 {
		return "", nil, fmt.Errorf("%w: no messages", errDamagedBundle)
	}
	return string(k), parts, nil
}

// Bundling says how a Publisher gathers the messages of its topology's
// BundleKeys into bundles.
type Bundling struct {
	// InFlight is how many bundles of a key may wait for their confirms at
	// once; 0 sends every message alone. A publish that finds fewer
	// waiting goes at once (a bundle of one, so a quiet site pays no
	// delay); one that finds InFlight waiting joins the next bundle, which
	// goes when one of them is confirmed. The busier the key, the bigger
	// its bundles.
	InFlight int
	// MaxParts and MaxBytes bound a bundle; a full bundle goes at once,
	// whatever is in flight.
	MaxParts int
	MaxBytes int
}

// DefaultBundling sends every message alone; the web turns bundles on.
func DefaultBundling() Bundling {
	return Bundling{InFlight: 0, MaxParts: 64, MaxBytes: 256 << 10}
}

// bundler gathers the publishes of one routing key.
type bundler struct {
	p   *Publisher
	key string

	mu       sync.Mutex
	body     []byte       // the next bundle: its header and messages so far
	first    string       // the next bundle's first message's ID: the bundle's message ID
	waiters  []chan error // the next bundle's publishes, each waiting for its confirm
	inFlight int          // bundles sent and not yet confirmed
}

func (b *bundler) publish(ctx context.Context, id string, body []byte) error {
	cfg := b.p.Bundle
	done := make(chan error, 1)
	b.mu.Lock()
	if n := len(b.waiters); n > 0 && (n >= cfg.MaxParts || len(b.body)+len(id)+len(body)+2*binary.MaxVarintLen64 > cfg.MaxBytes) {
		b.sendLocked() // full: it goes now, in flight or not
	}
	if len(b.waiters) == 0 {
		b.first, b.body = id, newBundle(nil, b.key) // the last bundle's bytes went with it
	}
	b.body = appendBundlePart(b.body, id, body)
	b.waiters = append(b.waiters, done)
	if b.inFlight < max(cfg.InFlight, 1) {
		b.sendLocked()
	}
	b.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The bundle may yet be confirmed; a retry of the same message is
		// carried out once, as after any timeout.
		return fmt.Errorf("no confirm before the request ended: %w", ctx.Err())
	}
}

// sendLocked publishes the bundle gathered so far and hands its confirm to
// each of its publishes when it comes. Callers hold b.mu.
func (b *bundler) sendLocked() {
	body, first, waiters := b.body, b.first, b.waiters
	b.body, b.first, b.waiters = nil, "", nil
	b.p.Metrics.BundleParts.WithLabelValues(b.key).Observe(float64(len(waiters)))
	// A bundle is not any one request's: no request's end cancels it.
	w, err := b.p.send(context.Background(), b.key, first, body, true)
	if err != nil {
		for _, c := range waiters {
			c <- err
		}
		return
	}
	b.inFlight++
	go func() {
		err := <-w.done
		for _, c := range waiters {
			c <- err
		}
		b.mu.Lock()
		b.inFlight--
		if len(b.waiters) > 0 && b.inFlight < max(b.p.Bundle.InFlight, 1) {
			b.sendLocked()
		}
		b.mu.Unlock()
	}()
}
