package rcv

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const native = "testdata/rctab-native/"

// zipDir zips a folder under prefix (a folder inside the zip, or "").
func zipDir(t testing.TB, dir, prefix string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(prefix + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	// What a Mac adds when it zips a folder: never read.
	w, _ := zw.Create("__MACOSX/" + prefix + "._ContestManifest.json")
	w.Write([]byte{0, 5, 22, 7})
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t *testing.T, x *Export, contest string) []CastRecord {
	t.Helper()
	var out []CastRecord
	if err := x.Read(contest, func(r CastRecord) error { out = append(out, r); return nil }); err != nil {
		t.Fatalf("read %q: %v", contest, err)
	}
	return out
}

func names(r CastRecord) string {
	var parts []string
	for _, rk := range r.Ranks {
		s := strings.Join(rk.Names, "+")
		if rk.Overvote {
			s = "overvote"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// Each format is found by its content and read contest by contest, names
// as the file gives them, records in order with where they are.
func TestOpenExport(t *testing.T) {
	file := func(p string) []byte {
		data, err := os.ReadFile(native + p)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, tc := range []struct {
		name      string
		data      []byte
		format    string
		contests  []string
		records   int
		first     string // the first record's marks, and where it is
		firstAt   string
		candidate string // one of the contest's candidates, when listed
	}{
		{"2015_portland_mayor_cvr.xlsx", file("2015_portland_mayor/2015_portland_mayor_cvr.xlsx"), FormatESS, []string{"For Mayor"}, 99,
			"Haadoow, Hamza A., Mavodones, Nicholas M. Jr., Duson, Jill C., Bryant, Peter G., Strimling, Ethan K., Miller, Markos S., Lapchick, Jodie L., Rathband, Jed, Eder, John M., Bragdon, Charles E., Vail, Christopher L.",
			"2015_portland_mayor_cvr.xlsx row 2", ""},
		{"overvotes.xlsx", file("test_set_overvote_delimiter/test_set_overvote_delimiter_cvr.xlsx"), FormatESS, []string{""}, 9, "A, B, C", "overvotes.xlsx row 2", ""},
		{"cvr.json", file("test_set_8_multi_cdf/test_set_8_multi_cdf_cvr_1.json"), FormatCDFJSON, []string{"Test Set 0"}, 12,
			"Candidate A Name, Candidate B Name, Candidate C Name, Candidate D Name", "cvr.json CVR 1", "Candidate C Name"},
		{"cvr.xml", file("unisyn_cvrs/101-RCV-CVT_TEST_3_UNIOVS2103-2.xml"), FormatCDFXML, nil, 35,
			"Emily Van Zandt, Terry Halloran, Ullrike Winterhausen", "cvr.xml CVR 1 (UniqueId 2526)", "Susan Brown"},
		{"clear.csv", file("clear_ballot_with_inline_comma/clear_ballot_with_inline_comma_cvr.csv"), FormatClearBallot, []string{"City of Portland, Auditor"}, 178,
			"", "clear.csv line 2", "Lisa Simpson"},
		{"alaska.zip", zipDir(t, native+"_shared/dominion_alaska/alaska_input_data", "alaska_input_data/"), FormatDominion, []string{"1"}, 0,
			"Michael R. Bloomberg, Joseph R. Biden, (undeclared), Elizabeth Warren, Tulsi Gabbard", "CvrExport.json session 1 (tabulator 42, batch 1, record 1)", "Pete Buttigieg"},
		{"hart.zip", zipDir(t, native+"_shared/hart_cvr_archive", ""), FormatHart, nil, 0, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := OpenExport(tc.name, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if x.Format != tc.format {
				t.Errorf("format %q, want %q", x.Format, tc.format)
			}
			var ids []string
			for _, c := range x.Contests {
				ids = append(ids, c.ID)
			}
			if tc.contests != nil && strings.Join(ids, "|") != strings.Join(tc.contests, "|") {
				t.Errorf("contests %q, want %q", ids, tc.contests)
			}
			if tc.candidate != "" && !strings.Contains(strings.Join(x.Contests[0].Candidates, "|"), tc.candidate) {
				t.Errorf("candidates %q lack %q", x.Contests[0].Candidates, tc.candidate)
			}
			recs := readAll(t, x, ids[0])
			if tc.records > 0 && len(recs) != tc.records {
				t.Errorf("%d records, want %d", len(recs), tc.records)
			}
			if len(recs) == 0 {
				t.Fatal("no records")
			}
			if tc.firstAt != "" && (names(recs[0]) != tc.first || recs[0].Where != tc.firstAt) {
				t.Errorf("first record %q at %q, want %q at %q", names(recs[0]), recs[0].Where, tc.first, tc.firstAt)
			}
		})
	}
}

// Overvotes, skipped ranks and blank ballots come through as the file
// records them; the caller decides what they become.
func TestExportMarks(t *testing.T) {
	data, _ := os.ReadFile(native + "test_set_overvote_delimiter/test_set_overvote_delimiter_cvr.xlsx")
	x, err := OpenExport("o.xlsx", data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range readAll(t, x, "") {
		got = append(got, names(r))
	}
	if !strings.Contains(strings.Join(got, "\n"), "D+A") {
		t.Errorf("no overvote D|A among %q", got)
	}
	data, _ = os.ReadFile(native + "2015_portland_mayor/2015_portland_mayor_cvr.xlsx")
	x, _ = OpenExport("p.xlsx", data)
	over, skipped := 0, 0
	for _, r := range readAll(t, x, "For Mayor") {
		for i, rk := range r.Ranks {
			if rk.Overvote {
				over++
			}
			if i > 0 && rk.Rank != r.Ranks[i-1].Rank+1 {
				skipped++
			}
		}
	}
	if over == 0 || skipped == 0 {
		t.Errorf("Portland: %d overvotes, %d skips; the workbook has both", over, skipped)
	}
	// The Hart export's ballots of the school-board contest: the contest
	// is found by its ID among every contest of the folder.
	x, err = OpenExport("h.zip", zipDir(t, native+"_shared/hart_cvr_archive", "export/"))
	if err != nil {
		t.Fatal(err)
	}
	var board *ExportContest
	for i, c := range x.Contests {
		if c.ID == "b651b997-417a-46d9-a676-a43d4df94ddc" {
			board = &x.Contests[i]
		}
	}
	if board == nil {
		t.Fatalf("no school-board contest among %+v", x.Contests)
	}
	recs := readAll(t, x, board.ID)
	if len(recs) == 0 || !strings.Contains(names(recs[0])+strings.Join(board.Candidates, ","), "Betty McCollum") {
		t.Errorf("Hart: %d records, candidates %q", len(recs), board.Candidates)
	}
}

// A caller's error stops the read and comes back as it is.
func TestExportReadStops(t *testing.T) {
	data, _ := os.ReadFile(native + "2015_portland_mayor/2015_portland_mayor_cvr.xlsx")
	x, _ := OpenExport("p.xlsx", data)
	stop := errors.New("enough")
	n := 0
	err := x.Read("For Mayor", func(CastRecord) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("err %v after %d records, want the caller's after 1", err, n)
	}
}

// What is not an export, or a broken one, gets an error (ErrNotExport for
// other CSV layouts), never a panic; zip bombs are refused before reading.
func TestOpenExportRefuses(t *testing.T) {
	if _, err := OpenExport("b.csv", []byte("rank1,rank2\nA,B\n")); err != ErrNotExport {
		t.Errorf("Runoff's CSV: %v, want ErrNotExport", err)
	}
	huge := func(size uint64) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Store, UncompressedSize64: size, CompressedSize64: 4})
		w.Write([]byte("<a/>"))
		w, _ = zw.Create("xl/workbook.xml")
		w.Write([]byte("<workbook/>"))
		zw.Close()
		return buf.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"bomb.xlsx", huge(MaxExportUnpacked + 1), "unpacks to more than 1024 MB"},
		{"many.zip", func() []byte {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for i := range MaxExportEntries + 1 {
				zw.CreateHeader(&zip.FileHeader{Name: "f" + strings.Repeat("x", i%3), Method: zip.Store})
			}
			zw.Close()
			return buf.Bytes()
		}(), "at most 200000"},
		{"strings.xlsx", func() []byte {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, _ := zw.Create("xl/workbook.xml")
			w.Write([]byte(`<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="s" r:id="r1"/></sheets></workbook>`))
			w, _ = zw.Create("xl/_rels/workbook.xml.rels")
			w.Write([]byte(`<Relationships><Relationship Id="r1" Target="worksheets/sheet1.xml"/></Relationships>`))
			w, _ = zw.Create("xl/worksheets/sheet1.xml")
			w.Write([]byte(`<worksheet/>`))
			w, _ = zw.CreateRaw(&zip.FileHeader{Name: "xl/sharedStrings.xml", Method: zip.Store, UncompressedSize64: MaxExportPart + 1, CompressedSize64: 4})
			w.Write([]byte("<a/>"))
			zw.Close()
			return buf.Bytes()
		}(), "at most 256 MB of shared strings"},
		{"x.xlsx", []byte("not a zip"), "not a zip archive"},
		{"old.xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "save it as an .xlsx workbook"},
		{"one.json", []byte(`{"Version":"5.10","ElectionId":"x","Sessions":[]}`), "one file of a Dominion export"},
		{"ballot.xml", []byte(`<?xml version="1.0"?><Cvr xmlns="http://tempuri.org/CVRDesign.xsd"><Contests/></Cvr>`), "one ballot of a Hart export"},
		{"empty.zip", func() []byte {
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			w, _ := zw.Create("notes.txt")
			w.Write([]byte("hi"))
			zw.Close()
			return b.Bytes()
		}(), "neither an .xlsx workbook"},
		{"bad.json", []byte(`{"CVR": [}`), "bad.json"},
		{"noheader.xlsx", func() []byte { d, _ := os.ReadFile(native + "_shared/bottoms_up_cvr.xlsx"); return d }(), "no rank columns"},
	} {
		_, err := OpenExport(tc.name, tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	// A part that unpacks to more than it declares fails as it is read.
	var sheet bytes.Buffer
	sheet.WriteString(`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Choice 1</t></is></c></row>`)
	for range 20000 {
		sheet.WriteString(`<row><c r="A2" t="inlineStr"><is><t>Ada</t></is></c></row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	fw.Write(sheet.Bytes())
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("xl/workbook.xml")
	w.Write([]byte(`<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="s" r:id="r1"/></sheets></workbook>`))
	w, _ = zw.Create("xl/_rels/workbook.xml.rels")
	w.Write([]byte(`<Relationships><Relationship Id="r1" Target="worksheets/sheet1.xml"/></Relationships>`))
	w, _ = zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(sheet.Bytes()),
		CompressedSize64: uint64(deflated.Len()), UncompressedSize64: 300})
	w.Write(deflated.Bytes())
	zw.Close()
	x, err := OpenExport("lying.xlsx", buf.Bytes())
	n := 0
	if err == nil {
		err = x.Read("", func(CastRecord) error { n++; return nil })
	}
	if err == nil || !strings.Contains(err.Error(), "not a valid zip") {
		t.Errorf("a sheet larger than it declares: %v after %d rows, want an error", err, n)
	}
}

// The sniffing and the readers take any bytes without panicking.
func FuzzOpenExport(f *testing.F) {
	for _, p := range []string{"2015_portland_mayor/2015_portland_mayor_cvr.xlsx", "test_set_8_multi_cdf/test_set_8_multi_cdf_cvr_1.json",
		"clear_ballot_with_inline_comma/clear_ballot_with_inline_comma_cvr.csv"} {
		data, err := os.ReadFile(native + p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Base(p), data)
	}
	// Small seeds (the fuzzer is slow on large ones): a CDF XML report.
	f.Add("cvr.xml", []byte(`<CastVoteRecordReport><Election><Candidate ObjectId="k1"><Name>Ada</Name></Candidate><Candidate ObjectId="k2"><Name>Grace</Name></Candidate>`+
		`<Contest ObjectId="c1"><Name>Mayor</Name><ContestSelection ObjectId="s1"><CandidateIds>k1</CandidateIds></ContestSelection><ContestSelection ObjectId="s2"><CandidateIds>k2</CandidateIds></ContestSelection></Contest></Election>`+
		`<CVR><CurrentSnapshotId>a</CurrentSnapshotId><CVRSnapshot ObjectId="a"><CVRContest><ContestId>c1</ContestId><CVRContestSelection><ContestSelectionId>s2</ContestSelectionId>`+
		`<SelectionPosition><HasIndication>yes</HasIndication><IsAllocable>yes</IsAllocable><Rank>1</Rank></SelectionPosition></CVRContestSelection></CVRContest></CVRSnapshot></CVR></CastVoteRecordReport>`))
	f.Add("h.zip", zipDir(f, native+"_shared/hart_cvr_archive", ""))
	f.Add("d.zip", smallDominion(f))
	f.Add("a.csv", []byte("rank1\nA\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		x, err := OpenExport(name, data)
		if err != nil {
			return
		}
		for _, c := range x.Contests {
			x.Read(c.ID, func(CastRecord) error { return nil })
		}
	})
}

// smallDominion is a Dominion export of two ballots.
func smallDominion(t testing.TB) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"export/ContestManifest.json":   `{"Version":"5.10","List":[{"Description":"Mayor","Id":1,"NumOfRanks":3},{"Description":"Clerk","Id":2,"NumOfRanks":0}]}`,
		"export/CandidateManifest.json": `{"Version":"5.10","List":[{"Description":"Ada","Id":1,"ContestId":1},{"Description":"Grace","Id":2,"ContestId":1},{"Description":"Linus","Id":3,"ContestId":1}]}`,
		"export/CvrExport.json": `{"Version":"5.10","Sessions":[{"TabulatorId":1,"BatchId":1,"RecordId":1,"Original":{"IsCurrent":true,"Cards":[{"Contests":[{"Id":1,"Marks":[{"CandidateId":2,"Rank":1},{"CandidateId":1,"Rank":2}]}]}]}},` +
			`{"TabulatorId":1,"BatchId":1,"RecordId":2,"Original":{"IsCurrent":true,"Cards":[{"Contests":[{"Id":1,"Marks":[{"CandidateId":3,"Rank":1},{"CandidateId":1,"Rank":1}]}]}]}}]}`,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	zw.Close()
	return buf.Bytes()
}

func TestSmallDominion(t *testing.T) {
	x, err := OpenExport("d.zip", smallDominion(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Contests) != 1 || x.Contests[0].Name != "Mayor" || strings.Join(x.Contests[0].Candidates, ",") != "Ada,Grace,Linus" {
		t.Fatalf("contests %+v: want Mayor (Ada, Grace, Linus) only, Clerk is not ranked", x.Contests)
	}
	recs := readAll(t, x, "1")
	if len(recs) != 2 || names(recs[0]) != "Grace, Ada" || names(recs[1]) != "Linus+Ada" {
		t.Errorf("records %+v", recs)
	}
}
