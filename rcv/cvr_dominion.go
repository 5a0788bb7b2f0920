package rcv

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
)

// readDominion reads a Dominion CVR export folder as RCTab's
// DominionCvrReader: the manifests beside CvrExport.json (or
// CvrExport_N.json files), sessions whose current (or modified) card holds
// the contest, unambiguous marks, candidate codes resolved through the
// config's aliases. A contest outstacked by condition 7 is not counted.
func readDominion(b *cvrBuilder, src *CVRSource) error {
	fsys, dir := src.fsys, src.name
	var contests struct {
		List []struct {
			ID         json.Number `json:"Id"`
			NumOfRanks int         `json:"NumOfRanks"`
		}
	}
	if err := readJSONFile(fsys, path.Join(dir, "ContestManifest.json"), &contests); err != nil {
		return err
	}
	maxRanks := -1
	for _, c := range contests.List {
		if c.ID.String() == src.ContestID {
			maxRanks = c.NumOfRanks
		}
	}
	if maxRanks < 0 {
		return fmt.Errorf("ContestManifest.json: contest %q (contestId) not listed", src.ContestID)
	}
	var candidates struct {
		List []struct {
			ID        json.Number `json:"Id"`
			ContestID json.Number `json:"ContestId"`
		}
	}
	if err := readJSONFile(fsys, path.Join(dir, "CandidateManifest.json"), &candidates); err != nil {
		return err
	}
	inContest := map[string]bool{}
	for _, c := range candidates.List {
		if c.ContestID.String() == src.ContestID {
			inContest[c.ID.String()] = true
		}
	}

	files := []string{path.Join(dir, "CvrExport.json")}
	if _, err := fs.Stat(fsys, files[0]); err != nil {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return err
		}
		files = files[:0]
		pattern := regexp.MustCompile(`^CvrExport_\d+\.json$`)
		for _, e := range entries {
			if pattern.MatchString(e.Name()) {
				files = append(files, path.Join(dir, e.Name()))
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			return fmt.Errorf("no CvrExport.json or CvrExport_N.json in %s", src.FilePath)
		}
	}
	type mark struct {
		CandidateID json.Number `json:"CandidateId"`
		Rank        int
		IsAmbiguous bool
	}
	type contest struct {
		ID                   json.Number `json:"Id"`
		OutstackConditionIDs []int       `json:"OutstackConditionIds"`
		Marks                []mark
	}
	type card struct {
		Contests []contest
	}
	type ballot struct {
		IsCurrent *bool
		Cards     []card
		Contests  []contest // a session without cards holds its contests itself
	}
	var export struct {
		Sessions []struct {
			TabulatorID json.Number `json:"TabulatorId"`
			BatchID     json.Number `json:"BatchId"`
			RecordID    json.Number `json:"RecordId"`
			Original    *ballot
			Modified    *ballot
		}
	}
	records := 0
	for _, f := range files {
		if err := readJSONFile(fsys, f, &export); err != nil {
			return err
		}
		name := path.Base(f)
		for si, s := range export.Sessions {
			where := func() string {
				return fmt.Sprintf("%s session %d (tabulator %s, batch %s, record %s)", name, si+1, s.TabulatorID, s.BatchID, s.RecordID)
			}
			bal := s.Original
			if bal == nil {
				return fmt.Errorf("%s: no Original", where())
			}
			if bal.IsCurrent != nil && !*bal.IsCurrent {
				if s.Modified == nil {
					continue // no adjudicated rankings: RCTab skips it too
				}
				bal = s.Modified
			}
			cards := bal.Cards
			if cards == nil {
				cards = []card{{Contests: bal.Contests}}
			}
			for _, c := range cards {
				for _, ct := range c.Contests {
					if ct.ID.String() != src.ContestID {
						continue
					}
					if slices.Contains(ct.OutstackConditionIDs, 7) {
						continue
					}
					for _, m := range ct.Marks {
						if m.IsAmbiguous {
							continue
						}
						code := m.CandidateID.String()
						if code == src.UndeclaredWriteInLabel && code != "" {
							b.addWriteIn(m.Rank, where)
							continue
						}
						if !inContest[code] {
							return fmt.Errorf("%s: candidate ID %s is not a candidate of contest %s in CandidateManifest.json", where(), code, src.ContestID)
						}
						b.addName(m.Rank, code, where)
					}
					if err := b.checkRanks(maxRanks, where); err != nil {
						return err
					}
					if err := b.endRecord(b.maxRankAllowed(), where); err != nil {
						return err
					}
					records++
				}
			}
		}
		export.Sessions = nil
	}
	if records == 0 {
		return errNoRecords
	}
	return nil
}

// checkRanks fails when a mark of the record in hand lies outside 1..max.
func (b *cvrBuilder) checkRanks(max int, where func() string) error {
	for _, rm := range b.ranks {
		if rm.rank < 1 || int(rm.rank) > max {
			return fmt.Errorf("%s: rank %d, but the contest has %d ranks", where(), rm.rank, max)
		}
	}
	return nil
}

func readJSONFile(fsys fs.FS, name string, v any) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path.Base(name), jsonErrorAt(err))
	}
	return nil
}

// jsonErrorAt adds a byte offset to a JSON syntax or type error.
func jsonErrorAt(err error) error {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Errorf("at byte %s: %w", strconv.FormatInt(e.Offset, 10), err)
	case *json.UnmarshalTypeError:
		return fmt.Errorf("field %s at byte %d: want %s, got %s", e.Field, e.Offset, e.Type, e.Value)
	}
	return err
}
