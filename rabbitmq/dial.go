package rabbitmq

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// SplitURLs reads a list of broker URLs, comma-separated: the nodes of one
// cluster, any of which will do. Each must be amqp:// or amqps://.
func SplitURLs(s string) ([]string, error) {
	var urls []string
	for _, u := range strings.Split(s, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "amqp" && p.Scheme != "amqps") || p.Host == "" {
			return nil, fmt.Errorf("rabbitmq: %q: want an amqp:// or amqps:// URL", redact(u))
		}
		urls = append(urls, u)
	}
	if len(urls) == 0 {
		return nil, errors.New("rabbitmq: no broker URL")
	}
	return urls, nil
}

// redact hides a URL's password, for errors and logs.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return p.Redacted()
}

// dialer connects to one of a cluster's nodes. Each dial starts with the
// node after the one it last reached, and moves on to the next when a node
// does not answer: a connection that dropped is most likely a node that
// stopped, and the others are tried before it is tried again.
type dialer struct {
	urls []string
	tls  *tls.Config
	// coalesce gathers concurrent writes into fewer socket writes
	// (coalescingConn): for the publisher, whose every publish is a write.
	coalesce bool

	mu   sync.Mutex
	next int
}

func newDialer(urls string, tlsConfig *tls.Config) *dialer {
	list, err := SplitURLs(urls)
	if err != nil {
		// Config validates the URLs; one that slipped through fails at
		// each dial with its own error.
		list = []string{urls}
	}
	return &dialer{urls: list, tls: tlsConfig}
}

// dial connects with a short heartbeat (a dead peer is noticed within
// seconds) and a name that the management UI shows. It returns the URL it
// reached (without its password), for the log.
func (d *dialer) dial(name string, timeout time.Duration) (*amqp.Connection, string, error) {
	d.mu.Lock()
	start := d.next
	d.mu.Unlock()
	var errs []error
	for i := range d.urls {
		n := (start + i) % len(d.urls)
		dial := amqp.DefaultDial(timeout)
		if d.coalesce {
			dial = coalescingDial(timeout)
		}
		conn, err := amqp.DialConfig(d.urls[n], amqp.Config{
			Heartbeat:       10 * time.Second,
			Locale:          "en_US",
			Dial:            dial,
			TLSClientConfig: d.tls,
			Properties:      amqp.Table{"connection_name": name},
		})
		if err == nil {
			d.mu.Lock()
			d.next = (n + 1) % len(d.urls)
			d.mu.Unlock()
			return conn, redact(d.urls[n]), nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", redact(d.urls[n]), err))
	}
	return nil, "", errors.Join(errs...)
}
