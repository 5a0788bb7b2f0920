package rabbitmq

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// loopback returns both ends of a real TCP connection.
func loopback(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// Every write arrives whole, in its writer's order, however many writers
// share the connection; and Close sends what was still gathered.
func TestCoalescingConnKeepsEveryWriteWhole(t *testing.T) {
	client, server := loopback(t)
	cc := newCoalescingConn(client)
	const writers, each = 16, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// A frame-like record: fixed length, so the reader can cut them apart.
				rec := fmt.Sprintf("<%02d:%05d>", w, i)
				if _, err := cc.Write([]byte(rec)); err != nil {
					t.Errorf("write: %v", err)
					return
				}
			}
		}()
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(server)
		got <- b
	}()
	wg.Wait()
	if err := cc.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	b := <-got
	const size = len("<00:00000>")
	if len(b) != writers*each*size {
		t.Fatalf("read %d bytes, want %d", len(b), writers*each*size)
	}
	next := make([]int, writers)
	for off := 0; off < len(b); off += size {
		var w, i int
		if _, err := fmt.Sscanf(string(b[off:off+size]), "<%02d:%05d>", &w, &i); err != nil {
			t.Fatalf("record at %d torn: %q", off, b[off:off+size])
		}
		if i != next[w] {
			t.Fatalf("writer %d: record %d arrived when %d was due", w, i, next[w])
		}
		next[w]++
	}
}

// Once the socket fails, every later write fails too, so the client
// library shuts the connection down and waiting publishes fail.
func TestCoalescingConnFailsAfterSocketError(t *testing.T) {
	client, server := loopback(t)
	server.Close()
	cc := newCoalescingConn(client)
	defer cc.Close()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for err == nil && time.Now().Before(deadline) {
		_, err = cc.Write(bytes.Repeat([]byte("x"), 4096))
		time.Sleep(time.Millisecond)
	}
	if err == nil {
		t.Fatal("writes to a closed peer never failed")
	}
	if _, again := cc.Write([]byte("y")); again == nil {
		t.Fatal("a write after the failure was taken")
	}
}

// A peer that stops reading must not hold Close up for ever: heartbeat
// timeouts close the connection to unstick everything else.
func TestCoalescingConnCloseDoesNotHangOnAStuckPeer(t *testing.T) {
	client, _ := loopback(t) // the server end is never read
	cc := newCoalescingConn(client)
	chunk := bytes.Repeat([]byte("z"), 64<<10)
	filled := make(chan struct{})
	go func() {
		defer close(filled)
		for {
			if _, err := cc.Write(chunk); err != nil {
				return
			}
		}
	}()
	// Let the socket buffers and the pending buffer fill up.
	time.Sleep(200 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- cc.Close() }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close still waiting on a peer that does not read")
	}
	select {
	case <-filled:
	case <-time.After(30 * time.Second):
		t.Fatal("a writer still blocked after Close")
	}
	if _, err := cc.Write([]byte("after")); err == nil {
		t.Fatal("a write after Close was taken")
	}
}
