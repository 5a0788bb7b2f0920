package rcv

// Listing the contests an export holds, one function per vendor: what
// OpenExport does once it knows the format (export.go).

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// index lists the export's ranked contests.
func (x *Export) index() error {
	var err error
	switch x.src.Provider {
	case ProviderESS:
		err = x.indexESS()
	case ProviderDominion:
		err = x.indexDominion()
	case ProviderHart:
		err = x.indexHart()
	case ProviderCDF:
		err = x.indexCDF()
	case ProviderClearBallot:
		err = x.indexClearBallot()
	}
	if err != nil {
		return fmt.Errorf("%s (%s): %w", x.src.Path, x.Format, err)
	}
	if len(x.Contests) == 0 {
		return fmt.Errorf("%s (%s): no ranked contest found", x.src.Path, x.Format)
	}
	return nil
}

// Rank columns of a workbook's header: "Choice 1", "For Mayor Choice 1
// (45)", "1st Choice", "1st", "Rank 1"; what comes before names the
// contest.
var essRankHeaders = []*regexp.Regexp{
	regexp.MustCompile(`(?i)^(.*?)\bchoice\s*(\d+)\s*(\(.*\))?$`),
	regexp.MustCompile(`(?i)^(.*?)\b(\d+)(?:st|nd|rd|th)(?:\s+choice)?\s*(\(.*\))?$`),
	regexp.MustCompile(`(?i)^(.*?)\brank\s*(\d+)\s*(\(.*\))?$`),
}

func essRankHeader(h string) (contest string, rank int, ok bool) {
	h = strings.TrimSpace(h)
	for _, re := range essRankHeaders {
		if m := re.FindStringSubmatch(h); m != nil {
			n, err := strconv.Atoi(m[2])
			if err != nil {
				return "", 0, false
			}
			return strings.Trim(m[1], " -–:,"), n, true
		}
	}
	return "", 0, false
}

var errStop = errors.New("stop")

func (x *Export) indexESS() error {
	wb, err := openXLSXFS(x.src.fsys, x.src.name)
	if err != nil {
		return err
	}
	defer wb.Close()
	header := map[int]string{}
	x.essHead = -1
	err = wb.Rows(func(row int, cells []xlsxCell) error {
		x.essHead = row
		for _, c := range cells {
			text := string(c.Text)
			if c.Shared >= 0 {
				if c.Shared >= len(wb.Shared) {
					return fmt.Errorf("row %d: shared string %d does not exist", row+1, c.Shared)
				}
				text = wb.Shared[c.Shared]
			}
			header[c.Col] = text
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if x.essHead < 0 {
		return errors.New("the first sheet is empty")
	}
	cols := slices.Sorted(func(yield func(int) bool) {
		for c := range header {
			if !yield(c) {
				return
			}
		}
	})
	x.essCols = map[string][2]int{}
	var cur string
	var open bool
	prevCol, prevRank := -2, 0
	for _, c := range cols {
		contest, rank, ok := essRankHeader(header[c])
		switch {
		case ok && open && contest == cur && c == prevCol+1 && rank == prevRank+1:
			g := x.essCols[cur]
			x.essCols[cur] = [2]int{g[0], g[1] + 1}
		case ok && rank == 1:
			if _, dup := x.essCols[contest]; dup {
				return fmt.Errorf("row %d: the rank columns of %q appear twice", x.essHead+1, contest)
			}
			cur, open = contest, true
			x.essCols[contest] = [2]int{c, 1}
			x.Contests = append(x.Contests, ExportContest{ID: contest, Name: contest})
		default:
			open = false
		}
		prevCol, prevRank = c, rank
	}
	if len(x.Contests) == 0 {
		return fmt.Errorf("row %d, the header, has no rank columns (headed like \"Choice 1\", \"1st Choice\" or \"Rank 1\", numbered from 1)", x.essHead+1)
	}
	return nil
}

func (x *Export) indexDominion() error {
	var contests struct {
		List []struct {
			ID          json.Number `json:"Id"`
			Description string
			NumOfRanks  int
		}
	}
	if err := readJSONFile(x.src.fsys, path.Join(x.src.name, "ContestManifest.json"), &contests); err != nil {
		return err
	}
	var candidates struct {
		List []struct {
			ID          json.Number `json:"Id"`
			ContestID   json.Number `json:"ContestId"`
			Description string
		}
	}
	if err := readJSONFile(x.src.fsys, path.Join(x.src.name, "CandidateManifest.json"), &candidates); err != nil {
		return err
	}
	x.display = map[string]map[string]string{}
	for _, c := range contests.List {
		if c.NumOfRanks < 1 {
			continue // not a ranked contest
		}
		ec := ExportContest{ID: c.ID.String(), Name: strings.TrimSpace(c.Description)}
		names := map[string]string{}
		for _, k := range candidates.List {
			if k.ContestID.String() == ec.ID {
				n := strings.TrimSpace(k.Description)
				names[k.ID.String()] = n
				ec.Candidates = append(ec.Candidates, n)
			}
		}
		x.display[ec.ID] = names
		x.Contests = append(x.Contests, ec)
	}
	return nil
}

func (x *Export) indexHart() error {
	entries, err := fs.ReadDir(x.src.fsys, x.src.name)
	if err != nil {
		return err
	}
	var doc struct {
		Contests []struct {
			Name    string
			ID      string `xml:"Id"`
			Options []struct {
				Name string
				ID   string `xml:"Id"`
			} `xml:"Options>Option"`
		} `xml:"Contests>Contest"`
	}
	x.display = map[string]map[string]string{}
	seen := map[string]int{}
	for _, e := range entries {
		lower := strings.ToLower(e.Name())
		if e.IsDir() || !strings.HasSuffix(lower, "xml") || strings.HasSuffix(lower, ".sig.xml") || strings.HasPrefix(e.Name(), "._") {
			continue
		}
		data, err := fs.ReadFile(x.src.fsys, path.Join(x.src.name, e.Name()))
		if err != nil {
			return err
		}
		doc.Contests = nil
		if err := xml.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		for _, c := range doc.Contests {
			id := strings.TrimSpace(c.ID)
			i, ok := seen[id]
			if !ok {
				i = len(x.Contests)
				seen[id] = i
				x.Contests = append(x.Contests, ExportContest{ID: id, Name: strings.TrimSpace(c.Name)})
				x.display[id] = map[string]string{}
			}
			for _, o := range c.Options {
				code, name := strings.TrimSpace(o.ID), strings.TrimSpace(o.Name)
				if name == "" {
					name = code
				}
				if _, ok := x.display[id][code]; !ok {
					x.display[id][code] = name
					x.Contests[i].Candidates = append(x.Contests[i].Candidates, name)
				}
			}
		}
	}
	return nil
}

func (x *Export) indexCDF() error {
	var report cdfReport
	var err error
	if x.Format == FormatCDFXML {
		err = readCDFXML(x.src.fsys, x.src.name, &report)
	} else {
		err = readJSONFile(x.src.fsys, x.src.name, &report)
	}
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, e := range report.Election {
		for _, c := range e.Candidate {
			names[c.ID] = strings.TrimSpace(c.Name)
		}
	}
	for _, e := range report.Election {
		for _, c := range e.Contest {
			ec := ExportContest{ID: c.Name, Name: c.Name}
			for _, s := range c.ContestSelection {
				if isTrue(s.IsWriteIn) {
					ec.Candidates = append(ec.Candidates, WriteInName)
				} else if len(s.CandidateIDs) > 0 {
					if f := strings.Fields(s.CandidateIDs[0]); len(f) > 0 {
						ec.Candidates = append(ec.Candidates, names[f[0]])
					}
				}
			}
			x.Contests = append(x.Contests, ec)
		}
	}
	return nil
}

func (x *Export) indexClearBallot() error {
	r, err := openCSV(&x.src)
	if err != nil {
		return err
	}
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("line 1: %w", err)
	}
	seen := map[string]int{}
	for _, h := range header[min(10, len(header)):] {
		f := strings.Split(h, ":")
		if len(f) != 6 {
			continue // the reader names the column
		}
		i, ok := seen[f[1]]
		if !ok {
			i = len(x.Contests)
			seen[f[1]] = i
			x.Contests = append(x.Contests, ExportContest{ID: f[1], Name: f[1]})
		}
		name := javaTrim(f[4])
		if !slices.Contains(x.Contests[i].Candidates, name) {
			x.Contests[i].Candidates = append(x.Contests[i].Candidates, name)
		}
	}
	return nil
}
