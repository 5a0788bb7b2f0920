package runoff

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// The worker's decisions: pure functions of what is stored and the message,
// so that each outcome and its reason can be tested without a database or a
// broker. The store calls them inside the transaction that persists the
// outcome.

// BallotDecision is what becomes of a vote.submit. Dead is set when the
// message can never be carried out (no such election, no ballot ID): it is
// dead-lettered with that reason. Otherwise the ballot is stored with
// Status (counted or rejected) and, when rejected, the Reason the receipt
// shows.
type BallotDecision struct {
	Status string
	Reason string
	Dead   string
}

// DecideBallot decides a vote.submit against its election, nil when there
// is no such election.
func DecideBallot(e *Election, v VoteSubmit) BallotDecision {
	switch {
	case v.BallotID == uuid.Nil:
		return BallotDecision{Dead: "This ballot message has no ballot ID, so it cannot be stored or receipted."}
	case e == nil:
		return BallotDecision{Dead: fmt.Sprintf("There is no election %s (yet): the ballot names an election that was never created.", v.ElectionID)}
	}
	// The state that counts is the one when the web received the ballot:
	// one received before the close and carried out after it counts.
	switch e.StateAt(v.SubmittedAt) {
	case StatusClosed:
		return BallotDecision{Status: BallotRejected, Reason: "The election had closed when this ballot arrived."}
	case StatusDraft:
		return BallotDecision{Status: BallotRejected, Reason: "The election was not open yet when this ballot arrived."}
	}
	if err := ValidateRanking(e, v.Ranking); err != nil {
		return BallotDecision{Status: BallotRejected, Reason: Reason(err)}
	}
	return BallotDecision{Status: BallotCounted}
}

// DecideBallotAgain decides a vote.submit whose ballot ID is already
// stored. The same ballot again (a redelivery, a retried form) changes
// nothing; a different ballot under the same ID is refused, with a reason
// its receipt page shows, rather than dropped in silence.
func DecideBallotAgain(stored *Ballot, v VoteSubmit) (dead string) {
	if stored.ElectionID == v.ElectionID && slices.Equal(stored.Ranking, v.Ranking) {
		return ""
	}
	return fmt.Sprintf("A different ballot was already stored under receipt number %s, so this one was not counted. "+
		"Open the ballot page again to vote with a new ballot.", v.BallotID)
}

// DecideElectionCreate decides an election.create. ownerExists says whether
// its organizer has an account; existing is the election already stored
// under its ID, or nil. It returns "" to create the election (or to do
// nothing, when the same election is already there), or the reason it can
// never be created.
func DecideElectionCreate(m ElectionCreate, ownerExists bool, existing *Election) (dead string) {
	if err := ValidateElection(m); err != nil {
		return Reason(err)
	}
	if !ownerExists {
		return fmt.Sprintf("There is no organizer account %s to own this election.", m.OwnerID)
	}
	if existing != nil && !sameElection(existing, m) {
		return fmt.Sprintf("Election ID %s is already taken by another election, so this one was not created. "+
			"Open the new-election form again and submit it from there.", m.ElectionID)
	}
	return ""
}

// sameElection reports whether a stored election is the one m creates: a
// redelivery or a resubmitted form, not another election under its ID.
func sameElection(e *Election, m ElectionCreate) bool {
	if e.OwnerID != m.OwnerID || e.Title != m.Title || e.Description != m.Description || e.Seats != m.Seats ||
		len(e.Candidates) != len(m.Candidates) {
		return false
	}
	for i, c := range e.Candidates {
		if c != m.Candidates[i] {
			return false
		}
	}
	return true
}

// DecideRequeue decides a deadletter.requeue: dl is the dead letter it
// names and e the election it names (nil when missing). It returns "" when
// the message may be published again, or the reason it may not: the web
// checks ownership before publishing, and the worker checks again, so a
// forged request is refused here.
func DecideRequeue(m DeadLetterRequeue, dl *DeadLetter, e *Election) (refused string) {
	switch {
	case dl == nil:
		return fmt.Sprintf("There is no held message %s to requeue.", m.DeadLetterID)
	case dl.ElectionID == nil || *dl.ElectionID != m.ElectionID:
		return fmt.Sprintf("Held message %s does not belong to election %s.", m.DeadLetterID, m.ElectionID)
	case e == nil:
		return fmt.Sprintf("There is no election %s.", m.ElectionID)
	case e.OwnerID != m.OrganizerID:
		return fmt.Sprintf("Organizer %s does not own election %s, so its held messages are not theirs to requeue.", m.OrganizerID, e.ID)
	}
	return ""
}

// DecideUpdate decides an election.update against the election as stored
// (nil when there is none) at now.
func DecideUpdate(e *Election, m ElectionUpdate, now time.Time) (dead string) {
	switch {
	case e == nil:
		return fmt.Sprintf("There is no election %s to change.", m.ElectionID)
	case e.OwnerID != m.OrganizerID:
		return fmt.Sprintf("Organizer %s does not own election %s, so it is not theirs to change.", m.OrganizerID, e.ID)
	}
	return Reason(ValidateUpdate(e, m, now))
}

// Transition is what an election.open, .close, .reopen or .delete does to
// an election. Nothing set means nothing to do (the same request again).
type Transition struct {
	Status   string     // the new status, or "" to keep it
	OpenedAt *time.Time // set when opened
	ClosedAt *time.Time // set when closed; cleared (with Reopen) when reopened
	Reopen   bool
	ClosesAt *time.Time // the new closing time when reopened (nil: none)
	// ClearOpensAt drops a scheduled opening that an opening by hand
	// overtook.
	ClearOpensAt bool
	// DrawSeed asks for a random tie-break's seed to be drawn now, if the
	// election has none yet (one is drawn when a random rule is saved).
	DrawSeed bool
	Delete   bool
}

// DecideAction decides an election.open, .close, .reopen or .delete: the
// transition to make, or the reason it cannot be made.
func DecideAction(key string, e *Election, m ElectionAction) (t Transition, dead string) {
	switch {
	case e == nil:
		if key == KeyElectionDelete {
			return Transition{}, "" // deleted before: the same request again
		}
		return Transition{}, fmt.Sprintf("There is no election %s.", m.ElectionID)
	case e.OwnerID != m.OrganizerID:
		return Transition{}, fmt.Sprintf("Organizer %s does not own election %s, so it is not theirs to change.", m.OrganizerID, e.ID)
	}
	at := m.At
	state := e.StateAt(at)
	random := e.Tiebreak == TiebreakRandom || e.Tiebreak == TiebreakPreviousRoundThenRandom
	switch key {
	case KeyElectionOpen:
		switch state {
		case StatusOpen:
			return Transition{}, ""
		case StatusClosed:
			return Transition{}, "The election has closed; reopen it instead."
		}
		return Transition{Status: StatusOpen, OpenedAt: &at, ClearOpensAt: true, DrawSeed: random && e.RandomSeed == nil}, ""
	case KeyElectionClose:
		switch state {
		case StatusClosed:
			return Transition{}, ""
		case StatusDraft:
			return Transition{}, "The election has not opened, so there is nothing to close."
		}
		return Transition{Status: StatusClosed, ClosedAt: &at}, ""
	case KeyElectionReopen:
		switch state {
		case StatusOpen:
			return Transition{}, ""
		case StatusDraft:
			return Transition{}, "The election has not opened yet; open it instead."
		}
		if m.ClosesAt != nil && !m.ClosesAt.After(at) {
			return Transition{}, "The new closing time must be in the future."
		}
		return Transition{Status: StatusOpen, Reopen: true, ClosesAt: m.ClosesAt}, ""
	case KeyElectionDelete:
		switch {
		case state == StatusOpen:
			return Transition{}, "The election is open; close it before deleting it."
		case state == StatusClosed && m.Confirm != e.Title:
			return Transition{}, "To delete a closed election and all its ballots, type its title exactly to confirm."
		}
		return Transition{Delete: true}, ""
	}
	return Transition{}, fmt.Sprintf("Runoff has no action for messages of kind %q.", key)
}
