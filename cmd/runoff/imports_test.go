package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
	"github.com/runoff-vote/runoff/rcv"
	"github.com/runoff-vote/runoff/worker"
)

const nativeCases = "../../rcv/testdata/rctab-native/"

// The Portland 2015 mayoral candidates, as RCTab's config lists them.
var portland = []string{"Brennan, Michael F.", "Bragdon, Charles E.", "Bryant, Peter G.", "Carmona, Ralph C.", "Dodge, Richard A.", "Duson, Jill C.",
	"Eder, John M.", "Haadoow, Hamza A.", "Lapchick, Jodie L.", "Marshall, David A.", "Mavodones, Nicholas M. Jr.", "Miller, Markos S.",
	"Rathband, Jed", "Strimling, Ethan K.", "Vail, Christopher L."}

// The Alaska 2020 Democratic primary's candidates (Dominion codes 1–11),
// and a candidate for the write-ins (code 12, "(undeclared)").
var alaska = []string{"Joseph R. Biden", "Tom Steyer", "Bernie Sanders", "Amy Klobuchar", "Tulsi Gabbard", "Elizabeth Warren",
	"Michael R. Bloomberg", "Pete Buttigieg", "Write-ins"}

func zipFolder(t *testing.T, dir, prefix string) []byte {
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
		w, _ := zw.Create(prefix + e.Name())
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

func testElection(names ...string) *runoff.Election {
	e := &runoff.Election{ID: uuid.New(), Settings: runoff.DefaultSettings()}
	for i, n := range names {
		e.Candidates = append(e.Candidates, runoff.Candidate{ID: uuid.New(), Name: n, Position: i})
	}
	return e
}

// The web's reader of ballot files: vendors' exports by their readers and
// the domain's mapping, Runoff's CSV as before; mistakes are ImportErrors.
func TestBallotFiles(t *testing.T) {
	ctx := context.Background()
	workbook, err := os.ReadFile(nativeCases + "2015_portland_mayor/2015_portland_mayor_cvr.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	e := testElection(portland...)
	ballots, sum, err := ballotFiles{}.Read(ctx, e, "portland.xlsx", workbook, runoff.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Format != rcv.FormatESS || sum.Records != 99 || sum.Imported != len(ballots) || sum.Imported+sum.Blank != 99 || sum.Overvotes == 0 {
		t.Errorf("summary %+v", sum)
	}

	// Names the election lacks: all of them, and how to map them.
	short := testElection(portland[1:]...)
	_, _, err = ballotFiles{}.Read(ctx, short, "portland.xlsx", workbook, runoff.ImportOptions{})
	var ie *runoff.ImportError
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, `"Brennan, Michael F." (`) || !strings.Contains(ie.Message, "first at portland.xlsx row ") {
		t.Errorf("a name the election lacks: %v", err)
	}
	names, _ := runoff.ParseNameMap(short, "Brennan, Michael F. = Vail, Christopher L.")
	if _, _, err := (ballotFiles{}).Read(ctx, short, "portland.xlsx", workbook, runoff.ImportOptions{Names: names}); err != nil {
		t.Errorf("with the name mapped: %v", err)
	}

	// A Dominion export, zipped with its folder; code 12 is mapped.
	ak := testElection(alaska...)
	names, _ = runoff.ParseNameMap(ak, "(undeclared) = Write-ins")
	dominion := zipFolder(t, nativeCases+"_shared/dominion_alaska/alaska_input_data", "alaska_input_data/")
	ballots, sum, err = ballotFiles{}.Read(ctx, ak, "alaska.zip", dominion, runoff.ImportOptions{Names: names})
	if err != nil || sum.Format != rcv.FormatDominion || len(ballots) == 0 {
		t.Fatalf("Dominion: %d ballots, %+v, %v", len(ballots), sum, err)
	}
	// Without the map, "(undeclared)" is named.
	if _, _, err := (ballotFiles{}).Read(ctx, ak, "alaska.zip", dominion, runoff.ImportOptions{}); err == nil || !strings.Contains(err.Error(), `"(undeclared)"`) {
		t.Errorf("Dominion without the map: %v", err)
	}

	// A CDF report, a Clear Ballot CSV, a Hart export: in the Hart
	// export's many contests, the one whose candidates are the election's
	// is found; its write-in option has no name, only a code, mapped here.
	for _, tc := range []struct {
		name, path string
		candidates []string
		names      string
		records    int
	}{
		{"cvr.json", "test_set_8_multi_cdf/test_set_8_multi_cdf_cvr_1.json", []string{"Candidate A Name", "Candidate B Name", "Candidate C Name", "Candidate D Name"}, "", 12},
		{"clear.csv", "clear_ballot_with_inline_comma/clear_ballot_with_inline_comma_cvr.csv", []string{"Simone test Rede", "Lisa Simpson", "Write-ins"}, "Write-in-28 = Write-ins", 178},
		{"hart.zip", "", []string{"Tony Hernandez", "Betty McCollum", "April King", "Bev Scalze", "Russ Bertsch", "Barb Yarusso", "Steve Carlson", "Write-ins"},
			"99cefa84-bad0-4d6b-a916-e606bd43f9cd = Write-ins", 0},
	} {
		data := zipFolder(t, nativeCases+"_shared/hart_cvr_archive", "cvrs/")
		if tc.path != "" {
			data, _ = os.ReadFile(nativeCases + tc.path)
		}
		el := testElection(tc.candidates...)
		names, err := runoff.ParseNameMap(el, tc.names)
		if err != nil {
			t.Fatal(err)
		}
		ballots, sum, err := ballotFiles{}.Read(ctx, el, tc.name, data, runoff.ImportOptions{Names: names})
		if err != nil || len(ballots) == 0 || (tc.records > 0 && sum.Records != tc.records) {
			t.Errorf("%s: %d ballots, %+v, %v", tc.name, len(ballots), sum, err)
		}
		if tc.name == "hart.zip" && sum.Contest != "CEDAR PARK SCHOOL BOARD" {
			t.Errorf("Hart: contest %q", sum.Contest)
		}
	}

	// A broken file is an ImportError; Runoff's CSV still reads.
	if _, _, err := (ballotFiles{}).Read(ctx, e, "x.zip", workbook[:1000], runoff.ImportOptions{}); !errors.As(err, &ie) || !strings.Contains(ie.Message, "could not be read") {
		t.Errorf("a cut workbook: %v", err)
	}
	if b, _, err := (ballotFiles{}).Read(ctx, e, "p.csv", []byte("rank1,rank2\nRathband, Jed,\n"), runoff.ImportOptions{}); err == nil || b != nil {
		t.Errorf("Runoff's CSV with an unquoted comma: %v", err)
	}
	if b, _, err := (ballotFiles{}).Read(ctx, e, "p.csv", []byte("rank1,rank2\n\"Rathband, Jed\",\"Vail, Christopher L.\"\n"), runoff.ImportOptions{}); err != nil || len(b) != 1 {
		t.Errorf("Runoff's CSV: %v", err)
	}
}

func (a *app) uploadWith(c *http.Client, path, name string, data []byte, fields url.Values) (int, string) {
	a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	resp, err := c.Post(a.base+path, mw.FormDataContentType(), &body)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

// Vendors' exports imported through the real web and worker: the public
// Portland ES&S workbook and the Alaska Dominion export (zipped). Each is
// stored whole (the progress page reaches 100%, once however often it is
// uploaded), and the site's rounds equal `runoff tabulate --config` on
// the same file under the election's own rules — the imported ballots
// count as the records would.
func TestImportVendorFilesEndToEnd(t *testing.T) {
	a := startApp(t)
	org := browser()
	if code, _ := a.post(org, "/signup", url.Values{"email": {"vendor@example.org"}, "password": {"correct horse battery"}}); code != 303 {
		t.Fatalf("signup: %d", code)
	}
	for _, tc := range []struct {
		title, file string
		data        []byte
		candidates  []string
		names       string
		source      map[string]any // the config's CVR source, for tabulate
		aliases     map[string][]string
	}{
		{
			title: "Portland mayor", file: "2015_portland_mayor_cvr.xlsx", candidates: portland,
			data: func() []byte {
				d, _ := os.ReadFile(nativeCases + "2015_portland_mayor/2015_portland_mayor_cvr.xlsx")
				return d
			}(),
			source: map[string]any{"provider": "ess", "filePath": "2015_portland_mayor_cvr.xlsx", "firstVoteColumnIndex": "4", "firstVoteRowIndex": "2",
				"overvoteLabel": "overvote", "skippedRankLabel": "undervote"},
		},
		{
			title: "Alaska primary", file: "alaska.zip", candidates: alaska, names: "(undeclared) = Write-ins",
			data:   zipFolder(t, nativeCases+"_shared/dominion_alaska/alaska_input_data", "alaska_input_data/"),
			source: map[string]any{"provider": "dominion", "filePath": "alaska_input_data", "contestId": "1"},
			aliases: map[string][]string{"Joseph R. Biden": {"1"}, "Tom Steyer": {"3"}, "Bernie Sanders": {"4"}, "Amy Klobuchar": {"5"}, "Tulsi Gabbard": {"7"},
				"Elizabeth Warren": {"8"}, "Michael R. Bloomberg": {"9"}, "Pete Buttigieg": {"11"}, "Write-ins": {"12"}},
		},
	} {
		t.Run(tc.title, func(t *testing.T) {
			_, loc := a.post(org, "/admin/elections", url.Values{"title": {tc.title}, "candidates": {strings.Join(tc.candidates, "\n")}})
			id := strings.TrimPrefix(loc, "/admin/elections/")
			rabbitmqtest.WaitFor(t, "election stored", func() bool { return strings.Contains(a.page(org, loc), "Paper ballots") })
			path := "/admin/elections/" + id + "/import"
			if tc.names != "" {
				// Without the map of names, nothing is imported and the
				// page says which name to map, and how.
				code, body := a.uploadWith(org, path, tc.file, tc.data, nil)
				if code != http.StatusUnprocessableEntity || !strings.Contains(body, html.EscapeString(`The file names a candidate that this election does not have: "(undeclared)"`)) {
					t.Fatalf("without the map: %d", code)
				}
			}
			start := time.Now()
			code, progress := a.uploadWith(org, path, tc.file, tc.data, url.Values{"names": {tc.names}})
			t.Logf("%s: %d bytes checked and sent in %v", tc.file, len(tc.data), time.Since(start).Round(time.Millisecond))
			if code != http.StatusSeeOther || !strings.Contains(progress, "/imports/") {
				t.Fatalf("import: %d %s", code, progress)
			}
			q, _ := url.ParseQuery(progress[strings.Index(progress, "?")+1:])
			var n int
			fmt.Sscan(q.Get("of"), &n)
			rabbitmqtest.WaitForWithin(t, 2*time.Minute, "the import at 100%", func() bool {
				return strings.Contains(a.page(org, progress), fmt.Sprintf("All %d ballots are stored", n))
			})
			// The same file again stores nothing twice.
			if code, again := a.uploadWith(org, path, tc.file, tc.data, url.Values{"names": {tc.names}}); code != http.StatusSeeOther || again != progress {
				t.Fatalf("again: %d %s, want %s", code, again, progress)
			}
			var site rcv.Report
			rabbitmqtest.WaitFor(t, "results of the imported ballots", func() bool {
				return json.Unmarshal([]byte(a.page(browser(), "/e/"+id+"/results.json")), &site) == nil && site.Summary.TotalNumBallots == fmt.Sprint(n)
			})
			time.Sleep(time.Second) // a second upload's batches would have counted by now
			var after rcv.Report
			json.Unmarshal([]byte(a.page(browser(), "/e/"+id+"/results.json")), &after)
			if after.Summary.TotalNumBallots != fmt.Sprint(n) {
				t.Fatalf("after the second upload: %s ballots, want %d", after.Summary.TotalNumBallots, n)
			}

			// runoff tabulate --config on the file, with the election's rules.
			dir := t.TempDir()
			src := tc.source
			abs, _ := filepath.Abs(nativeCases + map[string]string{"ess": "2015_portland_mayor/", "dominion": "_shared/dominion_alaska/"}[src["provider"].(string)] + src["filePath"].(string))
			src["filePath"] = abs
			var rules map[string]any
			if err := json.Unmarshal([]byte(a.page(org, "/admin/elections/"+id+"/rules.json")), &rules); err != nil {
				t.Fatal(err)
			}
			var candidates []map[string]any
			for _, c := range tc.candidates {
				candidates = append(candidates, map[string]any{"name": c, "aliases": tc.aliases[c]})
			}
			cfg, _ := json.Marshal(map[string]any{"outputSettings": map[string]any{"contestName": tc.title}, "cvrFileSources": []any{src}, "candidates": candidates, "rules": rules})
			os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
			var out strings.Builder
			if err := run(context.Background(), []string{"tabulate", "--config", filepath.Join(dir, "config.json")}, func(string) string { return "" }, &out, io.Discard); err != nil {
				t.Fatalf("tabulate: %v", err)
			}
			var direct rcv.Report
			if err := json.Unmarshal([]byte(out.String()), &direct); err != nil {
				t.Fatal(err)
			}
			// Blank ballots are not imported: the file's total less those
			// that rank nobody (undervotes, and those inactive from round 1).
			var total, under int
			fmt.Sscan(direct.Summary.TotalNumBallots, &total)
			under = int(direct.Summary.Undervotes)
			t.Logf("%s: %d records, %d imported; %d rounds", tc.file, total, n, len(direct.Results))
			if !reflect.DeepEqual(direct.Results, site.Results) || !reflect.DeepEqual(direct.Runoff.Winners, site.Runoff.Winners) {
				t.Fatalf("runoff tabulate --config on the file:\n%+v\nthe site:\n%+v", direct.Results, site.Results)
			}
			if n > total-under {
				t.Errorf("%d imported of %d records with %d undervotes", n, total, under)
			}
		})
	}
}

// Write-ins passed over ("(undeclared) = -") in an election without a
// write-in candidate: RCTab, counting undeclared write-ins under the same
// rules, eliminates them in its first round, and from its second round on
// its tallies are this import's, round for round from the first.
func TestWriteInsPassedOver(t *testing.T) {
	ak := testElection(alaska[:8]...)
	names, err := runoff.ParseNameMap(ak, "(undeclared) = -")
	if err != nil {
		t.Fatal(err)
	}
	ballots, sum, err := ballotFiles{}.Read(context.Background(), ak, "alaska.zip",
		zipFolder(t, nativeCases+"_shared/dominion_alaska/alaska_input_data", ""), runoff.ImportOptions{Names: names})
	if err != nil || sum.Passed == 0 {
		t.Fatalf("%+v %v", sum, err)
	}
	index := map[uuid.UUID]int{}
	for i, c := range ak.Candidates {
		index[c.ID] = i
	}
	var rb []rcv.Ballot
	for _, b := range ballots {
		var idx []int
		for _, id := range b.Ranking {
			idx = append(idx, index[id])
		}
		rb = append(rb, rcv.Ranking(1, idx...))
	}
	rules := worker.CountRules(ak)
	imported, err := rcv.Tabulate(rules, rb)
	if err != nil {
		t.Fatal(err)
	}
	// The same export through --config, write-ins as RCTab counts them.
	rulesJSON, _ := json.Marshal(rules)
	var rulesMap map[string]any
	json.Unmarshal(rulesJSON, &rulesMap)
	abs, _ := filepath.Abs(nativeCases + "_shared/dominion_alaska/alaska_input_data")
	codes := map[string]string{"Joseph R. Biden": "1", "Tom Steyer": "3", "Bernie Sanders": "4", "Amy Klobuchar": "5", "Tulsi Gabbard": "7",
		"Elizabeth Warren": "8", "Michael R. Bloomberg": "9", "Pete Buttigieg": "11"}
	var candidates []map[string]any
	for _, c := range alaska[:8] {
		candidates = append(candidates, map[string]any{"name": c, "aliases": []string{codes[c]}})
	}
	cfg, _ := json.Marshal(map[string]any{"outputSettings": map[string]any{"contestName": "Alaska"}, "candidates": candidates, "rules": rulesMap,
		"cvrFileSources": []any{map[string]any{"provider": "dominion", "filePath": abs, "contestId": "1", "undeclaredWriteInLabel": "12"}}})
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, cfg, 0o644)
	c, err := rcv.ReadContestConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	contest, err := c.ReadCVRs()
	if err != nil {
		t.Fatal(err)
	}
	rctab, err := rcv.TabulateContest(c.Rules, contest)
	if err != nil {
		t.Fatal(err)
	}
	tallies := func(rd rcv.Round) string {
		var parts []string
		for _, cv := range rd.Tally {
			if cv.Name != rcv.UndeclaredWriteInLabel {
				parts = append(parts, fmt.Sprintf("%s=%v", cv.Name, cv.Votes))
			}
		}
		return strings.Join(parts, " ")
	}
	if len(rctab.Rounds) != len(imported.Rounds)+1 || !slices.Contains(rctab.Rounds[0].Eliminated, rcv.UndeclaredWriteInLabel) {
		t.Fatalf("RCTab: %d rounds (first eliminating %v); imported: %d", len(rctab.Rounds), rctab.Rounds[0].Eliminated, len(imported.Rounds))
	}
	t.Logf("RCTab %d rounds, imported %d; winners %v", len(rctab.Rounds), len(imported.Rounds), imported.Winners)
	for i, rd := range imported.Rounds {
		if got, want := tallies(rd), tallies(rctab.Rounds[i+1]); got != want {
			t.Errorf("round %d: %s\nRCTab's round %d: %s", i+1, got, i+2, want)
		}
	}
	if fmt.Sprint(imported.Winners) != fmt.Sprint(rctab.Winners) {
		t.Errorf("winners %v, RCTab's %v", imported.Winners, rctab.Winners)
	}
}
