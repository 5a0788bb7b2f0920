package rcv

// Reading a vendor's export for an import into an election, where no
// RCTab config says how: the organizer uploads one file (an ES&S workbook,
// a CDF JSON or XML report, a Clear Ballot CSV, or a zip of a Dominion or
// Hart export folder), and OpenExport works out the format from the name
// and the content and lists the contests it holds. Export.Read then reads
// one contest with the same readers as --config, but keeps every name as
// the file has it (Dominion and Hart codes turned into the names their
// manifests give) and hands over each cast vote record with where it is,
// in the file's order. Matching names to an election's candidates, and
// deciding what a record becomes, is the caller's.

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// Limits on what an export may unpack to: a zip's entries, the sum of
// their sizes (the sizes a zip declares are enforced as it is read), and
// a single JSON or XML part, which is decoded whole. A sheet of a workbook
// is streamed, so only the sum bounds it.
const (
	MaxExportEntries  = 200_000
	MaxExportUnpacked = 1 << 30
	MaxExportPart     = 256 << 20
)

// Export formats, as OpenExport names them.
const (
	FormatESS         = "ES&S workbook"
	FormatCDFJSON     = "CDF JSON report"
	FormatCDFXML      = "CDF XML report"
	FormatClearBallot = "Clear Ballot CSV"
	FormatDominion    = "Dominion export"
	FormatHart        = "Hart export"
)

// WriteInName is the name a write-in mark that the file gives no name
// (a CDF write-in selection) is read as.
const WriteInName = "Write-in"

// ErrNotExport is OpenExport's answer for a file in none of the vendors'
// formats (a CSV of another layout, say).
var ErrNotExport = errors.New("not a cast vote record export of a known vendor")

// Export is an uploaded export, opened.
type Export struct {
	Format   string
	Contests []ExportContest
	src      CVRSource
	display  map[string]map[string]string // per contest: code → name (Dominion, Hart)
	essHead  int                          // the header row of a workbook (0-based)
	essCols  map[string][2]int            // per contest: first rank column (0-based), ranks
}

// ExportContest is a ranked contest an export holds: the ID Read takes,
// its name, and its candidates' names as the file gives them (none for a
// workbook, which lists no candidates apart from its cells).
type ExportContest struct {
	ID, Name   string
	Candidates []string
}

// CastRecord is one cast vote record as the file has it: where it is, and
// its marks rank by rank (ranks without a mark left out).
type CastRecord struct {
	Where string
	Ranks []CastRank
}

// CastRank is what one rank of a record marks: names as the file writes
// them (more than one is an overvote), or an overvote the file records
// without the names (ES&S's "overvote").
type CastRank struct {
	Rank     int
	Names    []string
	Overvote bool
}

// OpenExport works out which vendor's export a file is, by its name and
// content, and lists its ranked contests. It returns ErrNotExport for a
// file in none of the formats, and a message for the person uploading for
// one that looks like a format but cannot be read.
func OpenExport(fileName string, data []byte) (x *Export, err error) {
	defer func() {
		// The readers check what they read, but an upload is anybody's
		// bytes: a reader's slip must be an error, never a crash.
		if r := recover(); r != nil {
			x, err = nil, fmt.Errorf("%s: the file could not be read (%v)", fileName, r)
		}
	}()
	ext := strings.ToLower(path.Ext(fileName))
	body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")):
		return openZipExport(fileName, data)
	case ext == ".xls" || bytes.HasPrefix(data, []byte("\xd0\xcf\x11\xe0")):
		return nil, fmt.Errorf("%s is an Excel 97–2003 workbook (.xls); save it as an .xlsx workbook and import that", fileName)
	case ext == ".xlsx" || ext == ".zip":
		return nil, fmt.Errorf("%s: the name ends in %s, but the file is not a zip archive (an .xlsx workbook is one); export it again", fileName, ext)
	case ext == ".csv" || ext == ".txt":
		// A CSV is a Clear Ballot export or not an export: a header that
		// happens to start with { or < is still a CSV header.
		if isClearBallot(body) {
			return openSingle(fileName, data, ProviderClearBallot, FormatClearBallot, ".csv")
		}
		return nil, ErrNotExport
	case bytes.HasPrefix(trimmed, []byte("{")):
		head := trimmed[:min(len(trimmed), 4096)]
		if bytes.Contains(head, []byte(`"Sessions"`)) || bytes.Contains(head, []byte(`"Version"`)) && !bytes.Contains(head, []byte(`"CVR`)) {
			return nil, fmt.Errorf("%s looks like one file of a Dominion export; upload the whole export folder (with ContestManifest.json and CandidateManifest.json) as a .zip", fileName)
		}
		return openSingle(fileName, data, ProviderCDF, FormatCDFJSON, ".json")
	case bytes.HasPrefix(trimmed, []byte("<")):
		head := trimmed[:min(len(trimmed), 4096)]
		if bytes.Contains(head, []byte("<Cvr ")) || bytes.Contains(head, []byte("<Cvr>")) {
			return nil, fmt.Errorf("%s looks like one ballot of a Hart export; upload the export's folder of XML files as a .zip", fileName)
		}
		return openSingle(fileName, data, ProviderCDF, FormatCDFXML, ".xml")
	case isClearBallot(body):
		return openSingle(fileName, data, ProviderClearBallot, FormatClearBallot, ".csv")
	}
	return nil, ErrNotExport
}

// isClearBallot reports a CSV whose 11th header column is a Clear Ballot
// choice column ("Choice_…:contest:rank:rule:candidate:party").
func isClearBallot(data []byte) bool {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(line))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil || len(header) <= 10 {
		return false
	}
	f := strings.Split(header[10], ":")
	return len(f) == 6 && strings.HasPrefix(f[0], "Choice_")
}

// singleName is the name an uploaded file is read under: its own, with
// the extension its content calls for (the CDF reader tells JSON from XML
// by it).
func singleName(fileName, ext string) string {
	name := path.Base(strings.ReplaceAll(fileName, "\\", "/"))
	if !fs.ValidPath(name) || name == "." {
		name = "upload"
	}
	if !strings.EqualFold(path.Ext(name), ext) {
		name += ext
	}
	return name
}

func openSingle(fileName string, data []byte, provider, format, ext string) (*Export, error) {
	name := singleName(fileName, ext)
	x := &Export{Format: format, src: CVRSource{Provider: provider, Path: fileName, fsys: memFS{name, data}, name: name}}
	return x, x.index()
}

func openZipExport(fileName string, data []byte) (*Export, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a zip archive that can be read: %w", fileName, err)
	}
	if err := checkZip(zr); err != nil {
		return nil, fmt.Errorf("%s: %w", fileName, err)
	}
	var manifests, xmls []string
	for _, f := range zr.File {
		n := f.Name
		if strings.HasPrefix(n, "__MACOSX/") || strings.HasPrefix(path.Base(n), "._") || strings.HasSuffix(n, "/") {
			continue
		}
		switch lower := strings.ToLower(n); {
		case strings.EqualFold(n, "xl/workbook.xml"):
			name := singleName(fileName, ".xlsx")
			x := &Export{Format: FormatESS, src: CVRSource{Provider: ProviderESS, Path: fileName, fsys: memFS{name, data}, name: name}}
			return x, x.index()
		case path.Base(n) == "ContestManifest.json":
			manifests = append(manifests, path.Dir(n))
		case strings.HasSuffix(lower, ".xml") && !strings.HasSuffix(lower, ".sig.xml"):
			xmls = append(xmls, path.Dir(n))
		}
	}
	fsys := fs.FS(limitFS{zr})
	switch {
	case len(manifests) > 1:
		return nil, fmt.Errorf("%s holds %d Dominion exports (folders with ContestManifest.json: %s); zip one at a time", fileName, len(manifests), strings.Join(manifests, ", "))
	case len(manifests) == 1:
		x := &Export{Format: FormatDominion, src: CVRSource{Provider: ProviderDominion, Path: fileName, fsys: fsys, name: manifests[0]}}
		return x, x.index()
	case len(xmls) > 0:
		dirs := slices.Compact(slices.Sorted(slices.Values(xmls)))
		if len(dirs) > 1 {
			return nil, fmt.Errorf("%s holds XML files in %d folders (%s); a Hart export is one folder of ballot files: zip that folder", fileName, len(dirs), strings.Join(dirs, ", "))
		}
		x := &Export{Format: FormatHart, src: CVRSource{Provider: ProviderHart, Path: fileName, fsys: fsys, name: dirs[0]}}
		return x, x.index()
	}
	return nil, fmt.Errorf("%s is a zip, but neither an .xlsx workbook, nor a Dominion export (ContestManifest.json, CandidateManifest.json, CvrExport*.json), nor a Hart export (a folder of ballot XML files)", fileName)
}

// checkZip refuses archives that would unpack to more than the limits
// (zip bombs): archive/zip fails a read past an entry's declared size, so
// the declared sizes bound what is read.
func checkZip(zr *zip.Reader) error {
	if len(zr.File) > MaxExportEntries {
		return fmt.Errorf("the archive holds %d files; Runoff reads at most %d", len(zr.File), MaxExportEntries)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > MaxExportUnpacked || f.UncompressedSize64 > MaxExportUnpacked {
			return fmt.Errorf("the archive unpacks to more than %d MB, the most Runoff reads", MaxExportUnpacked>>20)
		}
	}
	return nil
}

// limitFS refuses to open a part of an archive larger than MaxExportPart:
// JSON and XML parts are decoded whole.
type limitFS struct{ fsys fs.FS }

func (l limitFS) Open(name string) (fs.File, error) {
	f, err := l.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && !st.IsDir() && st.Size() > MaxExportPart {
		f.Close()
		return nil, fmt.Errorf("%s unpacks to %d MB; Runoff reads parts of at most %d MB (export in several files)", name, st.Size()>>20, MaxExportPart>>20)
	}
	return f, nil
}

// memFS is a file system of one file held in memory; its file allows
// random access, which a workbook needs.
type memFS struct {
	name string
	data []byte
}

func (m memFS) Open(name string) (fs.File, error) {
	if name != m.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{bytes.NewReader(m.data), m}, nil
}

type memFile struct {
	*bytes.Reader
	m memFS
}

func (f *memFile) Stat() (fs.FileInfo, error) { return memInfo(f.m), nil }
func (f *memFile) Close() error               { return nil }

type memInfo memFS

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return int64(len(i.data)) }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// Read reads every cast vote record of one contest (an ID from Contests),
// in the file's order, and calls fn with each; an error of fn stops the
// read and is returned as it is. A mistake in the file is returned naming
// the file and the row, record or element.
func (x *Export) Read(contestID string, fn func(CastRecord) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: the file could not be read (%v)", x.src.Path, r)
		}
	}()
	if !slices.ContainsFunc(x.Contests, func(c ExportContest) bool { return c.ID == contestID }) {
		return fmt.Errorf("%s: no ranked contest %q", x.src.Path, contestID)
	}
	src := x.src
	src.ContestID = contestID
	rules := DefaultRules()
	rules.MaxRankingsAllowed = Unlimited // the election's limits are the caller's
	// No write-in label: a write-in is a name like any other.
	src.UndeclaredWriteInLabel = "\x00"
	if src.Provider == ProviderESS {
		g := x.essCols[contestID]
		src.FirstVoteColumnIndex, src.FirstVoteRowIndex = g[0]+1, x.essHead+2
		rules.MaxRankingsAllowed = g[1]
		src.OvervoteLabel, src.SkippedRankLabel, src.OvervoteDelimiter = "overvote", "undervote", "|"
	}
	b := newCVRBuilder(&ContestConfig{Rules: rules, names: map[string]int32{}})
	b.source = &src
	b.open = &openReading{display: x.display[contestID], index: map[string]int32{}, fn: fn}
	switch src.Provider {
	case ProviderESS:
		err = readESS(b, &src)
	case ProviderDominion:
		err = readDominion(b, &src)
	case ProviderCDF:
		err = readCDF(b, &src)
	case ProviderHart:
		err = readHart(b, &src)
	case ProviderClearBallot:
		err = readClearBallot(b, &src)
	}
	var fromFn callerError
	switch {
	case errors.As(err, &fromFn):
		return fromFn.err
	case errors.Is(err, errNoRecords):
		return fmt.Errorf("%s: no cast vote records for the contest %q", x.src.Path, contestID)
	case err != nil && (src.Provider == ProviderDominion || src.Provider == ProviderHart):
		return fmt.Errorf("%s: %w", x.src.Path, err) // the readers name the file inside
	}
	return err // the readers name the file
}

// callerError carries an error of Read's fn through the readers.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
func (e callerError) Unwrap() error { return e.err }

// openReading is the state of a read for an import: the names seen (a
// mark is an index into names), codes' display names, and where records go.
type openReading struct {
	display map[string]string
	names   []string
	index   map[string]int32
	fn      func(CastRecord) error
}

func (o *openReading) mark(name string) int32 {
	if d, ok := o.display[name]; ok {
		name = d
	}
	if i, ok := o.index[name]; ok {
		return i
	}
	i := int32(len(o.names))
	o.names = append(o.names, name)
	o.index[name] = i
	return i
}

// record hands over a record whose marks are sorted by rank.
func (o *openReading) record(ranks []rankMark, where string) error {
	rec := CastRecord{Where: where}
	for _, rm := range ranks {
		if n := len(rec.Ranks); n == 0 || rec.Ranks[n-1].Rank != int(rm.rank) {
			rec.Ranks = append(rec.Ranks, CastRank{Rank: int(rm.rank)})
		}
		r := &rec.Ranks[len(rec.Ranks)-1]
		if rm.mark == ovMark {
			r.Overvote = true
		} else {
			r.Names = append(r.Names, o.names[rm.mark])
		}
	}
	return o.emit(rec)
}

// emit hands a record to the caller, whose error stops the read as is.
func (o *openReading) emit(rec CastRecord) error {
	if err := o.fn(rec); err != nil {
		return callerError{err}
	}
	return nil
}
