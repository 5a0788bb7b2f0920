package handlers

import (
	"strings"
	"testing"
)

// Every cell a spreadsheet would read as a formula gets an apostrophe;
// nothing else changes.
func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"Ada": "Ada", "": "", "a=b": "a=b", "ABCD-EFGH-IJKL-MNOP": "ABCD-EFGH-IJKL-MNOP",
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// A key's QR code: how large and how slow, since a sheet may hold
// thousands.
func BenchmarkQRDataURL(b *testing.B) {
	link := "https://runoff.example.org/e/01a21485-5112-7499-bafa-0b3efd95ebd0?key=WIWI-FLDD-LIWE-ABKD"
	var n int
	for b.Loop() {
		u, err := qrDataURL(link)
		if err != nil || !strings.HasPrefix(u, "data:image/svg+xml;base64,") {
			b.Fatal(err)
		}
		n = len(u)
	}
	b.ReportMetric(float64(n), "bytes/code")
}
