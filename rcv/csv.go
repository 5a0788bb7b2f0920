package rcv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// CSVError locates a problem in a ballot file.
type CSVError struct {
	Line   int // 1-based line number (the header is line 1)
	Column int // 1-based column (cell) number; 0 when the whole line is at fault
	Err    error
}

func (e *CSVError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *CSVError) Unwrap() error { return e.Err }

// OvervoteLiteral is the ballot-file cell meaning "overvote, marks unknown".
const OvervoteLiteral = "overvote"

const parseWriteIn = -2 // temporary mark for write-ins while candidates may still be added

// ReadCSV parses a ballot file (header rank1..rankN, one ballot a line) into
// weighted distinct rankings. Cells: empty, a candidate name, names joined by
// "|" (an overvote with known marks), or the literal "overvote".
//
// A name written "'=…" (an apostrophe before a formula's first character,
// as Runoff's exports neutralise such cells) is read without the
// apostrophe.
//
// Names are looked up in rules.Candidates. A name not listed counts as an
// undeclared write-in when rules.UndeclaredWriteIn.Enabled, is added as a new
// candidate when rules.CandidatesFromBallots (rules.Candidates is then
// extended), and is an error otherwise.
func ReadCSV(r io.Reader, rules *Rules) (*Contest, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read ballots: %w", err)
	}
	return ParseCSV(data, rules)
}

// ParseCSV is ReadCSV over a ballot file already in memory (it avoids a copy).
func ParseCSV(data []byte, rules *Rules) (*Contest, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	names := make(map[string]int32, len(rules.Candidates)+1)
	for i, c := range rules.Candidates {
		names[c] = int32(i)
	}
	uwi := rules.UndeclaredWriteIn.Enabled
	uwiName := rules.uwiName()
	if uwi {
		if _, ok := names[uwiName]; !ok {
			names[uwiName] = parseWriteIn
		}
		if _, ok := names[UndeclaredWriteInLabel]; !ok {
			names[UndeclaredWriteInLabel] = parseWriteIn
		}
	}
	nLines := bytes.Count(data, []byte("\n"))
	set := newBallotSetSized(nLines / 3)
	set.toks = make([]int32, 0, 4*nLines)
	p := csvParser{data: data}
	header, ok, err := p.record()
	if err != nil {
		return nil, err
	}
	if !ok || len(header) == 0 {
		return nil, &CSVError{Line: 1, Err: errors.New("missing header row (rank1,...,rankN)")}
	}
	nCols := len(header)
	toks := make([]int32, 0, 64)
	var cellBuf []byte
	for {
		line := p.line
		cells, ok, err := p.record()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if len(cells) > nCols {
			// Trailing empty cells beyond the header are harmless.
			for _, c := range cells[nCols:] {
				if len(bytes.TrimSpace(c.b)) != 0 {
					return nil, &CSVError{Line: line, Column: nCols + 1, Err: fmt.Errorf("%d cells but the header has %d columns", len(cells), nCols)}
				}
			}
			cells = cells[:nCols]
		}
		toks = toks[:0]
		for ci, cell := range cells {
			v := cell.b
			if cell.quoted {
				cellBuf = unquote(cellBuf[:0], v)
				v = cellBuf
			}
			v = bytes.TrimSpace(v)
			if len(v) == 0 {
				continue
			}
			toks = append(toks, int32(ci+1), 0)
			nAt := len(toks) - 1
			start := len(toks)
			rest := v
			for len(rest) > 0 || len(toks) == start {
				part := rest
				if k := bytes.IndexByte(rest, '|'); k >= 0 {
					if _, whole := names[string(rest)]; whole && len(toks) == start {
						// A listed candidate whose name holds "|" is one mark.
						toks = append(toks, names[string(rest)])
						break
					}
					part, rest = rest[:k], rest[k+1:]
					if len(rest) == 0 { // "A|": a trailing empty name
						return nil, &CSVError{Line: line, Column: ci + 1, Err: fmt.Errorf("empty name in overvote %q", v)}
					}
				} else {
					rest = nil
				}
				if len(part) > 0 && (part[0] == ' ' || part[len(part)-1] == ' ' || part[0] == '\t' || part[len(part)-1] == '\t') {
					part = bytes.TrimSpace(part)
				}
				if len(part) == 0 {
					return nil, &CSVError{Line: line, Column: ci + 1, Err: fmt.Errorf("empty name in overvote %q", v)}
				}
				part = unneutralise(part)
				idx, ok := names[string(part)]
				if !ok {
					switch {
					case string(part) == OvervoteLiteral:
						idx = ovMark
					case uwi:
						idx = parseWriteIn
					case rules.CandidatesFromBallots:
						idx = int32(len(rules.Candidates))
						name := string(part)
						rules.Candidates = append(rules.Candidates, name)
						names[name] = idx
					default:
						return nil, &CSVError{Line: line, Column: ci + 1, Err: fmt.Errorf("unknown candidate %q", part)}
					}
				}
				toks = append(toks, idx)
			}
			toks[nAt] = int32(len(toks) - start)
			if len(toks)-start > 1 {
				slices.Sort(toks[start:])
			}
		}
		set.add(toks, 1)
	}
	set.index, set.overflow = nil, nil
	nd := int32(len(rules.Candidates))
	for i := 0; i < set.len(); i++ {
		t := set.toks[set.offs[i]:set.offs[i+1]]
		for j := 0; j < len(t); {
			n := int(t[j+1])
			for m := j + 2; m < j+2+n; m++ {
				if t[m] == parseWriteIn {
					t[m] = nd
				}
			}
			j += 2 + n
		}
	}
	return &Contest{Candidates: slices.Clone(rules.Candidates), set: set, hasWriteIn: uwi}, nil
}

// unneutralise reads a cell that a spreadsheet-safe export wrote as
// "'=…" (an apostrophe before =, +, -, @, a tab or a carriage return, so
// that no spreadsheet runs it as a formula) as the name it stands for.
func unneutralise(b []byte) []byte {
	if len(b) > 1 && b[0] == '\'' && bytes.IndexByte([]byte("=+-@\t\r"), b[1]) >= 0 {
		return b[1:]
	}
	return b
}

type csvCell struct {
	b      []byte
	quoted bool // b still holds doubled quotes
}

type csvParser struct {
	data  []byte
	pos   int
	line  int // line number of the next record (1-based)
	cells []csvCell
}

// record returns the next record's cells (valid until the next call).
func (p *csvParser) record() ([]csvCell, bool, error) {
	if p.line == 0 {
		p.line = 1
	}
	if p.pos >= len(p.data) {
		return nil, false, nil
	}
	p.cells = p.cells[:0]
	d := p.data
	i := p.pos
	startLine := p.line
	for {
		// one cell
		if i < len(d) && d[i] == '"' {
			i++
			start := i
			escaped := false
			for {
				if i >= len(d) {
					return nil, false, &CSVError{Line: startLine, Column: len(p.cells) + 1, Err: errors.New("unterminated quoted cell")}
				}
				c := d[i]
				if c == '"' {
					if i+1 < len(d) && d[i+1] == '"' {
						escaped = true
						i += 2
						continue
					}
					break
				}
				if c == '\n' {
					p.line++
				}
				i++
			}
			p.cells = append(p.cells, csvCell{b: d[start:i], quoted: escaped})
			i++ // closing quote
			// allow spaces before the separator
			for i < len(d) && (d[i] == ' ' || d[i] == '\t') {
				i++
			}
			if i < len(d) && d[i] != ',' && d[i] != '\n' && d[i] != '\r' {
				return nil, false, &CSVError{Line: p.line, Column: len(p.cells), Err: errors.New("unexpected text after closing quote")}
			}
		} else {
			start := i
			for i < len(d) && d[i] != ',' && d[i] != '\n' {
				if d[i] == '"' {
					return nil, false, &CSVError{Line: p.line, Column: len(p.cells) + 1, Err: errors.New("bare quote in unquoted cell")}
				}
				i++
			}
			end := i
			if end > start && d[end-1] == '\r' && (end == len(d) || d[end] == '\n') {
				end--
			}
			p.cells = append(p.cells, csvCell{b: d[start:end]})
		}
		if i >= len(d) {
			p.pos = i
			p.line++
			return p.cells, true, nil
		}
		switch d[i] {
		case ',':
			i++
			continue
		case '\r':
			i++
			if i < len(d) && d[i] == '\n' {
				i++
			}
		case '\n':
			i++
		}
		p.pos = i
		p.line++
		return p.cells, true, nil
	}
}

func unquote(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		dst = append(dst, b[i])
		if b[i] == '"' && i+1 < len(b) && b[i+1] == '"' {
			i++
		}
	}
	return dst
}
