package rabbitmqtest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy stands for a broker node that a test can make fail: it forwards
// TCP connections to the test broker until Cut closes them all and refuses
// new ones, and Hold stops forwarding what the broker sends (a confirm
// that never arrives) without closing anything.
type Proxy struct {
	ln       net.Listener
	upstream string

	mu    sync.Mutex
	conns []net.Conn
	held  bool
	cut   bool
}

// NewProxy starts a proxy on loopback in front of URL(); it stops at cleanup.
func NewProxy(tb testing.TB) *Proxy {
	tb.Helper()
	u, err := url.Parse(URL())
	if err != nil {
		tb.Fatalf("rabbitmqtest: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("rabbitmqtest: proxy: %v", err)
	}
	p := &Proxy{ln: ln, upstream: u.Host}
	tb.Cleanup(p.Cut)
	go p.serve()
	return p
}

// URL is the test broker's URL through the proxy.
func (p *Proxy) URL() string {
	u, _ := url.Parse(URL())
	u.Host = p.ln.Addr().String()
	return u.String()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.upstream, 3*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go p.down(c, up)
	}
}

// down copies what the broker sends to the client, unless held.
func (p *Proxy) down(c, up net.Conn) {
	defer c.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			p.mu.Lock()
			held := p.held
			p.mu.Unlock()
			if !held {
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// Hold drops whatever the broker sends from now on.
func (p *Proxy) Hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = true
}

// Cut closes every connection through the proxy and refuses new ones, as a
// node that stopped.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
