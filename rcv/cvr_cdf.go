package rcv

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// readCDF reads a NIST SP 1500-103 cast vote record report, JSON or XML by
// the file's extension, as RCTab's CommonDataFormatReader: the contest
// whose Name is the configured contestId, each CVR's current snapshot,
// selections resolved to candidate names (write-in selections to
// undeclared write-ins), a rank per selection or per selection position.
func readCDF(b *cvrBuilder, src *CVRSource) error {
	var report cdfReport
	if strings.EqualFold(path.Ext(src.name), ".xml") {
		if err := readCDFXML(src.fsys, src.name, &report); err != nil {
			return err
		}
	} else if err := readJSONFile(src.fsys, src.name, &report); err != nil {
		return err
	}
	return report.read(b, src, src.baseName())
}

// cdfReport holds what RCTab reads of a report, in the JSON form's names;
// the XML form is mapped onto it.
type cdfReport struct {
	Election []struct {
		Candidate []struct {
			ID   string `json:"@id"`
			Name string
		}
		Contest []struct {
			ID               string `json:"@id"`
			Name             string
			ContestSelection []struct {
				ID           string   `json:"@id"`
				CandidateIDs []string `json:"CandidateIds"`
				IsWriteIn    any
			}
		}
	}
	CVR []struct {
		UniqueID          string `json:"UniqueId"`
		CurrentSnapshotID string `json:"CurrentSnapshotId"`
		CVRSnapshot       []struct {
			ID         string `json:"@id"`
			CVRContest []struct {
				ContestID           string `json:"ContestId"`
				CVRContestSelection []struct {
					ContestSelectionID string `json:"ContestSelectionId"`
					Rank               *json.Number
					Status             any
					SelectionPosition  []struct {
						HasIndication string
						IsAllocable   string
						Rank          *json.Number
						CVRWriteIn    any
					}
				}
			}
		}
	}
	xml bool
}

func (r *cdfReport) read(b *cvrBuilder, src *CVRSource, file string) error {
	candidateName := map[string]string{}
	for _, e := range r.Election {
		for _, c := range e.Candidate {
			if _, dup := candidateName[c.ID]; dup {
				return fmt.Errorf("candidate %q appears more than once", c.ID)
			}
			candidateName[c.ID] = c.Name
		}
	}
	type selection struct {
		name    string
		writeIn bool
	}
	var contestID string
	selections := map[string]selection{}
	found := false
	for _, e := range r.Election {
		for _, c := range e.Contest {
			if c.Name != src.ContestID || found {
				continue
			}
			found, contestID = true, c.ID
			for _, s := range c.ContestSelection {
				if _, dup := selections[s.ID]; dup {
					return fmt.Errorf("contest selection %q appears more than once", s.ID)
				}
				if isTrue(s.IsWriteIn) {
					selections[s.ID] = selection{writeIn: true}
					continue
				}
				if len(s.CandidateIDs) == 0 {
					return fmt.Errorf("contest selection %q has no CandidateIds", s.ID)
				}
				id := s.CandidateIDs[0]
				if f := strings.Fields(id); len(f) > 0 {
					id = f[0] // XML IDREFS: the first one, as RCTab
				}
				name, ok := candidateName[id]
				if !ok {
					return fmt.Errorf("candidate %q of contest selection %q is not in the candidate list", id, s.ID)
				}
				selections[s.ID] = selection{name: javaTrim(name)}
			}
		}
	}
	if !found {
		return fmt.Errorf("contest %q (contestId) not found among the report's contests", src.ContestID)
	}
	records := 0
	for ci, cvr := range r.CVR {
		where := func() string {
			if cvr.UniqueID != "" {
				return fmt.Sprintf("%s CVR %d (UniqueId %s)", file, ci+1, cvr.UniqueID)
			}
			return fmt.Sprintf("%s CVR %d", file, ci+1)
		}
		snap := -1
		for si, s := range cvr.CVRSnapshot {
			if s.ID == cvr.CurrentSnapshotID {
				snap = si
				break
			}
		}
		if snap < 0 {
			if r.xml {
				continue
			}
			return fmt.Errorf("%s: no snapshot with the CurrentSnapshotId %q", where(), cvr.CurrentSnapshotID)
		}
		var contest = -1
		for k, c := range cvr.CVRSnapshot[snap].CVRContest {
			if c.ContestID == contestID {
				contest = k
				break
			}
		}
		if contest < 0 {
			// RCTab skips such a CVR in XML and fails on it in JSON.
			if r.xml {
				continue
			}
			return fmt.Errorf("%s: the current snapshot has no CVRContest for contest %s", where(), contestID)
		}
		for _, cs := range cvr.CVRSnapshot[snap].CVRContest[contest].CVRContestSelection {
			if r.xml && fmt.Sprint(cs.Status) == "needs-adjudication" {
				continue
			}
			sel, ok := selections[cs.ContestSelectionID]
			if !ok {
				return fmt.Errorf("%s: contest selection %q not in contest %q", where(), cs.ContestSelectionID, src.ContestID)
			}
			add := func(rank *json.Number, writeIn bool) error {
				if rank == nil {
					return fmt.Errorf("%s: selection %q has no Rank", where(), cs.ContestSelectionID)
				}
				n, err := strconv.Atoi(strings.TrimSpace(rank.String()))
				if err != nil {
					return fmt.Errorf("%s: selection %q: rank %q is not an integer", where(), cs.ContestSelectionID, rank.String())
				}
				switch {
				case writeIn:
					b.addWriteIn(n, where)
				case sel.name == src.OvervoteLabel && sel.name != "":
					b.add(n, ovMark)
				default:
					b.addName(n, sel.name, where)
				}
				return nil
			}
			if cs.Rank != nil {
				if err := add(cs.Rank, sel.writeIn); err != nil {
					return err
				}
				continue
			}
			writeIn := sel.writeIn
			for _, p := range cs.SelectionPosition {
				if p.CVRWriteIn != nil {
					writeIn = true
				}
				if p.HasIndication == "no" || p.IsAllocable == "no" {
					continue
				}
				if err := add(p.Rank, writeIn); err != nil {
					return err
				}
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

func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

// readCDFXML reads the XML form into the JSON form's structure.
func readCDFXML(fsys fs.FS, name string, r *cdfReport) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	var doc struct {
		Election []struct {
			Candidate []struct {
				ID   string `xml:"ObjectId,attr"`
				Name string
			}
			Contest []struct {
				ID               string `xml:"ObjectId,attr"`
				Name             string
				ContestSelection []struct {
					ID           string   `xml:"ObjectId,attr"`
					CandidateIDs []string `xml:"CandidateIds"`
					IsWriteIn    string
				}
			}
		}
		CVR []struct {
			UniqueID          string `xml:"UniqueId"`
			CurrentSnapshotID string `xml:"CurrentSnapshotId"`
			CVRSnapshot       []struct {
				ID         string `xml:"ObjectId,attr" json:"@id"`
				CVRContest []struct {
					ContestID           string `xml:"ContestId"`
					CVRContestSelection []struct {
						ContestSelectionID string `xml:"ContestSelectionId"`
						Rank               *string
						Status             *string
						SelectionPosition  []struct {
							HasIndication string
							IsAllocable   string
							Rank          *string
							CVRWriteIn    *struct{}
						}
					}
				}
			}
		}
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path.Base(name), err)
	}
	// Map onto the JSON form's structure: the header part field by field,
	// the CVRs (the bulk, same shape) through JSON.
	r.xml = true
	r.Election = make([]struct {
		Candidate []struct {
			ID   string `json:"@id"`
			Name string
		}
		Contest []struct {
			ID               string `json:"@id"`
			Name             string
			ContestSelection []struct {
				ID           string   `json:"@id"`
				CandidateIDs []string `json:"CandidateIds"`
				IsWriteIn    any
			}
		}
	}, len(doc.Election))
	for i, e := range doc.Election {
		out := &r.Election[i]
		for _, c := range e.Candidate {
			out.Candidate = append(out.Candidate, struct {
				ID   string `json:"@id"`
				Name string
			}{c.ID, c.Name})
		}
		out.Contest = make([]struct {
			ID               string `json:"@id"`
			Name             string
			ContestSelection []struct {
				ID           string   `json:"@id"`
				CandidateIDs []string `json:"CandidateIds"`
				IsWriteIn    any
			}
		}, len(e.Contest))
		for k, c := range e.Contest {
			oc := &out.Contest[k]
			oc.ID, oc.Name = c.ID, c.Name
			for _, s := range c.ContestSelection {
				oc.ContestSelection = append(oc.ContestSelection, struct {
					ID           string   `json:"@id"`
					CandidateIDs []string `json:"CandidateIds"`
					IsWriteIn    any
				}{s.ID, s.CandidateIDs, s.IsWriteIn})
			}
		}
	}
	data = nil
	js, err := json.Marshal(doc.CVR)
	if err != nil {
		return err
	}
	return json.Unmarshal(js, &r.CVR)
}
