package runoff

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Paper ballots come in as a file, are checked whole in the web (nothing
// is stored from a file with a mistake), and go to the worker in batches.
// An import's ID comes from the file's content and each ballot's from the
// import and its row, so uploading the same file again stores nothing
// twice and completes whatever was not stored.

// KeyElectionImport carries a batch of an import's ballots.
const KeyElectionImport = "election.import"

// Limits on imports.
const (
	MaxImportBytes  = 50 << 20
	ImportBatchSize = 1000
)

// ImportedBallot is one paper ballot: its row in the file (1 is the first
// ballot, under the header) and its ranking.
type ImportedBallot struct {
	Row     int         `json:"row"`
	Ranking []uuid.UUID `json:"ranking"`
}

// ElectionImport is the body of an election.import message: one batch of
// an import of Total ballots.
type ElectionImport struct {
	ImportID    uuid.UUID        `json:"import_id"`
	BatchID     uuid.UUID        `json:"batch_id"`
	ElectionID  uuid.UUID        `json:"election_id"`
	OrganizerID uuid.UUID        `json:"organizer_id"`
	FileName    string           `json:"file_name"`
	Total       int              `json:"total"`
	Ballots     []ImportedBallot `json:"ballots"`
	RequestedAt time.Time        `json:"requested_at"`
}

// ImportID names an import by its file's content.
func ImportID(electionID uuid.UUID, data []byte) uuid.UUID {
	sum := sha256.Sum256(data)
	return uuid.NewSHA1(electionID, sum[:])
}

// ImportedBallotID names an imported ballot by its import and row.
func ImportedBallotID(importID uuid.UUID, row int) uuid.UUID {
	return uuid.NewSHA1(importID, []byte(strconv.Itoa(row)))
}

// ImportError locates a mistake in a ballot file: by its line in a CSV
// file, by where the format allows in a vendor's export (a row, a record,
// a file of a zip), or nowhere for the file as a whole.
type ImportError struct {
	Line    int    // 1-based line of a CSV file (the header is line 1), or 0
	Where   string // where in a vendor's export, as its reader names it
	Message string
}

func (e *ImportError) Error() string {
	switch {
	case e.Where != "":
		return e.Where + ": " + e.Message
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return e.Message
}

// Place says where the mistake is, in words, or "" for the whole file.
func (e *ImportError) Place() string {
	switch {
	case e.Where != "":
		return e.Where
	case e.Line > 0:
		return fmt.Sprintf("line %d of the file", e.Line)
	}
	return ""
}

// ParseBallotFile reads a file of paper ballots for an election, in either
// of two layouts: the one runoff tabulate reads (a header rank1, rank2, …
// and a candidate's name in each cell), or a header naming the candidates
// with each ballot's rank numbers in their columns. Every line must hold a
// valid ballot for this election; the first mistake is returned with its
// line, and nothing of the file is to be stored.
func ParseBallotFile(e *Election, data []byte) ([]ImportedBallot, error) {
	return ParseBallotFileNamed(e, data, nil)
}

// ParseBallotFileNamed is ParseBallotFile with the organizer's map of
// names in the file to candidates (ParseNameMap) applied to the header and
// the cells, as to a voting system's export.
func ParseBallotFileNamed(e *Election, data []byte, names map[string]uuid.UUID) ([]ImportedBallot, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil, &ImportError{Line: 1, Message: "The file is empty: it needs a header line, then one ballot a line."}
	}
	if err != nil {
		return nil, csvError(err)
	}
	byName := candidateKeys(e)
	for k, id := range names {
		byName[k] = id
	}
	read, err := layout(header, byName, e)
	if err != nil {
		return nil, err
	}
	var out []ImportedBallot
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line := row + 1
		ranking, msg := read(rec)
		if msg == "" {
			if len(ranking) == 0 {
				msg = "This ballot ranks nobody."
			} else if err := ValidateRanking(e, ranking); err != nil {
				msg = Reason(err)
			}
		}
		if msg != "" {
			return nil, &ImportError{Line: line, Message: msg}
		}
		out = append(out, ImportedBallot{Row: row, Ranking: ranking})
	}
	if len(out) == 0 {
		return nil, &ImportError{Line: 2, Message: "The file has a header but no ballots."}
	}
	return out, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ImportError{Line: pe.StartLine, Message: "The line is not valid CSV: " + pe.Err.Error() + "."}
	}
	return &ImportError{Line: 1, Message: "The file could not be read: " + err.Error() + "."}
}

// layout reads the header and returns how to read a ballot line.
func layout(header []string, byName map[string]uuid.UUID, e *Election) (func([]string) ([]uuid.UUID, string), error) {
	ranks := true
	for i, h := range header {
		if strings.TrimSpace(strings.ToLower(h)) != "rank"+strconv.Itoa(i+1) {
			ranks = false
			break
		}
	}
	if ranks {
		return func(rec []string) ([]uuid.UUID, string) {
			if len(rec) > len(header) {
				return nil, fmt.Sprintf("This line has %d cells; the header has %d.", len(rec), len(header))
			}
			var ranking []uuid.UUID
			for i, cell := range rec {
				name := strings.TrimSpace(cell)
				if name == "" {
					continue // a skipped rank closes up, as on the web ballot
				}
				if strings.HasPrefix(name, "'") && len(name) > 1 && strings.ContainsRune("=+-@", rune(name[1])) {
					name = name[1:] // as Runoff's export neutralises formulas
				}
				id, ok := byName[nameKey(name)]
				if ok && id == PassOver {
					continue // mapped to "-": as a skipped rank
				}
				if !ok {
					if strings.Contains(name, "|") || strings.EqualFold(name, "overvote") {
						return nil, fmt.Sprintf("Rank %d marks more than one candidate (an overvote), which Runoff does not count; leave that rank empty instead.", i+1)
					}
					return nil, fmt.Sprintf("Rank %d names %q, who is not a candidate in this election.", i+1, name)
				}
				ranking = append(ranking, id)
			}
			return ranking, ""
		}, nil
	}
	cols := make([]uuid.UUID, len(header))
	seen := map[uuid.UUID]bool{}
	for i, h := range header {
		id, ok := byName[nameKey(h)]
		switch {
		case !ok:
			return nil, &ImportError{Line: 1, Message: fmt.Sprintf("The header's column %d, %q, is neither rank%d nor a candidate of this election. Use rank1, rank2, … with names in the cells, or the candidates' names with rank numbers in the cells.", i+1, h, i+1)}
		case seen[id] && id != PassOver:
			return nil, &ImportError{Line: 1, Message: fmt.Sprintf("The header names %q twice.", h)}
		}
		seen[id], cols[i] = true, id
	}
	return func(rec []string) ([]uuid.UUID, string) {
		if len(rec) > len(header) {
			return nil, fmt.Sprintf("This line has %d cells; the header has %d.", len(rec), len(header))
		}
		byRank := map[int]uuid.UUID{}
		maxRank := 0
		for i, cell := range rec {
			v := strings.TrimSpace(cell)
			if v == "" || cols[i] == PassOver {
				continue
			}
			n, err := strconv.Atoi(v)
			top := max(len(e.Candidates), len(header)) // with columns passed over, ranks may run past the candidates
			if err != nil || n < 1 || n > top {
				return nil, fmt.Sprintf("%s's cell holds %q; write a rank number from 1 to %d, or leave it empty.", header[i], v, top)
			}
			if _, dup := byRank[n]; dup {
				return nil, fmt.Sprintf("Two candidates are ranked %s (an overvote), which Runoff does not count.", Ordinal(n))
			}
			byRank[n] = cols[i]
			maxRank = max(maxRank, n)
		}
		var ranking []uuid.UUID
		for n := 1; n <= maxRank; n++ {
			if id, ok := byRank[n]; ok {
				ranking = append(ranking, id) // skipped ranks close up
			}
		}
		return ranking, ""
	}, nil
}

// DecideImport decides a batch of an import against its election (nil
// when there is none): only its organizer imports, into an election that
// has opened (imports may come after the close).
func DecideImport(e *Election, m ElectionImport, now time.Time) (dead string) {
	switch {
	case e == nil:
		return fmt.Sprintf("There is no election %s.", m.ElectionID)
	case e.OwnerID != m.OrganizerID:
		return fmt.Sprintf("Organizer %s does not own election %s, so it is not theirs to import into.", m.OrganizerID, e.ID)
	case e.StateAt(now) == StatusDraft:
		return "The election is still a draft, and its candidates may change: open it before importing paper ballots."
	}
	return ""
}
