package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// An election the worker refused (its ID already taken) is not left
// "being set up" for ever: the page that waits for it says why, to the
// organizer who sent it.
func TestRefusedElectionShownToItsOrganizer(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "late@example.org")
	me := e.store.organizers["late@example.org"].ID
	id := uuid.Must(uuid.NewV7())
	resp, _ := post(t, c, e.srv.URL+"/admin/elections", url.Values{"election_id": {id.String()}, "title": {"Board"}, "candidates": {"A\nB"}, "seats": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if _, body := get(t, c, e.srv.URL+"/admin/elections/"+id.String()); !strings.Contains(body, "Setting up your election") {
		t.Fatal("not shown as being set up")
	}
	reason := "Election ID " + id.String() + " is already taken by another election, so this one was not created."
	e.store.mu.Lock()
	e.store.dead = append(e.store.dead, runoff.DeadLetter{ID: uuid.New(), ElectionID: &id, OrganizerID: &me, MessageID: id.String(),
		RoutingKey: runoff.KeyElectionCreate, Reason: reason, DeadAt: time.Now()})
	e.store.mu.Unlock()
	resp, body := get(t, c, e.srv.URL+"/admin/elections/"+id.String())
	if resp.StatusCode != 200 || !strings.Contains(body, "Your election could not be created") || !strings.Contains(body, reason) ||
		strings.Contains(body, "Setting up") || !strings.Contains(body, `href="/admin/elections/new"`) {
		t.Fatalf("refused election page: %d\n%s", resp.StatusCode, body)
	}

	// Another organizer's refused message, under an ID this one is waiting
	// for, is not theirs to read.
	other := uuid.New()
	e.store.mu.Lock()
	e.store.dead[len(e.store.dead)-1].OrganizerID = &other
	e.store.mu.Unlock()
	if _, body := get(t, c, e.srv.URL+"/admin/elections/"+id.String()); strings.Contains(body, reason) {
		t.Fatal("another organizer's refusal shown")
	}
}

// A second, different ballot under a receipt number already used is
// refused; the receipt says so beside the ballot that was counted.
func TestReceiptShowsRefusedSecondBallot(t *testing.T) {
	e := newEnv(t)
	el := e.addElection(uuid.New(), "A", "B")
	id := uuid.Must(uuid.NewV7())
	e.store.mu.Lock()
	e.store.ballots[id] = &runoff.Ballot{ID: id, ElectionID: el.ID, Ranking: []uuid.UUID{el.Candidates[0].ID}, Status: runoff.BallotCounted}
	e.store.mu.Unlock()
	c := e.client(t)
	if _, body := get(t, c, e.srv.URL+"/b/"+id.String()); strings.Contains(body, "was not counted") {
		t.Fatal("refusal shown with none")
	}
	reason := "A different ballot was already stored under receipt number " + id.String() + ", so this one was not counted."
	e.store.mu.Lock()
	e.store.dead = append(e.store.dead, runoff.DeadLetter{ID: uuid.New(), ElectionID: &el.ID, MessageID: id.String(), RoutingKey: runoff.KeyVoteSubmit, Reason: reason, DeadAt: time.Now()})
	e.store.mu.Unlock()
	_, body := get(t, c, e.srv.URL+"/b/"+id.String())
	if !strings.Contains(body, "counted") || !strings.Contains(body, "Another ballot sent with this receipt number was not counted. "+reason) {
		t.Fatalf("receipt:\n%s", body)
	}
}
