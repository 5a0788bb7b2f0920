package runoff_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

func stored(m runoff.ElectionCreate, status string) *runoff.Election {
	return &runoff.Election{ID: m.ElectionID, OwnerID: m.OwnerID, Title: m.Title, Description: m.Description, Seats: m.Seats,
		Status: status, Candidates: m.Candidates}
}

func TestDecideBallot(t *testing.T) {
	m := election("Ada", "Grace")
	open := stored(m, runoff.StatusOpen)
	closed := stored(m, runoff.StatusClosed)
	ada, grace := m.Candidates[0].ID, m.Candidates[1].ID
	ballot := func(ranking ...uuid.UUID) runoff.VoteSubmit {
		return runoff.VoteSubmit{BallotID: uuid.New(), ElectionID: m.ElectionID, Ranking: ranking}
	}
	noID := ballot(ada)
	noID.BallotID = uuid.Nil
	for _, tc := range []struct {
		name string
		e    *runoff.Election
		v    runoff.VoteSubmit
		want runoff.BallotDecision
	}{
		{"counted", open, ballot(ada, grace), runoff.BallotDecision{Status: runoff.BallotCounted}},
		{"closed", closed, ballot(ada), runoff.BallotDecision{Status: runoff.BallotRejected, Reason: "The election had closed when this ballot arrived."}},
		{"twice", open, ballot(ada, ada), runoff.BallotDecision{Status: runoff.BallotRejected, Reason: "You ranked Ada both 1st and 2nd. Rank each candidate at most once."}},
		{"stranger", open, ballot(uuid.New()), runoff.BallotDecision{Status: runoff.BallotRejected, Reason: "Your 1st choice is not a candidate in this election. Please choose again."}},
		{"empty", open, ballot(), runoff.BallotDecision{Status: runoff.BallotRejected, Reason: "Choose at least one candidate: mark your 1st choice."}},
		{"no election", nil, ballot(ada), runoff.BallotDecision{Dead: fmt.Sprintf("There is no election %s (yet): the ballot names an election that was never created.", m.ElectionID)}},
		{"no ballot ID", open, noID, runoff.BallotDecision{Dead: "This ballot message has no ballot ID, so it cannot be stored or receipted."}},
	} {
		if got := runoff.DecideBallot(tc.e, tc.v); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestDecideBallotAgain(t *testing.T) {
	m := election("Ada", "Grace")
	ada, grace := m.Candidates[0].ID, m.Candidates[1].ID
	v := runoff.VoteSubmit{BallotID: uuid.New(), ElectionID: m.ElectionID, Ranking: []uuid.UUID{ada, grace}}
	same := &runoff.Ballot{ID: v.BallotID, ElectionID: m.ElectionID, Ranking: []uuid.UUID{ada, grace}}
	if got := runoff.DecideBallotAgain(same, v); got != "" {
		t.Errorf("the same ballot again: %q", got)
	}
	want := fmt.Sprintf("A different ballot was already stored under receipt number %s, so this one was not counted. Open the ballot page again to vote with a new ballot.", v.BallotID)
	for name, b := range map[string]*runoff.Ballot{
		"other ranking":  {ElectionID: m.ElectionID, Ranking: []uuid.UUID{grace, ada}},
		"other election": {ElectionID: uuid.New(), Ranking: []uuid.UUID{ada, grace}},
		"shorter":        {ElectionID: m.ElectionID, Ranking: []uuid.UUID{ada}},
	} {
		if got := runoff.DecideBallotAgain(b, v); got != want {
			t.Errorf("%s: %q", name, got)
		}
	}
}

func TestDecideElectionCreate(t *testing.T) {
	m := election("Ada", "Grace")
	if got := runoff.DecideElectionCreate(m, true, nil); got != "" {
		t.Errorf("new election: %q", got)
	}
	if got := runoff.DecideElectionCreate(m, true, stored(m, runoff.StatusOpen)); got != "" {
		t.Errorf("the same election again: %q", got)
	}
	if got, want := runoff.DecideElectionCreate(m, false, nil), fmt.Sprintf("There is no organizer account %s to own this election.", m.OwnerID); got != want {
		t.Errorf("no owner: %q", got)
	}
	taken := fmt.Sprintf("Election ID %s is already taken by another election, so this one was not created. Open the new-election form again and submit it from there.", m.ElectionID)
	other := stored(m, runoff.StatusOpen)
	other.OwnerID = uuid.New()
	renamed := stored(m, runoff.StatusOpen)
	renamed.Candidates = append([]runoff.Candidate{}, m.Candidates...)
	renamed.Candidates[1].Name = "Grace Hopper"
	retitled := stored(m, runoff.StatusOpen)
	retitled.Title = "Another"
	for name, e := range map[string]*runoff.Election{"another organizer's": other, "other candidates": renamed, "other title": retitled} {
		if got := runoff.DecideElectionCreate(m, true, e); got != taken {
			t.Errorf("%s: %q", name, got)
		}
	}
	// A reason keeps its fields: the organizer reads which one was wrong.
	bad := election("Ada")
	bad.Title = ""
	want := "The election could not be created: List at least 2 candidates, one per line. Give the election a title."
	if got := runoff.DecideElectionCreate(bad, true, nil); got != want {
		t.Errorf("invalid: %q, want %q", got, want)
	}
}

func TestDecideRequeue(t *testing.T) {
	owner, stranger := uuid.New(), uuid.New()
	e := &runoff.Election{ID: uuid.New(), OwnerID: owner}
	dl := &runoff.DeadLetter{ID: uuid.New(), ElectionID: &e.ID}
	req := runoff.DeadLetterRequeue{DeadLetterID: dl.ID, ElectionID: e.ID, OrganizerID: owner}
	if got := runoff.DecideRequeue(req, dl, e); got != "" {
		t.Errorf("owner's request refused: %q", got)
	}
	forged := req
	forged.OrganizerID = stranger
	otherElection := req
	otherElection.ElectionID = uuid.New()
	for _, tc := range []struct {
		name string
		m    runoff.DeadLetterRequeue
		dl   *runoff.DeadLetter
		e    *runoff.Election
		want string
	}{
		{"forged", forged, dl, e, fmt.Sprintf("Organizer %s does not own election %s, so its held messages are not theirs to requeue.", stranger, e.ID)},
		{"no dead letter", req, nil, e, fmt.Sprintf("There is no held message %s to requeue.", dl.ID)},
		{"another election's", otherElection, dl, e, fmt.Sprintf("Held message %s does not belong to election %s.", dl.ID, otherElection.ElectionID)},
		{"no election", req, dl, nil, fmt.Sprintf("There is no election %s.", e.ID)},
	} {
		if got := runoff.DecideRequeue(tc.m, tc.dl, tc.e); got != tc.want {
			t.Errorf("%s: %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{runoff.Invalid("Choose again.", nil), "Choose again."},
		{fmt.Errorf("store: votes: %w: %w", runoff.ErrInvalid, errors.New(`pq: duplicate key value violates unique constraint "x" (23505)`)),
			"Runoff's database refused this message's data, so it cannot be carried out as it is."},
		{errors.New("boom"), "Runoff could not carry this message out."},
	} {
		if got := runoff.Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
