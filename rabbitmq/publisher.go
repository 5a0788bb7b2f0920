package rabbitmq

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff"
)

// Publisher publishes the web's messages with publisher confirms. It keeps
// one long-lived connection and one confirm-mode channel that concurrent
// requests share: publishes are serialised by a mutex (a channel's frames
// must not interleave), while waiting for confirms is not, so many publishes
// are in flight at once.
//
// Recovery is lazy: when the connection is gone, the next publish dials
// again (at most once per RetryEvery), so a broker that comes back is used
// without restarting anything, and a broker that is down costs a request
// one failed dial, not a hang. amqp091's automatic recovery would also
// reconnect, but it keeps confirms of the old channel ambiguous; a fresh
// channel per connection keeps the bookkeeping exact.
type Publisher struct {
	// URL is the broker's URL, or several nodes' URLs comma-separated: the
	// publisher connects to one and moves to the next when it fails.
	URL string
	// TLS configures amqps:// connections; nil trusts the system's roots.
	TLS        *tls.Config
	Topology   Topology
	Timeout    time.Duration // how long a publish waits for its confirm
	RetryEvery time.Duration // least time between two dials after a failure
	Log        *slog.Logger
	Metrics    *Metrics
	// Bundle says whether and how the Topology's BundleKeys' concurrent
	// publishes share broker messages (see Bundling); set it before the
	// first publish.
	Bundle Bundling

	bundlersOnce sync.Once
	bundlers     map[string]*bundler

	mu       sync.Mutex
	dialer   *dialer
	conn     *amqp.Connection
	ch       *amqp.Channel
	session  *confirmSession
	lastDial time.Time
	lastErr  error
	blocked  atomic.Bool
	closed   bool
	direct   bool // the Topology's Direct exchange exists on this connection's broker
	// checked is when direct and bundles were last found out: while either
	// is missing (a web that started before the workers of its version
	// declared the topology), they are asked again now and then.
	checked      time.Time
	recheckEvery time.Duration // 0: recheckTopology
	// bundles: the Topology's Bundles queue exists too, so bundles have
	// somewhere to go that only workers that read them consume.
	bundles atomic.Bool
}

// NewPublisher makes a publisher; it connects on first use.
func NewPublisher(url string, topo Topology, log *slog.Logger) *Publisher {
	return &Publisher{URL: url, Topology: topo, Timeout: 5 * time.Second, RetryEvery: time.Second, Log: log, Metrics: NewMetrics(nil),
		Bundle: DefaultBundling()}
}

// confirmSession is the bookkeeping of one confirm-mode channel: waiters by
// delivery tag, and messages the broker returned as unroutable.
type confirmSession struct {
	mu      sync.Mutex
	waiters map[uint64]*pending
	next    uint64 // the delivery tag of the last publish
	dead    error  // set when the channel closed; later waiters fail at once
}

type pending struct {
	id       string
	deadline time.Time  // when it fails unless confirmed
	done     chan error // buffered 1
}

// ErrUnroutable means no queue was bound for the message's routing key.
var ErrUnroutable = errors.New("message unroutable")

// Publish sends body with routing key to the exchange as a persistent
// message with id as its MessageId, and returns once the broker confirmed
// it. Any failure (broker down, blocked by a resource alarm, nack,
// unroutable, no confirm in time) wraps runoff.ErrUnavailable: the caller
// tells the person that nothing was accepted and to try again.
func (p *Publisher) Publish(ctx context.Context, key, id string, body []byte) error {
	p.Metrics.Published.WithLabelValues(key).Inc()
	err := p.publish(ctx, key, id, body)
	if err != nil {
		reason := "unavailable"
		switch {
		case errors.Is(err, ErrUnroutable):
			reason = "returned"
		case errors.Is(err, errNacked):
			reason = "nacked"
		case errors.Is(err, context.DeadlineExceeded):
			reason = "timeout"
		}
		p.Metrics.PublishFailed.WithLabelValues(key, reason).Inc()
		return fmt.Errorf("rabbitmq: publish %s %s: %w: %w", key, id, runoff.ErrUnavailable, err)
	}
	p.Metrics.Confirmed.WithLabelValues(key).Inc()
	return nil
}

var errNacked = errors.New("broker nacked the message")

// errNoConfirm is a publish whose confirm did not come within Timeout.
var errNoConfirm = fmt.Errorf("no confirm in time: %w", context.DeadlineExceeded)

func (p *Publisher) publish(ctx context.Context, key, id string, body []byte) error {
	if p.Bundle.InFlight > 0 && p.bundles.Load() {
		if b := p.bundler(key); b != nil {
			return b.publish(ctx, id, body)
		}
	}
	// The confirm's deadline is kept with its waiter, and the session's
	// dispatcher fails waiters past it: no timer per publish.
	w, err := p.send(ctx, key, id, body, false)
	if err != nil {
		return err
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no confirm before the request ended: %w", ctx.Err())
	}
}

// bundler is the key's bundler, or nil if its messages go alone.
func (p *Publisher) bundler(key string) *bundler {
	p.bundlersOnce.Do(func() {
		p.bundlers = map[string]*bundler{}
		for _, k := range p.Topology.BundleKeys {
			p.bundlers[k] = &bundler{p: p, key: k}
		}
	})
	return p.bundlers[key]
}

// send publishes one message, or a bundle of key's messages, and returns
// the waiter its confirm will be handed to.
func (p *Publisher) send(ctx context.Context, key, id string, body []byte, bundle bool) (*pending, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("publisher closed")
	}
	if err := p.ensure(); err != nil {
		return nil, err
	}
	if p.blocked.Load() {
		return nil, errors.New("broker is blocking publishers (resource alarm)")
	}
	// Register the waiter under the tag this publish will get (a confirm
	// channel numbers publishes 1, 2, 3...; all of them go through p.mu), so
	// a confirm that arrives at once finds it.
	s := p.session
	w := &pending{id: id, deadline: time.Now().Add(p.Timeout), done: make(chan error, 1)}
	s.mu.Lock()
	if s.dead != nil {
		s.mu.Unlock()
		p.dropLocked(s.dead)
		return nil, s.dead
	}
	s.next++
	tag := s.next
	s.waiters[tag] = w
	s.mu.Unlock()
	exchange, route, contentType := p.Topology.exchangeFor(key, p.direct), key, "application/json"
	if bundle {
		exchange, route, contentType = p.Topology.Direct, bundleRoute(key), BundleContentType
	}
	err := p.ch.PublishWithContext(ctx, exchange, route, true, false, amqp.Publishing{
		ContentType:  contentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    id,
		Timestamp:    time.Now(),
		Type:         key,
		Body:         body,
	})
	if err != nil {
		s.mu.Lock()
		delete(s.waiters, tag)
		s.mu.Unlock()
		p.dropLocked(err)
		return nil, err
	}
	return w, nil
}

// Announce broadcasts body with routing key to the exchange, to whoever
// listens (the web processes' own queues, see Listener): transient, not
// mandatory (no listener is not an error), and without waiting for the
// confirm. A lost announcement costs a listener at most its cache's TTL.
func (p *Publisher) Announce(ctx context.Context, key string, body []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("rabbitmq: publisher closed")
	}
	if err := p.ensure(); err != nil {
		return fmt.Errorf("rabbitmq: announce %s: %w", key, err)
	}
	// The channel numbers every publish: take this one's tag with no
	// waiter, so the confirms of the others keep theirs.
	s := p.session
	s.mu.Lock()
	s.next++
	s.mu.Unlock()
	err := p.ch.PublishWithContext(ctx, p.Topology.Exchange, key, false, false, amqp.Publishing{
		ContentType: "application/json", DeliveryMode: amqp.Transient, Timestamp: time.Now(), Type: key, Body: body})
	if err != nil {
		p.dropLocked(err)
		return fmt.Errorf("rabbitmq: announce %s: %w", key, err)
	}
	return nil
}

// ensure dials a connection and opens a confirm channel if there is none.
// Callers hold p.mu.
func (p *Publisher) ensure() error {
	if p.ch != nil && !p.ch.IsClosed() {
		if (!p.direct || !p.bundles.Load()) && time.Since(p.checked) > cmp.Or(p.recheckEvery, recheckTopology) {
			p.checkTopology(p.conn)
		}
		return nil
	}
	if !p.lastDial.IsZero() && p.lastErr != nil && time.Since(p.lastDial) < p.RetryEvery {
		return fmt.Errorf("broker unreachable: %w", p.lastErr)
	}
	p.lastDial = time.Now()
	p.lastErr = p.dial()
	return p.lastErr
}

func (p *Publisher) dial() error {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
	if p.dialer == nil {
		p.dialer = newDialer(p.URL, p.TLS)
		p.dialer.coalesce = true
	}
	conn, node, err := p.dialer.dial("runoff publisher", 3*time.Second)
	if err != nil {
		return err
	}
	blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 4))
	go func() {
		for b := range blocked {
			p.blocked.Store(b.Active)
			if b.Active {
				p.Log.Warn("broker blocked publishers", "reason", b.Reason)
			} else {
				p.Log.Info("broker unblocked publishers")
			}
		}
		p.blocked.Store(false)
	}()
	p.checkTopology(conn)
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return err
	}
	if err := ch.Confirm(false); err != nil {
		conn.Close()
		return err
	}
	s := &confirmSession{waiters: map[uint64]*pending{}}
	returns := ch.NotifyReturn(make(chan amqp.Return))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 256))
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	go s.dispatch(returns, confirms, closes, max(p.Timeout/10, 10*time.Millisecond))
	p.conn, p.ch, p.session = conn, ch, s
	p.Log.Info("publisher connected", "node", node, "direct_exchange", p.direct, "bundles", p.bundles.Load() && p.Bundle.InFlight > 0)
	return nil
}

// recheckTopology is how often a publisher that found the Direct exchange
// or the Bundles queue missing asks again.
const recheckTopology = 30 * time.Second

// checkTopology finds out whether the Direct exchange and the Bundles queue
// are declared. Callers hold p.mu.
func (p *Publisher) checkTopology(conn *amqp.Connection) {
	p.checked = time.Now()
	p.direct = p.Topology.Direct != "" && exchangeExists(conn, p.Topology.Direct)
	p.bundles.Store(p.direct && p.Topology.Bundles != "" && queueExists(conn, p.Topology.Bundles))
}

// exchangeExists asks the broker, on a channel of its own (a failed
// passive declare closes its channel), whether an exchange is declared. The
// worker declares the topology; until a worker that knows the Direct
// exchange has run, the web publishes every key to the topic exchange.
func exchangeExists(conn *amqp.Connection, name string) bool {
	ch, err := conn.Channel()
	if err != nil {
		return false
	}
	defer ch.Close()
	return ch.ExchangeDeclarePassive(name, amqp.ExchangeDirect, true, false, false, false, nil) == nil
}

// queueExists asks the broker, on a channel of its own, whether a queue is
// declared: the Bundles queue, which workers that predate bundles never
// declared.
func queueExists(conn *amqp.Connection, name string) bool {
	ch, err := conn.Channel()
	if err != nil {
		return false
	}
	defer ch.Close()
	_, err = ch.QueueDeclarePassive(name, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum})
	return err == nil
}

// dispatch resolves waiters. The returns channel is unbuffered: the client
// library's reader cannot hand over the basic.ack of a message until this
// goroutine has taken its basic.return, so a returned message is always
// marked before its confirm is read.
func (s *confirmSession) dispatch(returns <-chan amqp.Return, confirms <-chan amqp.Confirmation, closes <-chan *amqp.Error, sweep time.Duration) {
	returned := map[string]bool{}
	var closeErr error = amqp.ErrClosed
	overdue := time.NewTicker(sweep)
	defer overdue.Stop()
	for {
		select {
		case now := <-overdue.C:
			s.expire(now)
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			returned[r.MessageId] = true
		case c, ok := <-confirms:
			if !ok {
				// The channel is gone: whatever was not confirmed fails.
				s.fail(closeErr)
				return
			}
			s.mu.Lock()
			w := s.waiters[c.DeliveryTag]
			delete(s.waiters, c.DeliveryTag)
			s.mu.Unlock()
			if w == nil {
				continue
			}
			switch {
			case !c.Ack:
				w.done <- errNacked
			case returned[w.id]:
				delete(returned, w.id)
				w.done <- ErrUnroutable
			default:
				w.done <- nil
			}
		case err, ok := <-closes:
			if ok && err != nil {
				closeErr = err
			}
			closes = nil // keep reading until the library closes confirms
		}
	}
}

// expire fails the waiters whose confirm is overdue. Their confirms, if
// they come after all, find no waiter.
func (s *confirmSession) expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tag, w := range s.waiters {
		if now.After(w.deadline) {
			w.done <- errNoConfirm
			delete(s.waiters, tag)
		}
	}
}

func (s *confirmSession) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead == nil {
		s.dead = err
	}
	for tag, w := range s.waiters {
		w.done <- err
		delete(s.waiters, tag)
	}
}

// dropLocked forgets a failed connection so the next publish dials again.
func (p *Publisher) dropLocked(err error) {
	p.Log.Warn("publisher connection dropped", "err", err)
	if p.conn != nil {
		p.conn.Close()
	}
	p.conn, p.ch = nil, nil
}

// Ping reports whether the broker is reachable, dialling if needed; /readyz
// uses it.
func (p *Publisher) Ping(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ensure(); err != nil {
		return fmt.Errorf("rabbitmq: broker: %w", err)
	}
	if p.blocked.Load() {
		return errors.New("rabbitmq: broker is blocking publishers")
	}
	return nil
}

// Close closes the connection; publishes still waiting fail.
func (p *Publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.conn != nil {
		err := p.conn.Close()
		p.conn, p.ch = nil, nil
		return err
	}
	return nil
}

// VotesWaiting is how many messages wait in the votes queues, for all
// elections: what the worker has still to count. A message may be a bundle
// of ballots (bundle.go), so at least that many ballots wait. It asks the
// broker on a channel of its own for each queue, since a failed passive
// declare closes its channel.
func (p *Publisher) VotesWaiting(ctx context.Context) (int, error) {
	p.mu.Lock()
	if err := p.ensure(); err != nil {
		p.mu.Unlock()
		return 0, fmt.Errorf("rabbitmq: broker: %w", err)
	}
	conn := p.conn
	p.mu.Unlock()
	n := 0
	for _, name := range p.Topology.VoteQueues() {
		ch, err := conn.Channel()
		if err != nil {
			return 0, fmt.Errorf("rabbitmq: channel: %w", err)
		}
		q, err := ch.QueueDeclarePassive(name, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum})
		ch.Close()
		switch {
		case err != nil && name == p.Topology.Bundles:
			// Not declared yet: workers that predate bundles.
		case err != nil:
			return 0, fmt.Errorf("rabbitmq: inspect %s: %w", name, err)
		default:
			n += q.Messages
		}
	}
	return n, nil
}
