package rabbitmq

import "time"

// GatherBundle makes p's next publishes of key gather as if as many bundles
// as p.Bundle.InFlight were waiting for their confirms. The function it
// returns waits until n publishes have gathered, and sends them as one
// bundle: a bundle of a known size, whatever the machine's timing. p must
// have connected (Ping), or its publishes do not know that they may be
// bundled.
func GatherBundle(p *Publisher, key string) (send func(n int)) {
	b := p.bundler(key)
	b.mu.Lock()
	b.inFlight += max(p.Bundle.InFlight, 1)
	b.mu.Unlock()
	return func(n int) {
		for {
			b.mu.Lock()
			if len(b.waiters) >= n {
				b.inFlight -= max(p.Bundle.InFlight, 1)
				b.sendLocked()
				b.mu.Unlock()
				return
			}
			b.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}
}

// BundleBody is the body of a bundle of these messages of key, as the
// publisher writes it.
func BundleBody(key string, ids []string, bodies [][]byte) []byte {
	b := newBundle(nil, key)
	for i := range ids {
		b = appendBundlePart(b, ids[i], bodies[i])
	}
	return b
}

// RecheckTopologyEvery sets how often p asks again for a Direct exchange or
// Bundles queue it found missing.
func RecheckTopologyEvery(p *Publisher, d time.Duration) { p.recheckEvery = d }
