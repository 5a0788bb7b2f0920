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
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
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
	zr      *zip.ReadCloser
	sheet   *zip.File
	Shared  []string
	sheetNm string
}

func openXLSX(name string) (*xlsxWorkbook, error) {
	zr, err := zip.OpenReader(name)
	if err != nil {
		return nil, fmt.Errorf("not an .xlsx workbook (a zip archive): %w", err)
	}
	w := &xlsxWorkbook{zr: zr}
	if err := w.findFirstSheet(); err != nil {
		zr.Close()
		return nil, err
	}
	if err := w.readSharedStrings(); err != nil {
		zr.Close()
		return nil, err
	}
	return w, nil
}

func (w *xlsxWorkbook) Close() error { return w.zr.Close() }

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
	rc, err := w.sheet.Open()
	if err != nil {
		return fmt.Errorf("sheet %q: %w", w.sheetNm, err)
	}
	defer rc.Close()
	// Inflate on another core: chunks go through a channel, and buffers
	// come back for reuse.
	const chunk = 1 << 20
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
	if err != nil {
		return fmt.Errorf("sheet %q: %w", w.sheetNm, err)
	}
	return nil
}

// sheetScanner finds the elements of a worksheet that carry cell values.
type sheetScanner struct {
	in   <-chan []byte
	free chan<- []byte
	buf  []byte // unconsumed bytes (a copy when a tag spans chunks)
	cur  []byte // the chunk buf points into, returned to free when done
	eof  bool
	tail []byte
}

// fill makes at least one more byte available, or reports EOF.
func (s *sheetScanner) more() bool {
	if s.eof {
		return false
	}
	next, ok := <-s.in
	if !ok {
		s.eof = true
		return false
	}
	// Keep the unconsumed tail (a split tag or text) in front of the chunk.
	s.tail = append(s.tail[:0], s.buf...)
	if s.cur != nil {
		s.free <- s.cur[:cap(s.cur)]
	}
	s.cur = next
	if len(s.tail) == 0 {
		s.buf = next
	} else {
		s.tail = append(s.tail, next...)
		s.buf = s.tail
		s.tail = nil
	}
	return true
}

// next returns the text before the next tag and the tag's content (between
// '<' and '>'). Both are valid until the following call.
func (s *sheetScanner) next() (text, tag []byte, err error) {
	for {
		lt := bytes.IndexByte(s.buf, '<')
		if lt >= 0 {
			gt := bytes.IndexByte(s.buf[lt:], '>')
			if gt >= 0 {
				text, tag = s.buf[:lt], s.buf[lt+1:lt+gt]
				s.buf = s.buf[lt+gt+1:]
				return text, tag, nil
			}
		}
		if !s.more() {
			if len(bytes.TrimSpace(s.buf)) > 0 {
				return nil, nil, errors.New("unexpected end of the sheet XML")
			}
			return nil, nil, io.EOF
		}
	}
}

func (s *sheetScanner) scan(fn func(row int, cells []xlsxCell) error) error {
	var (
		cells      []xlsxCell
		row        = -1
		inRow      bool
		cell       xlsxCell
		cellType   []byte
		inCell     bool
		hasValue   bool
		inIS       bool
		phonetic   int
		valueBuf   []byte
		textBuf    []byte
		prevCol    = -1
		lastRowNum = -1
	)
	for {
		text, tag, err := s.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(tag) == 0 {
			continue
		}
		closing := tag[0] == '/'
		name := tag
		if closing {
			name = tag[1:]
		}
		name = elementName(name)
		switch string(name) {
		case "row":
			if closing {
				if inRow {
					if err := fn(row, cells); err != nil {
						return err
					}
				}
				inRow = false
				continue
			}
			r, ok, err := attrInt(tag, "r")
			if err != nil {
				return fmt.Errorf("row after row %d: %w", lastRowNum+1, err)
			}
			if ok {
				row = r - 1
			} else {
				row = lastRowNum + 1
			}
			lastRowNum = row
			cells, prevCol = cells[:0], -1
			inRow = true
			if tag[len(tag)-1] == '/' { // <row .../>: a row without cells
				if err := fn(row, cells); err != nil {
					return err
				}
				inRow = false
			}
		case "c":
			if closing {
				if inCell && hasValue {
					cells = append(cells, cell)
				}
				inCell = false
				continue
			}
			col := prevCol + 1
			if ref, ok := attr(tag, "r"); ok {
				c, err := columnIndex(ref)
				if err != nil {
					return fmt.Errorf("row %d: %w", row+1, err)
				}
				col = c
			}
			prevCol = col
			cellType, _ = attr(tag, "t")
			cell = xlsxCell{Col: col, Shared: -1}
			hasValue = false
			inCell = tag[len(tag)-1] != '/'
		case "v":
			if closing && inCell {
				valueBuf = unescapeXML(valueBuf[:0], text)
				if err := setCellValue(&cell, cellType, valueBuf, row); err != nil {
					return err
				}
				hasValue = true
			}
		case "is":
			if !closing && inCell {
				inIS = tag[len(tag)-1] != '/'
				textBuf = textBuf[:0]
			} else if closing && inIS {
				inIS = false
				cell.Text = append(cell.Text[:0], textBuf...)
				cell.Shared = -1
				hasValue = true
			}
		case "rPh":
			if inIS {
				if closing {
					phonetic--
				} else if tag[len(tag)-1] != '/' {
					phonetic++
				}
			}
		case "t":
			if closing && inIS && phonetic == 0 {
				textBuf = unescapeXML(textBuf, text)
			}
		}
	}
}

// setCellValue interprets a <v> by the cell's type attribute.
func setCellValue(c *xlsxCell, typ, v []byte, row int) error {
	switch string(typ) {
	case "s":
		i, err := strconv.Atoi(string(bytes.TrimSpace(v)))
		if err != nil || i < 0 {
			return fmt.Errorf("row %d column %s: bad shared-string index %q", row+1, columnName(c.Col), v)
		}
		c.Shared = i
	case "b":
		if string(bytes.TrimSpace(v)) == "1" {
			c.Text = append(c.Text[:0], "TRUE"...)
		} else {
			c.Text = append(c.Text[:0], "FALSE"...)
		}
	case "n", "":
		c.Text = appendNumber(c.Text[:0], bytes.TrimSpace(v))
	default: // str (formula text), e (error), d (ISO date), inlineStr with <v>
		c.Text = append(c.Text[:0], v...)
	}
	return nil
}

// appendNumber writes a numeric cell as a spreadsheet shows it in General
// format: integers without a decimal point.
func appendNumber(dst, v []byte) []byte {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return append(dst, v...)
	}
	if f == float64(int64(f)) && f < 1e15 && f > -1e15 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// elementName strips attributes, a self-closing slash and a namespace
// prefix from a tag's content.
func elementName(tag []byte) []byte {
	end := len(tag)
	for i, c := range tag {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '/' {
			end = i
			break
		}
	}
	tag = tag[:end]
	if i := bytes.IndexByte(tag, ':'); i >= 0 {
		tag = tag[i+1:]
	}
	return tag
}

// attr returns the raw value of attribute name in a tag.
func attr(tag []byte, name string) ([]byte, bool) {
	for i := 0; ; {
		j := bytes.Index(tag[i:], []byte(name))
		if j < 0 {
			return nil, false
		}
		j += i
		k := j + len(name)
		if j > 0 && (tag[j-1] == ' ' || tag[j-1] == '\t' || tag[j-1] == '\n' || tag[j-1] == '\r') &&
			k+1 < len(tag) && tag[k] == '=' && (tag[k+1] == '"' || tag[k+1] == '\'') {
			q := tag[k+1]
			end := bytes.IndexByte(tag[k+2:], q)
			if end < 0 {
				return nil, false
			}
			return tag[k+2 : k+2+end], true
		}
		i = j + 1
	}
}

func attrInt(tag []byte, name string) (int, bool, error) {
	v, ok := attr(tag, name)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 1 {
		return 0, false, fmt.Errorf("bad row number %q", v)
	}
	return n, true, nil
}

// columnIndex returns the 0-based column of a cell reference such as "AB12".
func columnIndex(ref []byte) (int, error) {
	col, i := 0, 0
	for ; i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z'; i++ {
		col = col*26 + int(ref[i]-'A'+1)
	}
	if i == 0 || col > 1<<20 {
		return 0, fmt.Errorf("bad cell reference %q", ref)
	}
	return col - 1, nil
}

// columnName is the letters of a 0-based column ("A", "AB").
func columnName(col int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b)
}

// unescapeXML appends text with XML entities and character references
// decoded.
func unescapeXML(dst, text []byte) []byte {
	for {
		amp := bytes.IndexByte(text, '&')
		if amp < 0 {
			return append(dst, text...)
		}
		dst = append(dst, text[:amp]...)
		text = text[amp:]
		semi := bytes.IndexByte(text, ';')
		if semi < 0 {
			return append(dst, text...)
		}
		ent := text[1:semi]
		switch string(ent) {
		case "amp":
			dst = append(dst, '&')
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			r := rune(-1)
			if len(ent) > 1 && ent[0] == '#' {
				var n uint64
				var err error
				if ent[1] == 'x' || ent[1] == 'X' {
					n, err = strconv.ParseUint(string(ent[2:]), 16, 32)
				} else {
					n, err = strconv.ParseUint(string(ent[1:]), 10, 32)
				}
				if err == nil {
					r = rune(n)
				}
			}
			if r < 0 || !utf8.ValidRune(r) {
				dst = append(dst, text[:semi+1]...)
			} else {
				dst = utf8.AppendRune(dst, r)
			}
		}
		text = text[semi+1:]
	}
}
