package runoff_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

func mapElection(names ...string) *runoff.Election {
	e := &runoff.Election{ID: uuid.New()}
	for i, n := range names {
		e.Candidates = append(e.Candidates, runoff.Candidate{ID: uuid.New(), Name: n, Position: i})
	}
	return e
}

func rec(where string, ranks ...string) runoff.CastRecord {
	r := runoff.CastRecord{Where: where}
	for i, s := range ranks {
		switch {
		case s == "":
		case s == "overvote":
			r.Ranks = append(r.Ranks, runoff.CastRank{Rank: i + 1, Overvote: true})
		default:
			r.Ranks = append(r.Ranks, runoff.CastRank{Rank: i + 1, Names: strings.Split(s, "|")})
		}
	}
	return r
}

func rankingNames(e *runoff.Election, ids []uuid.UUID) string {
	var out []string
	for _, id := range ids {
		c, _ := e.CandidateByID(id)
		out = append(out, c.Name)
	}
	return strings.Join(out, ",")
}

// A record becomes the ballot the election's count would make of it:
// skipped ranks close up, an overvoted rank and a repeated candidate are
// passed over, marks past the counted ranks left out, and a record left
// ranking nobody is not imported; the summary counts each.
func TestRecordMapper(t *testing.T) {
	e := mapElection("Ada Lovelace", "Grace Hopper", "Linus Torvalds")
	e.MaxRanks = 2
	names, err := runoff.ParseNameMap(e, "Lovelace, Ada = Ada Lovelace\r\n\n  HOPPER = grace hopper  \n")
	if err != nil {
		t.Fatal(err)
	}
	m := runoff.NewRecordMapper(e, names)
	for _, r := range []runoff.CastRecord{
		rec("row 2", "Lovelace, Ada", "", "Linus Torvalds"),   // skip closes up… but rank 3 is past the 2 counted
		rec("row 3", "ｇｒａｃｅ ｈｏｐｐｅｒ", "Ada Lovelace"),          // full-width letters are the same name
		rec("row 4", "overvote", "Hopper"),                    // an overvote passed over
		rec("row 5", "Ada Lovelace|Linus Torvalds", "Hopper"), // an overvote with its names
		rec("row 6", "Hopper", "Hopper"),                      // a repeat passed over
		rec("row 7"),                                          // blank
		rec("row 8", "overvote"),                              // only an overvote
		rec("row 9", "Hopper|HOPPER"),                         // two marks of one candidate: one mark
	} {
		m.Add(r)
	}
	ballots, s, err := m.Result()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range ballots {
		got = append(got, rankingNames(e, b.Ranking))
	}
	want := "Ada Lovelace|Grace Hopper,Ada Lovelace|Grace Hopper|Grace Hopper|Grace Hopper|Grace Hopper"
	if strings.Join(got, "|") != want {
		t.Errorf("ballots %q, want %q", strings.Join(got, "|"), want)
	}
	if ballots[0].Row != 1 || ballots[len(ballots)-1].Row != 8 {
		t.Errorf("rows %d…%d, want each record's place in the file (1…8)", ballots[0].Row, ballots[len(ballots)-1].Row)
	}
	wantS := runoff.ImportSummary{Records: 8, Imported: 6, Blank: 2, Overvotes: 3, Repeats: 1, PastLimit: 1}
	if s != wantS {
		t.Errorf("summary %+v, want %+v", s, wantS)
	}
	if notes := s.Notes(2); len(notes) != 4 || !strings.Contains(notes[0], "2 ballots ranked no candidate") || !strings.Contains(notes[3], "past the 2 this election counts") {
		t.Errorf("notes %q", notes)
	}
}

// Names no candidate matches stop the import, all of them listed with
// how often and where first, and how to map them.
func TestRecordMapperUnknownNames(t *testing.T) {
	e := mapElection("Ada", "Grace")
	m := runoff.NewRecordMapper(e, nil)
	m.Add(rec("p.xlsx row 2", "Ada", "UWI"))
	m.Add(rec("p.xlsx row 3", "Bob", "UWI"))
	_, _, err := m.Result()
	var ie *runoff.ImportError
	want := `The file names candidates that this election does not have: "UWI" (2 times, first at p.xlsx row 2); "Bob" (1 time, first at p.xlsx row 3). If they are one of the candidates under another name, map each under “Names in the file”, one a line, like “UWI = Ada”; to pass a name's marks over as skipped ranks (a write-in, say), map it to -, like “UWI = -”. This election's candidates: Ada, Grace.`
	if !errors.As(err, &ie) || ie.Message != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	// Mapped to "-", a name's marks are passed over like skipped ranks.
	names, err := runoff.ParseNameMap(e, "UWI = -\nBob=Grace")
	if err != nil {
		t.Fatal(err)
	}
	m = runoff.NewRecordMapper(e, names)
	m.Add(rec("p.xlsx row 2", "Ada", "UWI"))
	m.Add(rec("p.xlsx row 3", "UWI", "Bob"))
	ballots, s, err := m.Result()
	if err != nil || len(ballots) != 2 || rankingNames(e, ballots[1].Ranking) != "Grace" || s.Passed != 2 {
		t.Errorf("UWI passed over: %d ballots, %+v, %v", len(ballots), s, err)
	}
	m = runoff.NewRecordMapper(e, nil)
	m.Add(rec("r1"))
	if _, _, err := m.Result(); err == nil || !strings.Contains(err.Error(), "nothing to import") {
		t.Errorf("a file of blank ballots: %v", err)
	}
}

func TestParseNameMap(t *testing.T) {
	e := mapElection("Ada", "Grace")
	m, err := runoff.ParseNameMap(e, "a=b = Grace\n12 = ada\n")
	if err != nil || len(m) != 2 {
		t.Fatalf("%v %v", m, err)
	}
	for text, want := range map[string]string{
		"Bob":              "line 1: write the name as the file has it",
		"x = Bob":          `"Bob" is not a candidate of this election (its candidates: Ada, Grace)`,
		"x = Ada\nx=Grace": `line 2: "x" is mapped twice`,
		" = Ada":           "line 1",
		"x\u200b = Ada":    "invisible",
	} {
		_, err := runoff.ParseNameMap(e, text)
		var p *runoff.Problem
		if !errors.As(err, &p) || !strings.Contains(p.Message, want) || p.Fields["names"] == "" {
			t.Errorf("%q: %v, want a problem with %q marked on the names field", text, err, want)
		}
	}
}

func TestChooseContest(t *testing.T) {
	e := mapElection("Ada", "Grace")
	contests := []runoff.FileContest{{ID: "1", Name: "Mayor", Candidates: []string{"Ada", "Grace", "Write-in"}}, {ID: "2", Name: "Clerk", Candidates: []string{"Bob", "Ada"}}}
	for _, tc := range []struct {
		asked string
		want  int
		err   string
	}{
		{"", 0, ""},
		{"clerk", 1, ""},
		{"2", 1, ""},
		{"Sheriff", 0, `no ranked contest "Sheriff". Its ranked contests: "Mayor" (ID 1), "Clerk" (ID 2).`},
	} {
		i, err := runoff.ChooseContest(e, nil, tc.asked, contests)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.asked, err, tc.err)
			}
			continue
		}
		if err != nil || i != tc.want {
			t.Errorf("%q: %d %v, want %d", tc.asked, i, err, tc.want)
		}
	}
	// No candidate lists (a workbook of two contests): the organizer says.
	_, err := runoff.ChooseContest(e, nil, "", []runoff.FileContest{{ID: "Mayor", Name: "Mayor"}, {ID: "Council", Name: "Council"}})
	if err == nil || !strings.Contains(err.Error(), "several ranked contests") {
		t.Errorf("two contests without candidates: %v", err)
	}
}
