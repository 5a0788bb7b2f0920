package rcv

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// readClearBallot reads a Clear Ballot CSV export as RCTab's
// ClearBallotCvrReader: choice columns from the 11th, headed
// "Choice_…:CONTEST:RANK:RULE:CANDIDATE:PARTY"; those of the configured
// contest (and an allowed rank) hold 1 where the ballot marks that
// candidate at that rank.
func readClearBallot(b *cvrBuilder, src *CVRSource) error {
	r, err := openCSV(src)
	if err != nil {
		return err
	}
	file := src.baseName()
	header, err := r.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: no header row", file)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	const choicesBegin = 10 // RowNumber … Remade come first
	if len(header) <= choicesBegin {
		return fmt.Errorf("%s line 1: no choice columns (want columns from the 11th)", file)
	}
	type choice struct {
		col, rank int
		name      string
		writeIn   bool
	}
	var choices []choice
	for col := choicesBegin; col < len(header); col++ {
		fields := strings.Split(header[col], ":")
		if len(fields) != 6 {
			return fmt.Errorf("%s line 1 column %d: choice header %q: want 6 fields separated by ':' (Choice_…:contest:rank:rule:candidate:party)", file, col+1, header[col])
		}
		if fields[1] != src.ContestID {
			continue
		}
		rank, err := strconv.Atoi(fields[2])
		if err != nil {
			return fmt.Errorf("%s line 1 column %d: rank %q is not an integer", file, col+1, fields[2])
		}
		if max := b.maxRankAllowed(); rank < 1 || (max > 0 && rank > max) {
			continue
		}
		name := fields[4]
		choices = append(choices, choice{col: col, rank: rank, name: javaTrim(name), writeIn: name == src.UndeclaredWriteInLabel})
	}
	if len(choices) == 0 {
		return fmt.Errorf("%s line 1: no choice column for contest %q (contestId)", file, src.ContestID)
	}
	records := 0
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		where := func() string { return fmt.Sprintf("%s line %d", file, line) }
		for _, c := range choices {
			if c.col >= len(row) {
				return fmt.Errorf("%s: %d columns, want at least %d", where(), len(row), c.col+1)
			}
			v, err := strconv.Atoi(strings.TrimSpace(row[c.col]))
			if err != nil {
				return fmt.Errorf("%s column %d: want 0 or 1, got %q", where(), c.col+1, row[c.col])
			}
			if v != 1 {
				continue
			}
			if c.writeIn {
				b.addWriteIn(c.rank, where)
			} else {
				b.addName(c.rank, c.name, where)
			}
		}
		if err := b.endRecord(0, where); err != nil {
			return err
		}
		records++
	}
	if records == 0 {
		return errNoRecords
	}
	return nil
}

// readGenericCSV reads RCTab's generic CSV layout (CsvCvrReader): a header
// row whose cells from firstVoteColumnIndex name the candidates, then one
// ballot a row with the rank given to each candidate in its column. (RCTab
// reads the ballots from the row after the header whatever
// firstVoteRowIndex says; so does Runoff, to give the same count.)
func readGenericCSV(b *cvrBuilder, src *CVRSource) error {
	r, err := openCSV(src)
	if err != nil {
		return err
	}
	file := src.baseName()
	firstCol := src.FirstVoteColumnIndex - 1
	header, err := r.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: no header row", file)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(header) <= firstCol {
		return fmt.Errorf("%s line 1: %d columns, but firstVoteColumnIndex is %d", file, len(header), src.FirstVoteColumnIndex)
	}
	names := slices.Clone(header[firstCol:]) // Read reuses the record
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("%s line 1 column %d: empty candidate name", file, firstCol+i+1)
		}
	}
	records := 0
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		where := func() string { return fmt.Sprintf("%s line %d", file, line) }
		for col := firstCol; col < len(row); col++ {
			cell := strings.TrimSpace(row[col])
			if cell == "" {
				continue
			}
			rank, err := strconv.Atoi(cell)
			if err != nil {
				return fmt.Errorf("%s column %d: want a rank number, got %q", where(), col+1, row[col])
			}
			if col-firstCol >= len(names) {
				return fmt.Errorf("%s column %d: a rank in a column with no candidate in the header", where(), col+1)
			}
			name := names[col-firstCol]
			if name == src.UndeclaredWriteInLabel {
				b.addWriteIn(rank, where)
			} else {
				b.addName(rank, javaTrim(name), where)
			}
		}
		if err := b.endRecord(b.maxRankAllowed(), where); err != nil {
			return err
		}
		records++
	}
	if records == 0 {
		return errNoRecords
	}
	return nil
}

// openCSV opens a CSV file for reading, a UTF-8 byte-order mark skipped,
// rows of any length.
func openCSV(src *CVRSource) (*csv.Reader, error) {
	data, err := fs.ReadFile(src.fsys, src.name)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	return r, nil
}
