package rabbitmq

import "time"

// GatherBundle makes p's next publishes of key gather as if as many bundles
// as p.Bundle.InFlight were waiting for their confirms. The function it
// returns waits until n publishes have gathered, and sends them as one
// bundle: a bundle of a known size, whatever the machine's timing.
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

// BundleBody is the body of a bundle of these messages, as the publisher
// writes it.
func BundleBody(ids []string, bodies [][]byte) []byte {
	var b []byte
	for i := range ids {
		b = appendBundlePart(b, ids[i], bodies[i])
	}
	return b
}
