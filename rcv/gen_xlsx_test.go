package rcv

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The ES&S speed target (issue 13): "runoff tabulate --config" on a
// 1,000,000-ballot workbook built from the public 2015_portland_mayor
// workbook by repetition. The workbook is built on first use (in the
// system's temporary folder, never committed) and kept for later runs.

const portlandCase = "testdata/rctab-native/2015_portland_mayor"

// writeESSWorkbook writes dir/ess.xlsx with nBallots data rows, the
// Portland workbook's 99 rows over and over (renumbered), and beside it
// dir/ess_config.json, the Portland config pointing at it.
func writeESSWorkbook(tb testing.TB, dir string, nBallots int) string {
	tb.Helper()
	cfgPath := filepath.Join(dir, "ess_config.json")
	src, err := zip.OpenReader(filepath.Join(portlandCase, "2015_portland_mayor_cvr.xlsx"))
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tmp := filepath.Join(dir, "ess.xlsx.tmp")
	f, err := os.Create(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	rowNum := regexp.MustCompile(`(<row r="|<c r="[A-Z]+)(\d+)"`)
	for _, part := range src.File {
		rc, err := part.Open()
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: part.Name, Method: zip.Deflate})
		if err != nil {
			tb.Fatal(err)
		}
		if part.Name != "xl/worksheets/sheet1.xml" {
			w.Write(data)
			continue
		}
		s := string(data)
		start := strings.Index(s, `<row r="2"`)
		end := strings.Index(s, "</sheetData>")
		head, rows, tail := s[:start], s[start:end], s[end:]
		head = regexp.MustCompile(`<dimension ref="[^"]*"/>`).ReplaceAllString(head, fmt.Sprintf(`<dimension ref="A1:R%d"/>`, nBallots+1))
		// Each template row, split where its row number stands.
		var templates [][]string
		for _, row := range strings.SplitAfter(rows, "</row>") {
			if strings.TrimSpace(row) == "" {
				continue
			}
			var parts []string
			last := 0
			for _, m := range rowNum.FindAllStringSubmatchIndex(row, -1) {
				parts = append(parts, row[last:m[4]])
				last = m[5]
			}
			templates = append(templates, append(parts, row[last:]))
		}
		io.WriteString(w, head)
		var buf []byte
		for n := range nBallots {
			parts := templates[n%len(templates)]
			buf = append(buf[:0], parts[0]...)
			for _, p := range parts[1:] {
				buf = strconv.AppendInt(buf, int64(n+2), 10)
				buf = append(buf, p...)
			}
			w.Write(buf)
		}
		io.WriteString(w, tail)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	if err := os.Rename(tmp, filepath.Join(dir, "ess.xlsx")); err != nil {
		tb.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(portlandCase, "2015_portland_mayor_config.json"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte(`"2015_portland_mayor_cvr.xlsx"`), []byte(`"ess.xlsx"`), 1)
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		tb.Fatal(err)
	}
	return cfgPath
}

// essWorkbook returns the config of a workbook of n ballots, built once in
// the temporary folder (about 60 MB at 1,000,000) and reused.
func essWorkbook(tb testing.TB, n int) string {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("runoff-bench-ess-%d", n))
	cfg := filepath.Join(dir, "ess_config.json")
	if _, err := os.Stat(filepath.Join(dir, "ess.xlsx")); err == nil {
		return cfg
	}
	return writeESSWorkbook(tb, dir, n)
}

// TestWriteBenchESS writes the benchmark's workbook and config to
// $RUNOFF_WRITE_BENCH_ESS (a folder), for timing the command itself:
//
//	RUNOFF_WRITE_BENCH_ESS=/tmp/ess1m go test -run TestWriteBenchESS ./rcv/
//	runoff tabulate --config /tmp/ess1m/ess_config.json
func TestWriteBenchESS(t *testing.T) {
	dir := os.Getenv("RUNOFF_WRITE_BENCH_ESS")
	if dir == "" {
		t.Skip("set RUNOFF_WRITE_BENCH_ESS to a folder to write the 1,000,000-ballot ES&S workbook")
	}
	writeESSWorkbook(t, dir, 1_000_000)
}

// The workbook must read back as the Portland ballots, repeated.
func TestESSWorkbookRepeatsPortland(t *testing.T) {
	small, err := ReadContestConfig(filepath.Join(portlandCase, "2015_portland_mayor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	one, err := small.ReadCVRs()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ReadContestConfig(writeESSWorkbook(t, t.TempDir(), 3*99))
	if err != nil {
		t.Fatal(err)
	}
	three, err := cfg.ReadCVRs()
	if err != nil {
		t.Fatal(err)
	}
	if three.TotalBallots() != 3*one.TotalBallots() || three.NumDistinct() != one.NumDistinct() {
		t.Fatalf("%d ballots (%d distinct), want 3 × %d (%d distinct)", three.TotalBallots(), three.NumDistinct(), one.TotalBallots(), one.NumDistinct())
	}
}

// BenchmarkTabulateESS is "runoff tabulate --config" without the output:
// read the config, stream the workbook, count.
func BenchmarkTabulateESS(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		path := essWorkbook(b, n)
		st, err := os.Stat(filepath.Join(filepath.Dir(path), "ess.xlsx"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(st.Size())
			for b.Loop() {
				cfg, err := ReadContestConfig(path)
				if err != nil {
					b.Fatal(err)
				}
				c, err := cfg.ReadCVRs()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := TabulateContest(cfg.Rules, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
