package main

import (
	"bufio"
	"strings"
	"testing"
)

// The load generator's own reading of answers: each answer is read to
// its end, so the next one on the connection starts where it should.
func TestReadAnswer(t *testing.T) {
	stream := "HTTP/1.1 303 See Other\r\nLocation: /b/123\r\nContent-Length: 5\r\n\r\nhello" +
		"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" +
		"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" +
		"HTTP/1.0 200 OK\r\n\r\nthe rest"
	br := bufio.NewReader(strings.NewReader(stream))
	for i, want := range []struct {
		status   int
		location string
		keep     bool
	}{{303, "/b/123", true}, {200, "", true}, {503, "", false}, {200, "", false}} {
		status, location, keep, err := readAnswer(br)
		if err != nil || status != want.status || location != want.location || keep != want.keep {
			t.Fatalf("answer %d: %d %q keep=%v err=%v, want %+v", i, status, location, keep, err, want)
		}
	}
	if _, _, _, err := readAnswer(bufio.NewReader(strings.NewReader("SSH-2.0-OpenSSH\r\n"))); err == nil {
		t.Fatal("a line that is not HTTP was read as an answer")
	}
}
