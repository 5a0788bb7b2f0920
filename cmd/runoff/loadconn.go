package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"
)

// poster casts ballots over one keep-alive connection, writing each
// request and reading each answer itself, as wrk does. Go's http.Client hands every request between three goroutines; on
// the two cores that the whole stack shares, that cost about 50 µs of the
// load generator's CPU per ballot, taken from the stack it measures. This
// costs about a third of that. A request that fails is not sent again (a
// ballot with no ID in its form would be a second ballot): the caller
// counts it as failed, and the next request reconnects.
type poster struct {
	addr, host, path string
	timeout          time.Duration

	conn net.Conn
	br   *bufio.Reader
	req  []byte
}

func newPoster(base, path string, timeout time.Duration) (*poster, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("load: --url %s: only http:// is cast to", u.Redacted())
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &poster{addr: addr, host: u.Host, path: path, timeout: timeout}, nil
}

// post sends one form and returns the answer's status and Location.
func (p *poster) post(form []byte) (status int, location string, err error) {
	return p.do("POST", form)
}

// get asks for the poster's path.
func (p *poster) get() (status int, location string, err error) {
	return p.do("GET", nil)
}

func (p *poster) do(method string, form []byte) (status int, location string, err error) {
	if p.conn == nil {
		c, err := net.DialTimeout("tcp", p.addr, p.timeout)
		if err != nil {
			return 0, "", err
		}
		p.conn, p.br = c, bufio.NewReaderSize(c, 16<<10)
	}
	p.conn.SetDeadline(time.Now().Add(p.timeout))
	r := append(p.req[:0], method...)
	r = append(r, ' ')
	r = append(r, p.path...)
	r = append(r, " HTTP/1.1\r\nHost: "...)
	r = append(r, p.host...)
	r = append(r, "\r\nUser-Agent: runoff-load"...)
	if method == "GET" {
		// As browsers ask: the web sends large kept pages gzipped.
		r = append(r, "\r\nAccept-Encoding: gzip"...)
	}
	if method == "POST" {
		r = append(r, "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "...)
		r = strconv.AppendInt(r, int64(len(form)), 10)
	}
	r = append(r, "\r\n\r\n"...)
	r = append(r, form...)
	p.req = r
	if _, err := p.conn.Write(r); err != nil {
		p.close()
		return 0, "", err
	}
	status, location, keep, err := readAnswer(p.br)
	if err != nil || !keep {
		p.close()
	}
	return status, location, err
}

func (p *poster) close() {
	if p.conn != nil {
		p.conn.Close()
		p.conn, p.br = nil, nil
	}
}

// appendForm writes a ballot's form, rank1=ID&rank2=ID…; candidate IDs
// need no escaping.
func appendForm(b []byte, ranked []string) []byte {
	for i, id := range ranked {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, "rank"...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, '=')
		b = append(b, url.QueryEscape(id)...)
	}
	return b
}

// readAnswer reads one HTTP/1.1 answer: its status, its Location, and
// whether the connection may be used again; the body is read and
// dropped. It reads only what runoff load needs, without the header map
// http.ReadResponse makes for every answer.
func readAnswer(br *bufio.Reader) (status int, location string, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, "", false, err
	}
	// HTTP/1.1 303 See Other
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, "", false, fmt.Errorf("load: not an HTTP answer: %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, "", false, fmt.Errorf("load: status line %q", line)
	}
	keep = true
	length, chunked := -1, false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, "", false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Location")):
			location = string(value)
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, "", false, fmt.Errorf("load: Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		_, err = io.Copy(io.Discard, httputil.NewChunkedReader(br))
		if err == nil {
			// The trailer: empty lines up to the blank one.
			for {
				if line, err = br.ReadSlice('\n'); err != nil || len(bytes.TrimRight(line, "\r\n")) == 0 {
					break
				}
			}
		}
	case length >= 0:
		_, err = br.Discard(length)
	default:
		// No length: the body runs to the connection's end.
		_, err = io.Copy(io.Discard, br)
		keep = false
	}
	if err != nil {
		return 0, "", false, err
	}
	return status, location, keep, nil
}
