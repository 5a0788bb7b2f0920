package rcv

// The scan of a worksheet's XML: <row>, <c>, <v> and inline strings, by
// hand (see xlsx.go for why not encoding/xml).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// rowError carries an error returned by the caller's row function through
// the scanner unchanged.
type rowError struct{ err error }

func (e rowError) Error() string { return e.err.Error() }

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
		cellType   byte // of the cell in hand: 's', 'b', 'n' or 'x' (text as is)
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
						return rowError{err}
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
					return rowError{err}
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
			col, typ, err := cellTag(tag, prevCol+1)
			if err != nil {
				return fmt.Errorf("row %d: %w", row+1, err)
			}
			prevCol, cellType = col, typ
			// Reuse the Text buffer of the cell that last held this slot.
			var spare []byte
			if len(cells) < cap(cells) {
				spare = cells[:len(cells)+1][len(cells)].Text[:0]
			}
			cell = xlsxCell{Col: col, Shared: -1, Text: spare}
			hasValue = false
			inCell = tag[len(tag)-1] != '/'
			// Fast path, nearly every cell: <v>value</v></c> already in the
			// buffer.
			if inCell && bytes.HasPrefix(s.buf, []byte("<v>")) {
				end := bytes.IndexByte(s.buf[3:], '<')
				if end >= 0 && bytes.HasPrefix(s.buf[3+end:], []byte("</v></c>")) {
					v := s.buf[3 : 3+end]
					if bytes.IndexByte(v, '&') >= 0 {
						valueBuf = unescapeXML(valueBuf[:0], v)
						v = valueBuf
					}
					if err := setCellValue(&cell, cellType, v, row); err != nil {
						return err
					}
					s.buf = s.buf[3+end+len("</v></c>"):]
					cells = append(cells, cell)
					inCell = false
				}
			}
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
func setCellValue(c *xlsxCell, typ byte, v []byte, row int) error {
	switch typ {
	case 's':
		i, ok := parseIndex(bytes.TrimSpace(v))
		if !ok {
			return fmt.Errorf("row %d column %s: bad shared-string index %q", row+1, columnName(c.Col), v)
		}
		c.Shared = i
	case 'b':
		if string(bytes.TrimSpace(v)) == "1" {
			c.Text = append(c.Text[:0], "TRUE"...)
		} else {
			c.Text = append(c.Text[:0], "FALSE"...)
		}
	case 'n':
		c.Text = appendNumber(c.Text[:0], bytes.TrimSpace(v))
	default: // str (formula text), e (error), d (ISO date), inlineStr with <v>
		c.Text = append(c.Text[:0], v...)
	}
	return nil
}

// appendNumber writes a numeric cell as a spreadsheet shows it in General
// format: integers without a decimal point.
func appendNumber(dst, v []byte) []byte {
	if _, ok := parseIndex(v); ok && (len(v) == 1 || v[0] != '0') {
		return append(dst, v...) // digits only: already as shown
	}
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
	// Fast path: name="value" after a space, as spreadsheet writers put it.
	var pat [8]byte
	if len(name)+3 <= len(pat) {
		p := append(append(append(pat[:0], ' '), name...), '=', '"')
		if i := bytes.Index(tag, p); i >= 0 {
			v := tag[i+len(p):]
			if end := bytes.IndexByte(v, '"'); end >= 0 {
				return v[:end], true
			}
		}
	}
	for i := 1; i+len(name)+2 <= len(tag); i++ {
		if tag[i] != name[0] || string(tag[i:i+len(name)]) != name {
			continue
		}
		k := i + len(name)
		if p := tag[i-1]; (p == ' ' || p == '\t' || p == '\n' || p == '\r') &&
			tag[k] == '=' && (tag[k+1] == '"' || tag[k+1] == '\'') {
			q := tag[k+1]
			end := bytes.IndexByte(tag[k+2:], q)
			if end < 0 {
				return nil, false
			}
			return tag[k+2 : k+2+end], true
		}
	}
	return nil, false
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

// parseIndex parses a non-negative decimal integer of up to 9 digits.
func parseIndex(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// cellTag reads a <c> tag's attributes in one pass: the column of its
// reference r (or col when it has none) and its type t as 's', 'b', 'n' or
// 'x' (text as is). The type is kept as a byte, not a slice of the tag:
// the buffer moves on before the value comes.
func cellTag(tag []byte, col int) (int, byte, error) {
	typ := byte('n')
	i := 1 // after "c"
	for i < len(tag) {
		for i < len(tag) && (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\n' || tag[i] == '\r' || tag[i] == '/') {
			i++
		}
		// Tags are short: plain loops beat IndexByte here.
		eq := i
		for eq < len(tag) && tag[eq] != '=' {
			eq++
		}
		if eq+1 >= len(tag) {
			break
		}
		name, q := tag[i:eq], tag[eq+1]
		end := eq + 2
		for end < len(tag) && tag[end] != q {
			end++
		}
		if end >= len(tag) {
			return 0, 0, fmt.Errorf("bad cell tag <%s>", tag)
		}
		val := tag[eq+2 : end]
		i = end + 1
		switch string(name) {
		case "r":
			c, err := columnIndex(val)
			if err != nil {
				return 0, 0, err
			}
			col = c
		case "t":
			switch string(val) {
			case "s", "b", "n":
				typ = val[0]
			default:
				typ = 'x'
			}
		}
	}
	return col, typ, nil
}
