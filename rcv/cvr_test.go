package rcv

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTestConfig writes dir/c_config.json with candidates A, B and C
// (aliases "1", "2", "3") and one CVR source.
func writeTestConfig(t *testing.T, dir, source string) string {
	t.Helper()
	cfg := `{
  "outputSettings": {"contestName": "Test"},
  "cvrFileSources": [` + source + `],
  "candidates": [
    {"name": "A", "aliases": ["1"]}, {"name": "B", "aliases": ["2"]}, {"name": "C", "aliases": ["3"]}
  ],
  "rules": {"tiebreakMode": "useCandidateOrder", "overvoteRule": "exhaustImmediately",
    "winnerElectionMode": "singleWinnerMajority", "numberOfWinners": "1",
    "decimalPlacesForVoteArithmetic": "4", "maxSkippedRanksAllowed": "1", "maxRankingsAllowed": "3"}
}`
	p := filepath.Join(dir, "c_config.json")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeTestXLSX writes a one-sheet workbook with the given shared strings
// and <sheetData> content.
func writeTestXLSX(t *testing.T, path string, shared []string, sheetData string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	var sst strings.Builder
	for _, s := range shared {
		fmt.Fprintf(&sst, "<si><t>%s</t></si>", s)
	}
	for name, body := range map[string]string{
		"xl/workbook.xml":            `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="CVR" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/sharedStrings.xml":       `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + sst.String() + `</sst>`,
		"xl/worksheets/sheet1.xml":   `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + sheetData + `</sheetData></worksheet>`,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func essSource(extra string) string {
	return `{"provider": "ess", "filePath": "cvr.xlsx", "firstVoteColumnIndex": "2", "firstVoteRowIndex": "2",
	  "skippedRankLabel": "undervote"` + extra + `}`
}

// Each bad input fails with a message naming the file, the place and what
// was expected.
func TestReadCVRsErrors(t *testing.T) {
	header := `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>0</v></c></row>`
	for _, tc := range []struct {
		name   string
		source string
		setup  func(t *testing.T, dir string)
		want   string
	}{
		{
			name:   "not a workbook",
			source: essSource(""),
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "cvr.xlsx"), []byte("rank1\nA\n"), 0o644)
			},
			want: "cvr.xlsx (ess): not an .xlsx workbook (a zip archive): zip: not a valid zip file",
		},
		{
			name:   "unknown name",
			source: essSource(""),
			setup: func(t *testing.T, dir string) {
				writeTestXLSX(t, filepath.Join(dir, "cvr.xlsx"), []string{"h", "A", "Zed"},
					header+`<row r="2"><c r="B2" t="s"><v>1</v></c><c r="C2" t="s"><v>2</v></c></row>`+
						`<row r="3"><c r="B3" t="s"><v>2</v></c></row>`)
			},
			want: `cvr.xlsx (ess): unrecognized candidate "Zed" appears 2 time(s), first at cvr.xlsx row 2 column C; the config's candidates and aliases: "1", "2", "3", "A", "B", "C"`,
		},
		{
			name:   "missing record ID",
			source: essSource(`, "idColumnIndex": "1"`),
			setup: func(t *testing.T, dir string) {
				writeTestXLSX(t, filepath.Join(dir, "cvr.xlsx"), []string{"h", "A"},
					header+`<row r="2"><c r="A2"><v>7</v></c><c r="B2" t="s"><v>1</v></c></row><row r="3"><c r="B3" t="s"><v>1</v></c></row>`)
			},
			want: "cvr.xlsx (ess): cvr.xlsx row 3: cast vote record ID missing from column A (idColumnIndex)",
		},
		{
			name:   "blank part of an overvote",
			source: essSource(`, "overvoteDelimiter": "//"`),
			setup: func(t *testing.T, dir string) {
				writeTestXLSX(t, filepath.Join(dir, "cvr.xlsx"), []string{"h", "A// "},
					header+`<row r="2"><c r="B2" t="s"><v>1</v></c></row>`)
			},
			want: `cvr.xlsx (ess): cvr.xlsx row 2 column B: cell "A//": a cell split by the overvote delimiter "//" may not hold a blank or the skipped-rank label`,
		},
		{
			name:   "CDF contest missing",
			source: `{"provider": "cdf", "filePath": "cvr.json", "contestId": "Mayor"}`,
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "cvr.json"), []byte(`{"Election": [{"Candidate": [], "Contest": [{"@id": "c1", "Name": "Council"}]}], "CVR": []}`), 0o644)
			},
			want: `cvr.json (cdf): contest "Mayor" (contestId) not found among the report's contests`,
		},
		{
			name:   "CDF bad JSON",
			source: `{"provider": "cdf", "filePath": "cvr.json", "contestId": "Mayor"}`,
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "cvr.json"), []byte(`{"Election": [`), 0o644)
			},
			want: "cvr.json (cdf): cvr.json: unexpected EOF",
		},
		{
			name:   "Hart rank past the limit",
			source: `{"provider": "hart", "filePath": "hart", "contestId": "k1"}`,
			setup: func(t *testing.T, dir string) {
				os.Mkdir(filepath.Join(dir, "hart"), 0o755)
				os.WriteFile(filepath.Join(dir, "hart", "b1.xml"), []byte(`<Cvr><Contests><Contest><Id>k1</Id><Options><Option><Id>1</Id><Value>0001</Value></Option></Options></Contest></Contests></Cvr>`), 0o644)
			},
			want: "hart (hart): b1.xml: rank 4, but the contest allows 3 rankings",
		},
		{
			name:   "Clear Ballot header",
			source: `{"provider": "clearBallot", "filePath": "cb.csv", "contestId": "Mayor"}`,
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "cb.csv"), []byte("a,b,c,d,e,f,g,h,i,j,Choice_1_1:Mayor:1\n"), 0o644)
			},
			want: `cb.csv (clearBallot): cb.csv line 1 column 11: choice header "Choice_1_1:Mayor:1": want 6 fields separated by ':' (Choice_…:contest:rank:rule:candidate:party)`,
		},
		{
			name:   "Dominion candidate of another contest",
			source: `{"provider": "dominion", "filePath": "dom", "contestId": "1"}`,
			setup: func(t *testing.T, dir string) {
				d := filepath.Join(dir, "dom")
				os.Mkdir(d, 0o755)
				os.WriteFile(filepath.Join(d, "ContestManifest.json"), []byte(`{"List": [{"Id": 1, "NumOfRanks": 3}]}`), 0o644)
				os.WriteFile(filepath.Join(d, "CandidateManifest.json"), []byte(`{"List": [{"Id": 1, "ContestId": 1}, {"Id": 2, "ContestId": 2}]}`), 0o644)
				os.WriteFile(filepath.Join(d, "CvrExport.json"), []byte(`{"Sessions": [{"TabulatorId": 5, "BatchId": 6, "RecordId": 7, "Original": {"IsCurrent": true, "Cards": [{"Contests": [{"Id": 1, "Marks": [{"CandidateId": 2, "Rank": 1}]}]}]}}]}`), 0o644)
			},
			want: "dom (dominion): CvrExport.json session 1 (tabulator 5, batch 6, record 7): candidate ID 2 is not a candidate of contest 1 in CandidateManifest.json",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			cfg, err := ReadContestConfig(writeTestConfig(t, dir, tc.source))
			if err != nil {
				t.Fatal(err)
			}
			_, err = cfg.ReadCVRs()
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

// A small workbook read end to end: names, aliases, the skipped-rank
// label, overvotes split by the delimiter, blanks; then the overvote label.
func TestReadESS(t *testing.T) {
	dir := t.TempDir()
	writeTestXLSX(t, filepath.Join(dir, "cvr.xlsx"), []string{"h", "A", "2", "A|B", "undervote", "A|C", "C &amp; co"},
		`<row r="1"><c r="A1" t="s"><v>0</v></c></row>`+
			`<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" t="s"><v>2</v></c></row>`+
			`<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="s"><v>3</v></c><c r="C3" t="s"><v>1</v></c></row>`+
			`<row r="4"><c r="A4"><v>3</v></c><c r="B4" t="s"><v>4</v></c><c r="C4" t="s"><v>5</v></c></row>`+
			`<row r="5"><c r="A5"><v>4</v></c><c r="D5" t="inlineStr"><is><t>B</t></is></c></row>`+
			`<row r="6"/>`)
	cfg, err := ReadContestConfig(writeTestConfig(t, dir, essSource(`, "overvoteDelimiter": "|"`)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.ReadCVRs()
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(c.Ballots())
	want := "[{[[0] [1]] 1} {[[0 1] [0]] 1} {[[] [0 2]] 1} {[[] [] [1]] 1} {[] 1}]"
	if got != want {
		t.Errorf("ballots %s, want %s", got, want)
	}

	writeTestXLSX(t, filepath.Join(dir, "cvr.xlsx"), []string{"h", "overvote", "C"},
		`<row r="2"><c r="B2" t="s"><v>1</v></c><c r="C2" t="s"><v>2</v></c></row>`)
	cfg, err = ReadContestConfig(writeTestConfig(t, dir, essSource(`, "overvoteLabel": "overvote"`)))
	if err != nil {
		t.Fatal(err)
	}
	if c, err = cfg.ReadCVRs(); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(c.Ballots()), "[{[[-1] [2]] 1}]"; got != want {
		t.Errorf("with the overvote label: ballots %s, want %s", got, want)
	}
}

// RCTab's config validation refuses these combinations; so does Runoff.
func TestContestConfigRefuses(t *testing.T) {
	for _, tc := range []struct{ source, rule, want string }{
		{essSource(`, "overvoteLabel": "ov", "overvoteDelimiter": "/"`), "exhaustImmediately", "cvrFileSources[0]: give overvoteDelimiter or overvoteLabel, not both"},
		{essSource(`, "overvoteLabel": "ov"`), "exhaustIfMultipleContinuing", `cvrFileSources[0]: overvoteLabel "ov" needs overvoteRule exhaustImmediately or alwaysSkipToNextRank (the marks of a labelled overvote are unknown)`},
		{`{"provider": "ess", "filePath": "cvr.xlsx"}`, "exhaustImmediately", `cvrFileSources[0]: provider "ess" needs firstVoteColumnIndex and firstVoteRowIndex`},
		{`{"provider": "hart", "filePath": "cvr.xlsx", "contestId": "1"}`, "exhaustImmediately", `cvrFileSources[0]: cvr.xlsx: provider "hart" wants a folder`},
		{`{"filePath": "cvr.xlsx"}`, "exhaustImmediately", "cvrFileSources[0]: provider missing (want one of ess, dominion, cdf, hart, clearBallot, genericCsv)"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "cvr.xlsx"), nil, 0o644)
		p := writeTestConfig(t, dir, tc.source)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(strings.Replace(string(b), `"exhaustImmediately"`, `"`+tc.rule+`"`, 1)), 0o644)
		_, err := ReadContestConfig(p)
		if want := "config " + p + ": " + tc.want; err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	}
}

// "max" rankings means no limit, as RCTab 2.0 reads it
// (ContestConfig.isRankingAllowed): a mark at rank 4 of 3 candidates
// counts. Rules with maxRankingsAllowed unset (0) stop at the number of
// candidates.
func TestConfigMaxRankingsUnlimited(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "g.csv"), []byte("id,A,B,C\n1,4,,\n2,,1,\n3,,1,\n4,1,,\n"), 0o644)
	p := writeTestConfig(t, dir, `{"provider": "genericCsv", "filePath": "g.csv", "firstVoteColumnIndex": "2", "firstVoteRowIndex": "2"}`)
	b, _ := os.ReadFile(p)
	b = []byte(strings.NewReplacer(`"maxRankingsAllowed": "3"`, `"maxRankingsAllowed": "max"`,
		`"maxSkippedRanksAllowed": "1"`, `"maxSkippedRanksAllowed": "unlimited"`).Replace(string(b)))
	os.WriteFile(p, b, 0o644)
	cfg, err := ReadContestConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.ReadCVRs()
	if err != nil {
		t.Fatal(err)
	}
	res, err := TabulateContest(cfg.Rules, c)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := res.Rounds[0].TallyOf("A"); v.String() != "2" || res.Undervotes != 0 {
		t.Errorf("round 1: A has %s votes and %d undervotes, want 2 and 0 (the rank-4 mark counts)", v, res.Undervotes)
	}
	cfg.Rules.MaxRankingsAllowed = 0 // unset
	if res, _ := TabulateContest(cfg.Rules, c); res.Undervotes != 1 {
		t.Errorf("with maxRankingsAllowed 0: %d undervotes, want 1", res.Undervotes)
	}
}

// A config as RCTab 1.x wrote it (old mode names, labels among the rules)
// counts as RCTab migrates it: the same as today's Portland config.
func TestConfigMigration(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(portlandCase, "2015_portland_mayor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	old := strings.NewReplacer(
		`"tabulatorVersion" : "TEST"`, `"tabulatorVersion" : "1.0.1"`,
		`"filePath" : "2015_portland_mayor_cvr.xlsx"`, `"filePath" : "`+filepath.Join(mustAbs(t, portlandCase), "2015_portland_mayor_cvr.xlsx")+`"`,
		`"overvoteLabel" : "overvote",`, ``,
		`"skippedRankLabel" : "undervote",`, ``,
		`"undeclaredWriteInLabel" : "UWI",`, ``,
		`"winnerElectionMode" : "singleWinnerMajority"`, `"winnerElectionMode" : "standard", "overvoteLabel": "overvote", "undervoteLabel": "undervote", "undeclaredWriteInLabel": "UWI"`,
		`"tiebreakMode" : "useCandidateOrder"`, `"tiebreakMode" : "usePermutationInConfig"`,
	).Replace(string(b))
	if !strings.Contains(old, `"1.0.1"`) || !strings.Contains(old, `"standard"`) || !strings.Contains(old, `"usePermutationInConfig"`) || strings.Contains(old, `"skippedRankLabel"`) {
		t.Fatalf("the old-style config was not made:\n%s", old)
	}
	p := filepath.Join(dir, "old_config.json")
	os.WriteFile(p, []byte(old), 0o644)
	cfg, err := ReadContestConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	now, err := ReadContestConfig(filepath.Join(portlandCase, "2015_portland_mayor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.Rules) != fmt.Sprint(now.Rules) {
		t.Errorf("rules\n%+v\nwant\n%+v", cfg.Rules, now.Rules)
	}
	s, w := cfg.Sources[0], now.Sources[0]
	s.FilePath, s.Path, w.FilePath, w.Path = "", "", "", ""
	if s != w {
		t.Errorf("source\n%+v\nwant\n%+v", s, w)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
