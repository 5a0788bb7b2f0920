package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

func upload(t *testing.T, c *http.Client, u, name string, data []byte) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, u, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

// A file of paper ballots is checked whole, then sent in batches; a file
// with a mistake sends nothing and names the line.
func TestImportPaperBallots(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	el := e.addElection(e.store.organizers["org@example.org"].ID, "Ada", "Grace", "Linus")
	e.store.mu.Lock()
	el.Settings = runoff.DefaultSettings()
	e.store.mu.Unlock()
	base := e.srv.URL + "/admin/elections/" + el.ID.String()

	var file strings.Builder
	file.WriteString("rank1,rank2,rank3\n")
	for i := range 2500 {
		file.WriteString([]string{"Ada,Grace,\n", "grace,,Linus\n", "Linus\n"}[i%3])
	}
	bad := strings.Replace(file.String(), "Linus\n", "Linus\nAda,Bob\n", 1)
	for _, tc := range []struct {
		name, data, want string
	}{
		{"unknown candidate", bad, `Nothing was imported: line 4 of the file: Rank 2 names "Bob", who is not a candidate in this election.`},
		{"twice", "Ada,Grace,Linus\n1,2,\n1,1,\n", "Nothing was imported: line 3 of the file: Two candidates are ranked 1st (an overvote), which Runoff does not count."},
		{"bad header", "first,second\nAda,Grace\n", `Nothing was imported: line 1 of the file: The header's column 1, "first", is neither rank1 nor a candidate of this election.`},
		{"empty", "", "Nothing was imported: line 1 of the file: The file is empty: it needs a header line, then one ballot a line."},
	} {
		resp, body := upload(t, c, base+"/import", "paper.csv", []byte(tc.data))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, html.EscapeString(tc.want)) {
			t.Errorf("%s: %d, want the words %q", tc.name, resp.StatusCode, tc.want)
		}
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("%d published from bad files", n)
	}

	resp, _ := upload(t, c, base+"/import", "paper.csv", []byte(file.String()))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d", resp.StatusCode)
	}
	msgs := e.pub.messages()
	if len(msgs) != 3 {
		t.Fatalf("%d batches published, want 3", len(msgs))
	}
	rows := 0
	var importID uuid.UUID
	for _, m := range msgs {
		var imp runoff.ElectionImport
		if m.key != runoff.KeyElectionImport || json.Unmarshal(m.body, &imp) != nil || imp.Total != 2500 || imp.ElectionID != el.ID || m.id != imp.BatchID.String() {
			t.Fatalf("batch %+v", imp)
		}
		rows += len(imp.Ballots)
		importID = imp.ImportID
	}
	if rows != 2500 || resp.Header.Get("Location") != fmt.Sprintf("/admin/elections/%s/imports/%s?of=2500", el.ID, importID) {
		t.Fatalf("%d rows, redirected to %s", rows, resp.Header.Get("Location"))
	}
	// The same file again: the same import and ballot IDs.
	upload(t, c, base+"/import", "again.csv", []byte(file.String()))
	var again runoff.ElectionImport
	json.Unmarshal(e.pub.messages()[3].body, &again)
	if again.ImportID != importID || again.Ballots[0].Row != 1 {
		t.Fatalf("the same file again: import %s", again.ImportID)
	}

	// Progress.
	e.store.mu.Lock()
	e.store.imports = map[uuid.UUID][2]int{importID: {2500, 1000}}
	e.store.mu.Unlock()
	_, body := get(t, c, e.srv.URL+resp.Header.Get("Location"))
	if !strings.Contains(body, "1000 of 2500 ballots stored") || !strings.Contains(body, `hx-trigger="every 1s"`) {
		t.Fatalf("progress:\n%s", body)
	}
	e.store.mu.Lock()
	e.store.imports[importID] = [2]int{2500, 2500}
	e.store.mu.Unlock()
	if _, body := get(t, c, e.srv.URL+resp.Header.Get("Location")); !strings.Contains(body, "All 2500 ballots are stored") || strings.Contains(body, "hx-trigger") {
		t.Fatalf("done:\n%s", body)
	}

	// Someone else's election: not found.
	stranger := e.client(t)
	signUp(t, e, stranger, "mallory@example.org")
	if resp, _ := upload(t, stranger, base+"/import", "x.csv", []byte(file.String())); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a stranger's import: %d", resp.StatusCode)
	}
}

// fakeBallotFiles reads Runoff's CSV as the web does; a file named *.xlsx
// stands for a voting system's export whose records are given, mapped by
// the domain's RecordMapper as the real reader's are.
type fakeBallotFiles struct {
	mu      sync.Mutex
	records []runoff.CastRecord
	opts    []runoff.ImportOptions
}

func (f *fakeBallotFiles) Read(_ context.Context, e *runoff.Election, name string, data []byte, opt runoff.ImportOptions) ([]runoff.ImportedBallot, runoff.ImportSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opts = append(f.opts, opt)
	if !strings.HasSuffix(name, ".xlsx") {
		b, err := runoff.ParseBallotFile(e, data)
		return b, runoff.ImportSummary{Records: len(b), Imported: len(b)}, err
	}
	if opt.Contest != "" && opt.Contest != "Mayor" {
		return nil, runoff.ImportSummary{}, &runoff.ImportError{Message: "The file has no ranked contest \"" + opt.Contest + "\"."}
	}
	m := runoff.NewRecordMapper(e, opt.Names)
	for _, r := range f.records {
		m.Add(r)
	}
	b, s, err := m.Result()
	s.Format, s.Contest = "ES&S workbook", "Mayor"
	return b, s, err
}

func uploadForm(t *testing.T, c *http.Client, u, name string, data []byte, fields map[string]string) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, u, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

// A voting system's export goes through the same form: the map of names
// and the contest reach the reader, a name no candidate matches stops the
// import with the names and how to map them (the form keeps what was
// typed), and an accepted file's page says what was made of it.
func TestImportVendorFile(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	el := e.addElection(e.store.organizers["org@example.org"].ID, "Ada", "Grace", "Linus")
	e.store.mu.Lock()
	el.Settings = runoff.DefaultSettings()
	e.store.mu.Unlock()
	base := e.srv.URL + "/admin/elections/" + el.ID.String()
	mark := func(where string, ranks ...[]string) runoff.CastRecord {
		r := runoff.CastRecord{Where: where}
		for i, n := range ranks {
			r.Ranks = append(r.Ranks, runoff.CastRank{Rank: i + 1, Names: n})
		}
		return r
	}
	e.files.records = []runoff.CastRecord{
		mark("cvr.xlsx row 2", []string{"Lovelace, Ada"}, []string{"Grace"}),
		mark("cvr.xlsx row 3", []string{"Grace", "Linus"}, []string{"Ada"}),
		mark("cvr.xlsx row 4"),
	}

	resp, body := uploadForm(t, c, base+"/import", "cvr.xlsx", []byte("PK"), map[string]string{"contest": "Mayor"})
	want := `Nothing was imported: The file names a candidate that this election does not have: "Lovelace, Ada" (1 time, first at cvr.xlsx row 2). If it is one of the candidates under another name, map it under “Names in the file”`
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, html.EscapeString(want)) || !strings.Contains(body, `value="Mayor"`) {
		t.Fatalf("unknown name: %d, want the words %q and the contest kept:\n%s", resp.StatusCode, want, body)
	}
	resp, body = uploadForm(t, c, base+"/import", "cvr.xlsx", []byte("PK"), map[string]string{"names": "Lovelace, Ada = Bob"})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "import-names-error") || !strings.Contains(body, "Lovelace, Ada = Bob</textarea>") {
		t.Fatalf("a map to no candidate: %d, want the names field marked and kept:\n%s", resp.StatusCode, body)
	}
	resp, body = uploadForm(t, c, base+"/import", "cvr.xlsx", []byte("PK"), map[string]string{"contest": "Sheriff"})
	if !strings.Contains(body, html.EscapeString(`Nothing was imported: The file has no ranked contest "Sheriff".`)) {
		t.Fatalf("unknown contest: %d\n%s", resp.StatusCode, body)
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("%d published from refused files", n)
	}

	resp, _ = uploadForm(t, c, base+"/import", "cvr.xlsx", []byte("PK"), map[string]string{"names": "Lovelace, Ada = Ada\n", "contest": "Mayor"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d", resp.StatusCode)
	}
	msgs := e.pub.messages()
	var imp runoff.ElectionImport
	if len(msgs) != 1 || json.Unmarshal(msgs[0].body, &imp) != nil || imp.Total != 2 || len(imp.Ballots) != 2 || imp.Ballots[1].Row != 2 {
		t.Fatalf("published %d: %+v", len(msgs), imp)
	}
	if names := e.files.opts[len(e.files.opts)-1]; len(names.Names) != 1 || names.Contest != "Mayor" {
		t.Errorf("options reaching the reader: %+v", names)
	}
	loc := resp.Header.Get("Location")
	e.store.mu.Lock()
	e.store.imports = map[uuid.UUID][2]int{imp.ImportID: {2, 2}}
	e.store.mu.Unlock()
	_, body = get(t, c, e.srv.URL+loc)
	for _, w := range []string{"File read as: ES&amp;S workbook, contest “Mayor”.", "1 ballot ranked no candidate who can be counted", "1 ballot marked more than one candidate at a rank", "All 2 ballots are stored"} {
		if !strings.Contains(body, w) {
			t.Errorf("progress page lacks %q:\n%s", w, body)
		}
	}
}
