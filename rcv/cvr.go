package rcv

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ReadCVRs reads every CVR source of the config, in order, into one
// contest counted under cfg.Rules. Names on the ballots are resolved
// through the candidates' names and aliases; a name that resolves to no
// candidate fails the whole read, naming the file and where it was first
// seen, as RCTab refuses unrecognized candidates.
func (cfg *ContestConfig) ReadCVRs() (*Contest, error) {
	b := newCVRBuilder(cfg)
	for i := range cfg.Sources {
		src := &cfg.Sources[i]
		b.source = src
		src.files()
		var err error
		switch src.Provider {
		case ProviderESS:
			err = readESS(b, src)
		case ProviderDominion:
			err = readDominion(b, src)
		case ProviderCDF:
			err = readCDF(b, src)
		case ProviderHart:
			err = readHart(b, src)
		case ProviderClearBallot:
			err = readClearBallot(b, src)
		case ProviderGenericCSV:
			err = readGenericCSV(b, src)
		default:
			err = fmt.Errorf("unknown provider %q", src.Provider)
		}
		if err == nil {
			err = b.unknownError()
		}
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", src.FilePath, src.Provider, err)
		}
	}
	b.set.index, b.set.overflow = nil, nil
	return &Contest{Candidates: slices.Clone(cfg.Rules.Candidates), set: b.set, hasWriteIn: cfg.Rules.UndeclaredWriteIn.Enabled}, nil
}

// Marks a reader may give besides candidate indices.
const (
	markUnknown = -3 // a name no candidate or alias matches
)

// cvrBuilder collects cast vote records, one at a time, into a ballotSet.
type cvrBuilder struct {
	cfg       *ContestConfig
	source    *CVRSource
	writeIn   int32 // the undeclared write-in's mark (number of declared candidates)
	writeInOK bool
	set       *ballotSet

	ranks []rankMark // the record being read
	toks  []int32
	// unknown counts names no candidate or alias matches, by name, with the
	// place each was first seen.
	unknown      map[string]*unknownName
	unknownOrder []string

	// open, when set, reads for an import (export.go): names are not
	// resolved against the config but kept as the file has them, and each
	// record goes to open.emit instead of the ballot set.
	open *openReading
}

type rankMark struct {
	rank int32
	mark int32
}

type unknownName struct {
	count int
	first string
}

func newCVRBuilder(cfg *ContestConfig) *cvrBuilder {
	return &cvrBuilder{
		cfg:       cfg,
		writeIn:   int32(len(cfg.Rules.Candidates)),
		writeInOK: cfg.Rules.UndeclaredWriteIn.Enabled,
		set:       newBallotSetSized(1024),
	}
}

// resolve maps a candidate name or alias (already trimmed) to its mark, or
// markUnknown.
func (b *cvrBuilder) resolve(name string) int32 {
	if b.open != nil {
		return b.open.mark(name)
	}
	if i, ok := b.cfg.names[name]; ok {
		return i
	}
	if name == UndeclaredWriteInLabel && b.writeInOK {
		return b.writeIn
	}
	return markUnknown
}

// addName adds a mark for a name at a rank; where says, lazily, where the
// record is (for an error about an unknown name).
func (b *cvrBuilder) addName(rank int, name string, where func() string) {
	m := b.resolve(name)
	if m == markUnknown {
		b.noteUnknown(name, where)
		return
	}
	b.add(rank, m)
}

// addWriteIn adds an undeclared write-in at a rank.
func (b *cvrBuilder) addWriteIn(rank int, where func() string) {
	if b.open != nil {
		b.add(rank, b.open.mark(WriteInName))
		return
	}
	if !b.writeInOK {
		b.noteUnknown(UndeclaredWriteInLabel, where)
		return
	}
	b.add(rank, b.writeIn)
}

func (b *cvrBuilder) noteUnknown(name string, where func() string) {
	if b.unknown == nil {
		b.unknown = make(map[string]*unknownName)
	}
	u := b.unknown[name]
	if u == nil {
		u = &unknownName{first: where()}
		b.unknown[name] = u
		b.unknownOrder = append(b.unknownOrder, name)
	}
	u.count++
}

func (b *cvrBuilder) add(rank int, mark int32) {
	b.ranks = append(b.ranks, rankMark{int32(rank), mark})
}

// unknownError reports the names read so far that no candidate matches.
func (b *cvrBuilder) unknownError() error {
	if len(b.unknownOrder) == 0 {
		return nil
	}
	var parts []string
	for _, n := range b.unknownOrder {
		u := b.unknown[n]
		what := fmt.Sprintf("unrecognized candidate %q appears %d time(s), first at %s", n, u.count, u.first)
		if n == UndeclaredWriteInLabel {
			what += " (no CVR source sets undeclaredWriteInLabel or treatBlankAsUndeclaredWriteIn)"
		}
		parts = append(parts, what)
	}
	return fmt.Errorf("%s; the config's candidates and aliases: %s", strings.Join(parts, "; "), b.knownNames())
}

func (b *cvrBuilder) knownNames() string {
	names := make([]string, 0, len(b.cfg.names))
	for n := range b.cfg.names {
		names = append(names, fmt.Sprintf("%q", n))
	}
	sort.Strings(names)
	if len(names) > 20 {
		names = append(names[:20], "…")
	}
	return strings.Join(names, ", ")
}

// endRecord stores the record read since the last one as one ballot.
// maxRank, when positive, is the highest rank the source allows: a mark
// beyond it fails, as RCTab's runAdditionalValidations.
func (b *cvrBuilder) endRecord(maxRank int, where func() string) error {
	defer func() { b.ranks = b.ranks[:0] }()
	if len(b.ranks) == 0 {
		if b.open != nil {
			return b.open.emit(CastRecord{Where: where()})
		}
		b.set.add(nil, 1)
		return nil
	}
	slices.SortStableFunc(b.ranks, func(x, y rankMark) int { return cmp.Compare(x.rank, y.rank) })
	if r := b.ranks[0].rank; r < 1 {
		return fmt.Errorf("%s: rank %d: ranks start at 1", where(), r)
	}
	if r := b.ranks[len(b.ranks)-1].rank; maxRank > 0 && int(r) > maxRank {
		return fmt.Errorf("%s: rank %d, but the contest allows %d rankings", where(), r, maxRank)
	}
	if b.open != nil {
		return b.open.record(b.ranks, where())
	}
	toks := b.toks[:0]
	for i := 0; i < len(b.ranks); {
		j := i
		for j < len(b.ranks) && b.ranks[j].rank == b.ranks[i].rank {
			j++
		}
		toks = append(toks, b.ranks[i].rank, int32(j-i))
		start := len(toks)
		for _, rm := range b.ranks[i:j] {
			toks = append(toks, rm.mark)
		}
		slices.Sort(toks[start:])
		i = j
	}
	b.toks = toks
	b.set.add(toks, 1)
	return nil
}

// maxRankAllowed is the configured maxRankingsAllowed, or a value below 1
// for "max" (no limit).
func (b *cvrBuilder) maxRankAllowed() int { return b.cfg.Rules.MaxRankingsAllowed }

var errNoRecords = errors.New("no cast vote records found for the contest")
