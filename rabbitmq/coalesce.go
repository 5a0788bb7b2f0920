package rabbitmq

import (
	"errors"
	"net"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// coalescingConn gathers the writes of concurrent publishes into fewer
// socket writes. The client library flushes each publish (method, header
// and body frames) as its own write, under the channel's lock: one system
// call per ballot in the web, and one small TCP segment per ballot for the
// broker to read. Here a write only copies the bytes into a buffer and
// wakes a flusher goroutine, which sends whatever has gathered in one
// system call; while it is in that call, the next publishes gather behind
// it. A lone publish goes out at once; many at once share a write.
//
// Taking the bytes before they reach the socket loses nothing that was
// promised: a publish counts only once the broker confirms it, and if the
// socket fails, the pending bytes are dropped, every later write fails,
// the connection is closed, and the publishes waiting for their confirms
// fail as they would have anyway.
type coalescingConn struct {
	net.Conn

	mu       sync.Mutex
	cond     *sync.Cond // signalled when the buffer drains or the flusher stops
	buf      []byte     // bytes written and not yet handed to the socket
	spare    []byte     // the buffer the flusher last wrote, for reuse
	flushing bool       // the flusher holds a batch in a socket write
	err      error      // the first write error, or errConnClosed
	wake     chan struct{}
	done     chan struct{}
}

// maxPending bounds how much may wait for the socket: a writer beyond it
// waits for the flusher, so a broker that stops reading slows publishers
// down rather than growing the buffer.
const maxPending = 1 << 20

var errConnClosed = errors.New("rabbitmq: connection closed")

func newCoalescingConn(c net.Conn) *coalescingConn {
	cc := &coalescingConn{Conn: c, wake: make(chan struct{}, 1), done: make(chan struct{})}
	cc.cond = sync.NewCond(&cc.mu)
	go cc.flush()
	return cc
}

// Write takes p for the next socket write. It fails once a socket write
// has failed or the connection is closed.
func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	for c.err == nil && len(c.buf) >= maxPending {
		c.cond.Wait()
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	c.buf = append(c.buf, p...)
	idle := !c.flushing
	c.mu.Unlock()
	if idle {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

func (c *coalescingConn) flush() {
	defer close(c.done)
	for range c.wake {
		for {
			c.mu.Lock()
			if c.err != nil || len(c.buf) == 0 {
				c.flushing = false
				c.cond.Broadcast()
				stop := c.err != nil
				c.mu.Unlock()
				if stop {
					return
				}
				break
			}
			out := c.buf
			c.buf, c.spare = c.spare[:0], nil
			c.flushing = true
			c.cond.Broadcast()
			c.mu.Unlock()
			_, err := c.Conn.Write(out)
			c.mu.Lock()
			c.spare = out[:0]
			if err != nil && c.err == nil {
				c.err = err
			}
			c.mu.Unlock()
			if err != nil {
				c.Conn.Close() // the library's reader sees it and shuts down
			}
		}
	}
}

// Close sends what has gathered (the library's connection.close, say),
// giving the socket a second for it, then closes the socket.
func (c *coalescingConn) Close() error {
	c.mu.Lock()
	if c.err == nil && (len(c.buf) > 0 || c.flushing) {
		// A broker that stopped reading must not hold the close up: the
		// write fails at the deadline, and that ends the wait.
		c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		for c.err == nil && (len(c.buf) > 0 || c.flushing) {
			c.cond.Wait()
		}
	}
	if c.err == nil {
		c.err = errConnClosed
	}
	c.mu.Unlock()
	// The flusher sees the error at its next look and stops. The wake
	// channel is never closed: a writer may still be about to signal it.
	select {
	case c.wake <- struct{}{}:
	default:
	}
	<-c.done
	return c.Conn.Close()
}

// coalescingDial is amqp.DefaultDial with the socket wrapped.
func coalescingDial(timeout time.Duration) func(network, addr string) (net.Conn, error) {
	dial := amqp.DefaultDial(timeout)
	return func(network, addr string) (net.Conn, error) {
		c, err := dial(network, addr)
		if err != nil {
			return nil, err
		}
		return newCoalescingConn(c), nil
	}
}
