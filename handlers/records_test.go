package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

func (f *fakeStore) AuditLog(_ context.Context, electionID uuid.UUID) ([]runoff.AuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.audit[electionID], nil
}

func (f *fakeStore) CountedBallots(_ context.Context, electionID uuid.UUID, fn func([]uuid.UUID) error) error {
	f.mu.Lock()
	var rankings [][]uuid.UUID
	for _, b := range f.ballots {
		if b.ElectionID == electionID && b.Status == runoff.BallotCounted {
			rankings = append(rankings, b.Ranking)
		}
	}
	f.mu.Unlock()
	for _, r := range rankings {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// The organizer's records: the ballots as a spreadsheet-safe CSV, and the
// audit log; another organizer gets 404 on each.
func TestRecords(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	owner := e.store.organizers["org@example.org"].ID
	el := e.addElection(owner, "=SUM(A1)", "Grace", "+1 Linus")
	e.store.mu.Lock()
	for _, r := range [][]int{{0, 1}, {2}, {1, 2, 0}} {
		b := &runoff.Ballot{ID: uuid.New(), ElectionID: el.ID, Status: runoff.BallotCounted}
		for _, i := range r {
			b.Ranking = append(b.Ranking, el.Candidates[i].ID)
		}
		e.store.ballots[b.ID] = b
	}
	e.store.ballots[uuid.New()] = &runoff.Ballot{ElectionID: el.ID, Status: runoff.BallotRejected, Ranking: []uuid.UUID{el.Candidates[1].ID}}
	e.store.audit = map[uuid.UUID][]runoff.AuditEntry{el.ID: {
		{Action: runoff.KeyElectionCreate, By: "org@example.org", RequestedAt: time.Now(), AppliedAt: time.Now()},
		{Action: runoff.KeyElectionTiebreak, Detail: "Chose Grace to be eliminated in round 2.", By: "org@example.org", RequestedAt: time.Now(), AppliedAt: time.Now()},
	}}
	e.store.mu.Unlock()
	base := e.srv.URL + "/admin/elections/" + el.ID.String()

	resp, body := get(t, c, base+"/ballots.csv")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("ballots.csv: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != "rank1,rank2,rank3" {
		t.Fatalf("ballots.csv:\n%s", body)
	}
	if !strings.Contains(body, "'=SUM(A1)") || !strings.Contains(body, "'+1 Linus") || strings.Contains(body, ",=SUM") {
		t.Errorf("formula-like names not neutralised:\n%s", body)
	}

	_, body = get(t, c, base+"/audit")
	for _, want := range []string{"Created the election", "Broke a tie", "Chose Grace to be eliminated in round 2.", "org@example.org"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}

	stranger := e.client(t)
	signUp(t, e, stranger, "mallory@example.org")
	for _, path := range []string{"/ballots.csv", "/audit", "/rules.json"} {
		if resp, _ := get(t, stranger, base+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s for another organizer: %d", path, resp.StatusCode)
		}
	}
}

// Results leave only as the organizer chose: the CSV and the printable
// summary too.
func TestResultsExportsFollowVisibility(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "A", "B")
	e.store.mu.Lock()
	el.Settings = runoff.DefaultSettings()
	el.Results = runoff.ResultsOrganizer
	e.store.results[el.ID] = &runoff.ResultSnapshot{ElectionID: el.ID, BallotsCounted: 2, Report: []byte(`{}`), ComputedAt: time.Now(),
		Model: runoff.Results{Seats: 1, Winners: []string{"A"}, Candidates: []string{"A", "B"}, Rounds: []runoff.ResultRound{{Number: 1, Threshold: "2", Inactive: runoff.Inactive{Total: "0"},
			Tally: []runoff.CandidateRound{{Name: "A", Votes: "2", Share: 100, Status: runoff.CandidateElected}, {Name: "B", Votes: "0", Status: runoff.CandidateContinuing}}}}}}
	e.store.mu.Unlock()
	results := e.srv.URL + "/e/" + el.ID.String() + "/results"
	for _, path := range []string{".csv", "/print"} {
		if resp, _ := get(t, e.srv.Client(), results+path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s hidden from the public: %d", path, resp.StatusCode)
		}
	}
	e.store.mu.Lock()
	el.Results = runoff.ResultsLive
	e.store.mu.Unlock()
	resp, body := get(t, e.srv.Client(), results+".csv")
	if resp.StatusCode != 200 || body != "candidate,Round 1\nA,2\nB,0\ninactive ballots,0\nvotes needed to win,2\n" {
		t.Fatalf("results.csv: %d\n%q", resp.StatusCode, body)
	}
	if resp, body := get(t, e.srv.Client(), results+"/print"); resp.StatusCode != 200 || !strings.Contains(body, "Printed ") || !strings.Contains(body, "<strong>A</strong>") {
		t.Fatalf("print: %d\n%s", resp.StatusCode, body)
	}
}

func (f *fakeStore) ImportProgress(_ context.Context, electionID, importID uuid.UUID) (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.imports[importID]
	return p[0], p[1], nil
}

func (f *fakeStore) InvitationsSent(_ context.Context, electionID uuid.UUID) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.invited[electionID], nil
}
