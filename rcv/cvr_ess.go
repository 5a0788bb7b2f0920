package rcv

import (
	"fmt"
	"strings"
)

// readESS reads an ES&S cast vote record workbook as RCTab's
// StreamingCvrReader: one ballot per row from firstVoteRowIndex, rank r in
// column firstVoteColumnIndex + r − 1 (only the first maxRankingsAllowed
// columns), a cell holding a name, several names split by
// overvoteDelimiter, the overvote label, the skipped-rank label or the
// undeclared write-in label. With treatBlankAsUndeclaredWriteIn a missing
// cell before a marked one (and, with a numeric maxRankingsAllowed, after
// the last one) is an undeclared write-in.
func readESS(b *cvrBuilder, src *CVRSource) error {
	wb, err := openXLSXFS(src.fsys, src.name)
	if err != nil {
		return err
	}
	defer wb.Close()
	file := src.baseName()
	firstRow := src.FirstVoteRowIndex - 1
	firstCol := src.FirstVoteColumnIndex - 1
	idCol, precinctCol, batchCol := src.IDColumnIndex-1, src.PrecinctColumnIndex-1, src.BatchColumnIndex-1
	maxRank := b.maxRankAllowed() // 0 = "max": every column from firstCol

	// What a shared string means in a vote cell, worked out once per string.
	type cellMeaning struct {
		known   bool
		skipped bool    // the skipped-rank label: no mark, but the rank was seen
		marks   []int32 // resolved marks
		unknown []string
		bad     string // a data error
	}
	meanings := make([]cellMeaning, len(wb.Shared))
	meaning := func(s string) cellMeaning {
		var m cellMeaning
		s = javaTrim(s)
		parts := []string{s}
		if src.OvervoteDelimiter != "" {
			parts = strings.Split(s, src.OvervoteDelimiter)
		}
		for _, p := range parts {
			p = javaTrim(p)
			switch {
			case len(parts) > 1 && (p == "" || p == src.SkippedRankLabel):
				m.bad = fmt.Sprintf("cell %q: a cell split by the overvote delimiter %q may not hold a blank or the skipped-rank label", s, src.OvervoteDelimiter)
				return m
			case p == src.SkippedRankLabel:
				m.skipped = len(parts) == 1
			case p == src.OvervoteLabel:
				m.marks = append(m.marks, ovMark)
			case p == src.UndeclaredWriteInLabel:
				if b.writeInOK {
					m.marks = append(m.marks, b.writeIn)
				} else {
					m.unknown = append(m.unknown, UndeclaredWriteInLabel)
				}
			default:
				if r := b.resolve(p); r != markUnknown {
					m.marks = append(m.marks, r)
				} else {
					m.unknown = append(m.unknown, p)
				}
			}
		}
		return m
	}

	var (
		lastRank    int
		gotID       bool
		records     int
		currentRow  int
		currentCell int
	)
	where := func() string {
		return fmt.Sprintf("%s row %d column %s", file, currentRow+1, columnName(currentCell))
	}
	fillBlanks := func(upTo int) { // ranks lastRank+1 .. upTo-1 had no cell
		if src.TreatBlankAsUndeclaredWriteIn {
			for r := lastRank + 1; r < upTo; r++ {
				b.addWriteIn(r, where)
			}
		}
	}
	err = wb.Rows(func(row int, cells []xlsxCell) error {
		if row < firstRow {
			return nil
		}
		currentRow = row
		lastRank, gotID = 0, false
		for _, c := range cells {
			currentCell = c.Col
			switch {
			case c.Col == precinctCol, c.Col == batchCol:
				continue
			case c.Col == idCol:
				gotID = true
				continue
			case c.Col < firstCol || (maxRank > 0 && c.Col >= firstCol+maxRank):
				continue
			}
			rank := c.Col - firstCol + 1
			fillBlanks(rank)
			var m cellMeaning
			if c.Shared >= 0 {
				if c.Shared >= len(wb.Shared) {
					return fmt.Errorf("%s: shared string %d does not exist", where(), c.Shared)
				}
				m = meanings[c.Shared]
				if !m.known {
					m = meaning(wb.Shared[c.Shared])
					m.known = true
					meanings[c.Shared] = m
				}
			} else {
				m = meaning(string(c.Text))
			}
			if m.bad != "" {
				return fmt.Errorf("%s: %s", where(), m.bad)
			}
			for _, mk := range m.marks {
				b.add(rank, mk)
			}
			for _, u := range m.unknown {
				b.noteUnknown(u, where)
			}
			lastRank = rank
		}
		if maxRank > 0 {
			currentCell = firstCol + maxRank - 1
			fillBlanks(maxRank + 1)
		}
		if idCol >= 0 && !gotID {
			return fmt.Errorf("%s row %d: cast vote record ID missing from column %s (idColumnIndex)", file, row+1, columnName(idCol))
		}
		records++
		return b.endRecord(0, func() string { return fmt.Sprintf("%s row %d", file, row+1) })
	})
	if err != nil {
		return err
	}
	if records == 0 {
		return fmt.Errorf("%s: %w (no rows from firstVoteRowIndex %d)", file, errNoRecords, src.FirstVoteRowIndex)
	}
	return nil
}
