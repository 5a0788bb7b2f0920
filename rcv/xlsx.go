package rcv

// A streaming reader of the first worksheet of an .xlsx workbook, for ES&S
// cast vote records.
//
// Why not a library: the package may use one well-kept parsing library, and
// excelize is the usual one, but its streaming row reader decodes the sheet
// with encoding/xml and takes about 16 s for a million rows here, where the
// target is 5 s for the whole count. ES&S files use a small, fixed part of
// SpreadsheetML: one sheet of <row>/<c> elements whose values are shared
// strings, inline strings or numbers. This reader inflates the sheet part
// in one goroutine and scans its bytes for those elements in another,
// keeping only the row in hand (a million-row workbook is never held
// whole), and reads the small shared-strings part with encoding/xml. It
// decodes the five XML entities and character references; it does not
// format numbers by their cell style (as Apache POI, which RCTab uses,
// does), which matters for no value an ES&S CVR holds (names, labels,
// record and precinct IDs).

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// xlsxCell is one cell with a value. Shared is the shared-string index, or
// -1 when the value is in Text (inline strings, numbers, booleans).
type xlsxCell struct {
	Col    int // 0-based
	Shared int
	Text   []byte
}

// xlsxWorkbook is an open workbook.
type xlsxWorkbook struct {
	zr      *zip.Reader
	closer  io.Closer
	sheet   *zip.File
	Shared  []string
	sheetNm string
}

func openXLSX(name string) (*xlsxWorkbook, error) {
	return openXLSXFS(os.DirFS(filepath.Dir(name)), filepath.Base(name))
}

// openXLSXFS opens a workbook kept in fsys, whose files must allow random
// access (io.ReaderAt), as files on disk and uploads held in memory do.
func openXLSXFS(fsys fs.FS, name string) (*xlsxWorkbook, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	ra, ok := f.(io.ReaderAt)
	if err != nil || !ok {
		f.Close()
		return nil, fmt.Errorf("%s: cannot be read as a workbook (no random access)", name)
	}
	// An upload's limits were checked when it was opened (checkZip); a
	// workbook on disk for --config may be as large as the office's.
	zr, err := zip.NewReader(ra, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("not an .xlsx workbook (a zip archive): %w", err)
	}
	w := &xlsxWorkbook{zr: zr, closer: f}
	if err := w.findFirstSheet(); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.readSharedStrings(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *xlsxWorkbook) Close() error { return w.closer.Close() }

func (w *xlsxWorkbook) file(name string) *zip.File {
	for _, f := range w.zr.File {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

func (w *xlsxWorkbook) decode(name string, v any) error {
	f := w.file(name)
	if f == nil {
		return fmt.Errorf("workbook part %s missing", name)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("workbook part %s: %w", name, err)
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return fmt.Errorf("workbook part %s: %w", name, err)
	}
	return nil
}

// findFirstSheet finds the first sheet in workbook order (as RCTab's
// XSSFReader.getSheetsData) through the workbook's relationships.
func (w *xlsxWorkbook) findFirstSheet() error {
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := w.decode("xl/workbook.xml", &wb); err != nil {
		return err
	}
	if len(wb.Sheets) == 0 {
		return errors.New("the workbook has no sheet")
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := w.decode("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return err
	}
	first := wb.Sheets[0]
	for _, r := range rels.Rels {
		if r.ID != first.ID {
			continue
		}
		target := r.Target
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Join("xl", target)
		}
		w.sheet = w.file(target)
		w.sheetNm = first.Name
		if w.sheet == nil {
			return fmt.Errorf("sheet %q: part %s missing", first.Name, target)
		}
		return nil
	}
	return fmt.Errorf("sheet %q: no relationship %s in xl/_rels/workbook.xml.rels", first.Name, first.ID)
}

// readSharedStrings reads the shared-string table: each <si> is the text of
// its <t> elements, phonetic runs (<rPh>) left out.
func (w *xlsxWorkbook) readSharedStrings() error {
	f := w.file("xl/sharedStrings.xml")
	if f == nil {
		return nil // a workbook without shared strings
	}
	// The table is held whole; a CVR workbook's is small (names and
	// labels), so a huge one is refused rather than filling memory.
	if f.UncompressedSize64 > MaxExportPart {
		return fmt.Errorf("workbook part %s unpacks to %d MB; Runoff reads at most %d MB of shared strings", f.Name, f.UncompressedSize64>>20, MaxExportPart>>20)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("workbook part %s: %w", f.Name, err)
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	var sb strings.Builder
	inSI, inT, phonetic := false, false, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("workbook part %s: %w", f.Name, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
				sb.Reset()
			case "t":
				inT = inSI
			case "rPh":
				phonetic++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				inSI = false
				w.Shared = append(w.Shared, sb.String())
			case "t":
				inT = false
			case "rPh":
				phonetic--
			}
		case xml.CharData:
			if inT && phonetic == 0 {
				sb.Write(t)
			}
		}
	}
}

// Rows calls fn for every <row> of the first sheet, in order, with its
// 0-based row index and the cells that have a value (cells are reused
// between calls). Rows absent from the sheet are not reported.
func (w *xlsxWorkbook) Rows(fn func(row int, cells []xlsxCell) error) error {
	return w.rows(1<<20, fn)
}

// rows is Rows with the inflated sheet handed over in chunks of the given
// size (tests use tiny ones, so that tags and values straddle chunks).
func (w *xlsxWorkbook) rows(chunk int, fn func(row int, cells []xlsxCell) error) error {
	rc, err := w.sheet.Open()
	if err != nil {
		return fmt.Errorf("sheet %q: %w", w.sheetNm, err)
	}
	defer rc.Close()
	// Inflate on another core: chunks go through a channel, and buffers
	// come back for reuse.
	full := make(chan []byte, 4)
	free := make(chan []byte, 6)
	for range 6 {
		free <- make([]byte, chunk)
	}
	done := make(chan struct{})
	var readErr error
	go func() {
		defer close(full)
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-done:
				return
			}
			n, err := io.ReadFull(rc, buf)
			if n > 0 {
				select {
				case full <- buf[:n]:
				case <-done:
					return
				}
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return
			}
			if err != nil {
				readErr = err
				return
			}
		}
	}()
	s := sheetScanner{in: full, free: free}
	err = s.scan(fn)
	close(done)
	for range full { // let the inflater finish
	}
	if err == nil && readErr != nil {
		err = readErr
	}
	var fromFn rowError
	if errors.As(err, &fromFn) {
		return fromFn.err // the caller's own error, already placed
	}
	if err != nil {
		return fmt.Errorf("sheet %q: %w", w.sheetNm, err)
	}
	return nil
}
