package rcv

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// readAllCells renders every row of a workbook's first sheet as text.
func readAllCells(t *testing.T, w *xlsxWorkbook, chunk int) string {
	t.Helper()
	var sb strings.Builder
	err := w.rows(chunk, func(row int, cells []xlsxCell) error {
		fmt.Fprintf(&sb, "%d:", row)
		for _, c := range cells {
			if c.Shared >= 0 {
				fmt.Fprintf(&sb, " %s=s%d", columnName(c.Col), c.Shared)
			} else {
				fmt.Fprintf(&sb, " %s=%q", columnName(c.Col), c.Text)
			}
		}
		sb.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// Chunks of a few bytes put every tag and value across a chunk boundary
// somewhere; the cells must read the same as in one piece.
func TestXLSXChunkBoundaries(t *testing.T) {
	files, err := filepath.Glob("testdata/rctab-native/*/*.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	shared, _ := filepath.Glob("testdata/rctab-native/_shared/*.xlsx")
	files = append(files, shared...)
	if len(files) < 10 {
		t.Fatalf("found only %d workbooks", len(files))
	}
	for _, f := range files {
		w, err := openXLSX(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		whole := readAllCells(t, w, 1<<20)
		for _, chunk := range []int{1, 7, 64} {
			if got := readAllCells(t, w, chunk); got != whole {
				t.Errorf("%s: chunks of %d bytes read differently", f, chunk)
			}
		}
		w.Close()
	}
}

func TestXLSXHelpers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a &amp; b", "a & b"},
		{"&lt;x&gt; &quot;q&quot; &apos;", `<x> "q" '`},
		{"&#233;t&#xE9;", "été"},
		{"&bogus; & plain", "&bogus; & plain"},
	} {
		if got := string(unescapeXML(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("unescapeXML(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		ref  string
		want int
	}{{"A1", 0}, {"Z9", 25}, {"AA10", 26}, {"AB2", 27}} {
		if got, err := columnIndex([]byte(tc.ref)); err != nil || got != tc.want {
			t.Errorf("columnIndex(%q) = %d, %v; want %d", tc.ref, got, err, tc.want)
		}
		if name := columnName(tc.want); !strings.HasPrefix(tc.ref, name) {
			t.Errorf("columnName(%d) = %q, want the letters of %q", tc.want, name, tc.ref)
		}
	}
	for _, tc := range []struct{ tag, col string }{
		{`c r="D7" s="1" t="s"`, "D s"},
		{`c t='inlineStr' r="B2"`, "B x"},
		{`c s="3"`, "E n"}, // no reference: the next column
	} {
		col, typ, err := cellTag([]byte(tc.tag), 4)
		if err != nil || fmt.Sprintf("%s %c", columnName(col), typ) != tc.col {
			t.Errorf("cellTag(%s) = %s %c, %v; want %s", tc.tag, columnName(col), typ, err, tc.col)
		}
	}
	for _, tc := range []struct{ in, want string }{{"42", "42"}, {"007", "7"}, {"1.5", "1.5"}, {"1E3", "1000"}, {"x", "x"}} {
		if got := string(appendNumber(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("appendNumber(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// scanSheetBytes scans sheet XML handed over in chunks of the given size
// and renders the rows (or the error) as text.
func scanSheetBytes(data []byte, chunk int) string {
	full := make(chan []byte, len(data)/chunk+1)
	free := make(chan []byte, len(data)/chunk+2)
	for len(data) > 0 {
		n := min(chunk, len(data))
		full <- append([]byte(nil), data[:n]...)
		data = data[n:]
	}
	close(full)
	var sb strings.Builder
	s := sheetScanner{in: full, free: free}
	err := s.scan(func(row int, cells []xlsxCell) error {
		fmt.Fprintf(&sb, "%d:", row)
		for _, c := range cells {
			fmt.Fprintf(&sb, " %d=%d/%q", c.Col, c.Shared, c.Text)
		}
		sb.WriteByte('\n')
		return nil
	})
	if err != nil {
		fmt.Fprintf(&sb, "error: %v", err)
	}
	return sb.String()
}

// Whatever the bytes, the scan does not panic and reads the same in one
// piece and byte by byte.
func FuzzSheetScan(f *testing.F) {
	f.Add([]byte(`<sheetData><row r="2"><c r="B2" t="s"><v>1</v></c><c r="C2"><v>7</v></c></row></sheetData>`))
	f.Add([]byte(`<row><c t="inlineStr"><is><r><t>a&amp;b</t></r><rPh><t>x</t></rPh></is></c><c r="D1" t="b"><v>1</v></c></row><row r="9"/>`))
	f.Add([]byte(`<x:row r="3"><x:c r="AA3" t="str"><x:v>&#65;</x:v></x:c></x:row>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<12 {
			return
		}
		whole := scanSheetBytes(data, len(data)+1)
		if bytewise := scanSheetBytes(data, 1); bytewise != whole {
			t.Fatalf("byte by byte:\n%s\nwhole:\n%s", bytewise, whole)
		}
	})
}
