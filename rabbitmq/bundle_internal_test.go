package rabbitmq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func bundleOf(parts ...part) []byte {
	b := newBundle(nil, "vote.submit")
	for _, p := range parts {
		b = appendBundlePart(b, p.id, p.body)
	}
	return b
}

func TestBundleRoundTrip(t *testing.T) {
	in := []part{
		{id: "0196a000-0000-7000-8000-000000000001", body: []byte(`{"ballot_id":"x"}`)},
		{id: "", body: []byte{}},
		{id: "b", body: bytes.Repeat([]byte{0, 0xff, '\n'}, 300)}, // lengths past one varint byte, any bytes
		{id: strings.Repeat("i", 200), body: []byte(bundleMagic)}, // a body that looks like a bundle
	}
	b := bundleOf(in...)
	if !isBundle(b) {
		t.Fatal("not a bundle")
	}
	key, out, err := readBundle(b)
	if err != nil || key != "vote.submit" {
		t.Fatal(key, err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d parts, want %d", len(out), len(in))
	}
	for i := range in {
		if out[i].id != in[i].id || !bytes.Equal(out[i].body, in[i].body) {
			t.Errorf("part %d: %q %q, want %q %q", i, out[i].id, out[i].body, in[i].id, in[i].body)
		}
	}
	// A part's body cannot grow into the next part's bytes.
	out[0].body = append(out[0].body, 'X')
	if _, again, _ := readBundle(b); again[1].id != "" || len(again) != len(in) {
		t.Error("appending to a part's body changed the bundle")
	}
}

// Nothing a JSON message can be is taken for a bundle.
func TestBundleNotJSON(t *testing.T) {
	for _, body := range []string{`{"a":1}`, `[]`, `"RUNOFF-BUNDLE/1\n"`, ``, `RUNOFF-BUNDLE/1`} {
		if isBundle([]byte(body)) {
			t.Errorf("%q taken for a bundle", body)
		}
	}
}

// A bundle that cannot be read whole is refused whole, with a reason.
func TestBundleDamaged(t *testing.T) {
	good := bundleOf(part{"a", []byte("one")}, part{"b", []byte("two")})
	tooMany := bundleOf(make([]part, maxBundleParts+1)...)
	for name, body := range map[string][]byte{
		"no routing key":       []byte(bundleMagic),
		"empty routing key":    appendBundlePart(newBundle(nil, ""), "a", []byte("one")),
		"no parts":             newBundle(nil, "vote.submit"),
		"cut in the last body": good[:len(good)-1],
		"cut after an id":      good[:len(good)-len("two")-1],
		"id longer than all":   append(newBundle(nil, "k"), 0x7f, 'a'),
		"length overflows":     append(newBundle(nil, "k"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"length past int":      binary.AppendUvarint(newBundle(nil, "k"), 1<<63),
		"too many parts":       tooMany,
		"no header":            []byte("{}"),
	} {
		if _, parts, err := readBundle(body); err == nil || !errors.Is(err, errDamagedBundle) {
			t.Errorf("%s: %d parts, err %v", name, len(parts), err)
		}
	}
}

func FuzzReadBundle(f *testing.F) {
	f.Add(bundleOf(part{"a", []byte("one")}, part{"b", []byte("two")}))
	f.Add([]byte(bundleMagic + "\x01k\x01a\x00"))
	f.Add([]byte(bundleMagic + "\x01k\xff"))
	f.Fuzz(func(t *testing.T, body []byte) {
		key, parts, err := readBundle(body)
		if err != nil {
			return
		}
		// What reads whole writes back as the same parts (a length may
		// have been written in more bytes than it needs), and no part
		// holds more than the body had.
		again := newBundle(nil, key)
		for _, p := range parts {
			again = appendBundlePart(again, p.id, p.body)
		}
		key2, parts2, err := readBundle(again)
		if err != nil || key2 != key || len(parts2) != len(parts) {
			t.Fatalf("read %q and %d parts from %q; written back, %q and %d parts, %v", key, len(parts), body, key2, len(parts2), err)
		}
		n := len(key)
		for i := range parts {
			if parts2[i].id != parts[i].id || !bytes.Equal(parts2[i].body, parts[i].body) {
				t.Fatalf("part %d read back as %q %q, was %q %q", i, parts2[i].id, parts2[i].body, parts[i].id, parts[i].body)
			}
			n += len(parts[i].id) + len(parts[i].body)
		}
		if n > len(body) {
			t.Fatalf("%d bytes of parts from a body of %d", n, len(body))
		}
	})
}

// What a bundle of 16 ballots costs the web to write and the worker to
// read, per ballot: the price of sharing a broker message.
func BenchmarkBundle16(b *testing.B) {
	body := []byte(`{"ballot_id":"0196a000-0000-7000-8000-000000000001","election_id":"0196a000-0000-7000-8000-000000000002","ranking":["0196a000-0000-7000-8000-000000000003","0196a000-0000-7000-8000-000000000004"],"submitted_at":"2026-11-26T03:30:00.123456Z"}`)
	id := "0196a000-0000-7000-8000-000000000001"
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = newBundle(buf[:0], "vote.submit")
		for range 16 {
			buf = appendBundlePart(buf, id, body)
		}
		_, parts, err := readBundle(buf)
		if err != nil || len(parts) != 16 {
			b.Fatal(len(parts), err)
		}
	}
}
