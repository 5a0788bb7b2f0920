package runoff

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Paper ballots from a voting system's export (an ES&S workbook, a CDF
// report, a Clear Ballot CSV, a Dominion or Hart export) arrive as cast
// vote records: at each rank, the names the file gives (codes already
// turned into names by the reader). This file decides what such a record
// becomes in an election, by the same rules its count applies, so that an
// imported ballot counts round by round as the record would under them:
//
//   - Names match the election's candidates as names typed in the web do
//     (nameKey), or through the organizer's map of names in the file. A
//     name that matches nobody stops the import, listing every such name
//     with how often and where it first appears, and how to map it.
//   - A skipped rank closes up, as on the web ballot: the election counts
//     with unlimited skipped ranks.
//   - A rank marking several candidates (an overvote) is passed over and
//     the ballot goes on to its next rank: the election counts overvotes
//     by RCTab's alwaysSkipToNextRank. (Ending the ballot there instead —
//     exhaustImmediately, Maine's rule — would count the ballot by a rule
//     the election does not have; an office bound by it counts the export
//     with `runoff tabulate --config`.)
//   - A candidate ranked again is passed over at the later rank, as the
//     count passes over repeated rankings.
//   - Marks past the ranks the election counts are left out, as the count
//     leaves them.
//   - A record that is left ranking nobody (a blank ballot, or one with
//     only overvotes) adds nothing to any round of the count; a Runoff
//     ballot ranks somebody, so it is not imported, and the import says
//     how many there were.
//
// The organizer may also map a name to "-": its marks are passed over like
// a skipped rank. That is for write-ins ("UWI", Dominion's "(undeclared)")
// in an election without a write-in candidate, which once open cannot
// gain one: a write-in is a vote for nobody on this election's ballot.
// (RCTab, counting undeclared write-ins, eliminates them in its first
// round, so its rounds from the second on are the import's from the
// first.)
//
// The import's summary counts the records each rule touched, so the
// organizer sees what was made of the file.

// CastRecord is one cast vote record of an export: where it is in the file
// and, rank by rank, what it marks (ranks without a mark left out).
type CastRecord struct {
	Where string
	Ranks []CastRank
}

// CastRank is what a rank of a record marks: the names the file gives,
// several for an overvote, or an overvote the file records without names.
type CastRank struct {
	Rank     int
	Names    []string
	Overvote bool
}

// FileContest is a ranked contest of an export, with its candidates'
// names as the file gives them (none when the format lists none).
type FileContest struct {
	ID, Name   string
	Candidates []string
}

// ImportOptions are what the organizer adds to a file on the import form:
// the map of names in the file to candidates (ParseNameMap), and which
// contest of an export to import ("" to let ChooseContest pick).
type ImportOptions struct {
	Names   map[string]uuid.UUID
	Contest string
}

// ImportSummary says what an import made of a file.
type ImportSummary struct {
	Format    string // the file's format in words ("ES&S workbook"); "" for Runoff's CSV
	Contest   string // the contest read, for a file of several
	Records   int    // ballots in the file
	Imported  int
	Blank     int // records left ranking nobody: not imported
	Overvotes int // records with an overvoted rank, passed over
	Repeats   int // records ranking a candidate twice; the later rank passed over
	PastLimit int // records with marks past the ranks the election counts, left out
	Passed    int // records with a mark of a name mapped to "-", passed over
}

// Notes are the summary's sentences for the organizer, beyond the count.
func (s ImportSummary) Notes(maxRanks int) []string {
	var notes []string
	if s.Blank > 0 {
		notes = append(notes, fmt.Sprintf("%s ranked no candidate who can be counted (blank, or only overvotes) and %s not imported: such a ballot adds nothing to any round.", plural(s.Blank, "ballot"), wasWere(s.Blank)))
	}
	if s.Overvotes > 0 {
		notes = append(notes, fmt.Sprintf("%s marked more than one candidate at a rank (an overvote): that rank was passed over and the ballot goes on to its next choice, as this election counts overvotes.", plural(s.Overvotes, "ballot")))
	}
	if s.Repeats > 0 {
		notes = append(notes, fmt.Sprintf("%s ranked a candidate more than once: the later ranks were passed over.", plural(s.Repeats, "ballot")))
	}
	if s.Passed > 0 {
		notes = append(notes, fmt.Sprintf("%s marked a name you chose to pass over (mapped to -): those marks were passed over like skipped ranks.", plural(s.Passed, "ballot")))
	}
	if s.PastLimit > 0 {
		notes = append(notes, fmt.Sprintf("%s marked ranks past the %d this election counts: those marks were left out.", plural(s.PastLimit, "ballot"), maxRanks))
	}
	return notes
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// MaxNameMap bounds the import form's map of names.
const MaxNameMap = 500

// PassOver is what ParseNameMap maps a name to when its marks are to be
// passed over ("Name in the file = -").
var PassOver = uuid.Nil

// ParseNameMap reads the import form's map of names in a file to the
// election's candidates, one a line: "Name in the file = Candidate", or
// "Name in the file = -" to pass its marks over (PassOver). Empty lines
// are ignored. It returns the map keyed by how names compare.
func ParseNameMap(e *Election, text string) (map[string]uuid.UUID, error) {
	byName := candidateKeys(e)
	out := map[string]uuid.UUID{}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) > MaxNameMap {
		return nil, Invalid(fmt.Sprintf("Map at most %d names.", MaxNameMap), map[string]string{"names": fmt.Sprintf("Map at most %d names, one a line.", MaxNameMap)})
	}
	for i, line := range lines {
		line = CleanText(line)
		if line == "" {
			continue
		}
		bad := func(msg string) error {
			return Invalid(fmt.Sprintf("Names in the file, line %d: %s", i+1, msg), map[string]string{"names": fmt.Sprintf("Line %d: %s", i+1, msg)})
		}
		from, to, ok := strings.Cut(line, "=")
		// A name may itself hold "=": the candidate is after the last one.
		if k := strings.LastIndex(line, "="); ok && k > len(from) {
			from, to = line[:k], line[k+1:]
		}
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		switch {
		case !ok || from == "" || to == "":
			return nil, bad(fmt.Sprintf("write the name as the file has it, then = and the candidate (or - to pass its marks over), like %q.", "Brennan, Michael F. = Michael Brennan"))
		case hidden(from, false) || hidden(to, false):
			return nil, bad("it holds an invisible or direction-changing character; type it plainly.")
		}
		id, known := byName[nameKey(to)]
		if to == "-" {
			id, known = PassOver, true
		}
		if !known {
			return nil, bad(fmt.Sprintf("%q is not a candidate of this election (its candidates: %s).", to, strings.Join(e.CandidateNames(), ", ")))
		}
		if prev, dup := out[nameKey(from)]; dup && prev != id {
			return nil, bad(fmt.Sprintf("%q is mapped twice, to different candidates.", from))
		}
		out[nameKey(from)] = id
	}
	return out, nil
}

func candidateKeys(e *Election) map[string]uuid.UUID {
	m := make(map[string]uuid.UUID, len(e.Candidates))
	for _, c := range e.Candidates {
		m[nameKey(c.Name)] = c.ID
	}
	return m
}

// ChooseContest picks the contest of a file to import into an election:
// the one asked for (by ID or name), the file's only one, or else the one
// whose candidates, by name or the map of names, are most of the
// election's. When that leaves a choice, the error lists the contests.
func ChooseContest(e *Election, names map[string]uuid.UUID, asked string, contests []FileContest) (int, error) {
	list := func() string {
		var parts []string
		for _, c := range contests {
			s := fmt.Sprintf("%q", c.Name)
			if c.ID != c.Name {
				s += fmt.Sprintf(" (ID %s)", c.ID)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ", ")
	}
	if asked = strings.TrimSpace(asked); asked != "" {
		for i, c := range contests {
			if c.ID == asked || nameKey(c.Name) == nameKey(asked) {
				return i, nil
			}
		}
		return 0, &ImportError{Message: fmt.Sprintf("The file has no ranked contest %q. Its ranked contests: %s.", asked, list())}
	}
	if len(contests) == 1 {
		return 0, nil
	}
	byName := candidateKeys(e)
	best, bestScore, tie := -1, 0, false
	for i, c := range contests {
		seen := map[uuid.UUID]bool{}
		for _, n := range c.Candidates {
			if id, ok := byName[nameKey(n)]; ok {
				seen[id] = true
			} else if id, ok := names[nameKey(n)]; ok {
				seen[id] = true
			}
		}
		switch {
		case len(seen) > bestScore:
			best, bestScore, tie = i, len(seen), false
		case len(seen) == bestScore && bestScore > 0:
			tie = true
		}
	}
	if best < 0 || tie {
		return 0, &ImportError{Message: fmt.Sprintf("The file holds several ranked contests: %s. Write the one to import under “Contest in the file”.", list())}
	}
	return best, nil
}

// RecordMapper makes an election's imported ballots of an export's cast
// vote records, one at a time (see the rules at the top of this file).
type RecordMapper struct {
	e       *Election
	byName  map[string]uuid.UUID
	limit   int
	ballots []ImportedBallot
	summary ImportSummary
	unknown map[string]*unknownName
	order   []string
	err     error
	// seen caches each name as the file writes it: nameKey is costly, and
	// a file writes the same few names again and again.
	seen map[string]uuid.UUID
	ids  []uuid.UUID // a rank's marks, reused
}

type unknownName struct {
	name  string
	count int
	first string
}

// NewRecordMapper maps records to an election's candidates by their names
// and the organizer's map of names (ParseNameMap).
func NewRecordMapper(e *Election, names map[string]uuid.UUID) *RecordMapper {
	byName := candidateKeys(e)
	for k, id := range names {
		byName[k] = id
	}
	limit := e.MaxRanks
	if limit <= 0 || limit > len(e.Candidates) {
		limit = len(e.Candidates)
	}
	return &RecordMapper{e: e, byName: byName, limit: limit, unknown: map[string]*unknownName{}, seen: map[string]uuid.UUID{}}
}

// Add maps the next record of the file.
func (m *RecordMapper) Add(rec CastRecord) {
	m.summary.Records++
	row := m.summary.Records
	var ranking []uuid.UUID
	var over, repeat, past, passed bool
	for _, rk := range rec.Ranks {
		if rk.Rank > m.limit {
			past = past || rk.Overvote || len(rk.Names) > 0
			continue
		}
		ids := m.ids[:0]
		for _, n := range rk.Names {
			if strings.TrimSpace(n) == "" {
				continue
			}
			id, ok := m.seen[n]
			if !ok {
				id, ok = m.byName[nameKey(n)]
				if ok && len(m.seen) < 10_000 {
					m.seen[n] = id
				}
			}
			if !ok {
				m.noteUnknown(n, rec.Where)
				continue
			}
			if id == PassOver {
				passed = true
				continue
			}
			if !containsID(ids, id) {
				ids = append(ids, id)
			}
		}
		switch {
		case rk.Overvote || len(ids) > 1:
			over = true
		case len(ids) == 0:
		case containsID(ranking, ids[0]):
			repeat = true
		default:
			ranking = append(ranking, ids[0])
		}
		m.ids = ids
	}
	if over {
		m.summary.Overvotes++
	}
	if repeat {
		m.summary.Repeats++
	}
	if past {
		m.summary.PastLimit++
	}
	if passed {
		m.summary.Passed++
	}
	if len(ranking) == 0 {
		m.summary.Blank++
		return
	}
	if err := ValidateRanking(m.e, ranking); err != nil && m.err == nil {
		m.err = &ImportError{Where: rec.Where, Message: Reason(err)}
	}
	m.ballots = append(m.ballots, ImportedBallot{Row: row, Ranking: ranking})
}

func containsID(ids []uuid.UUID, id uuid.UUID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (m *RecordMapper) noteUnknown(name, where string) {
	k := nameKey(name)
	u := m.unknown[k]
	if u == nil {
		u = &unknownName{name: strings.TrimSpace(name), first: where}
		m.unknown[k] = u
		m.order = append(m.order, k)
	}
	u.count++
}

// Result is the file's ballots and summary, or the error that stops the
// whole import: names no candidate matches (all of them, with how to map
// them), a file with no ballot to import.
func (m *RecordMapper) Result() ([]ImportedBallot, ImportSummary, error) {
	s := m.summary
	s.Imported = len(m.ballots)
	if len(m.order) > 0 {
		var parts []string
		for i, k := range m.order {
			if i == 10 {
				parts = append(parts, fmt.Sprintf("and %d more", len(m.order)-10))
				break
			}
			u := m.unknown[k]
			parts = append(parts, fmt.Sprintf("%q (%s, first at %s)", u.name, plural(u.count, "time"), u.first))
		}
		example := m.unknown[m.order[0]].name
		return nil, s, &ImportError{Message: fmt.Sprintf("The file names %s that this election does not have: %s. If %s one of the candidates under another name, map %s under “Names in the file”, one a line, like “%s = %s”; to pass a name's marks over as skipped ranks (a write-in, say), map it to -, like “%s = -”. This election's candidates: %s.",
			pluralWord(len(m.order), "a candidate", "candidates"), strings.Join(parts, "; "), pluralWord(len(m.order), "it is", "they are"), pluralWord(len(m.order), "it", "each"),
			example, m.e.Candidates[0].Name, example, strings.Join(m.e.CandidateNames(), ", "))}
	}
	if m.err != nil {
		return nil, s, m.err
	}
	if len(m.ballots) == 0 {
		return nil, s, &ImportError{Message: fmt.Sprintf("The file's %s rank no candidate who can be counted, so there is nothing to import.", plural(s.Records, "ballot"))}
	}
	return m.ballots, s, nil
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
