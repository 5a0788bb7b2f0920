package runoff

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Tie-break rules that leave a tie to the organizer.
const (
	TiebreakAsk                  = "stopCountingAndAsk"
	TiebreakPreviousRoundThenAsk = "previousRoundCountsThenAsk"
)

// AsksOrganizer reports whether ties may be left to the organizer.
func (s Settings) AsksOrganizer() bool {
	return s.Tiebreak == TiebreakAsk || s.Tiebreak == TiebreakPreviousRoundThenAsk
}

// Tie kinds: what a tie decides.
const (
	TieElimination = "elimination"
	TieElection    = "election"
)

// KeyElectionTiebreak carries the organizer's choice in a tie.
const KeyElectionTiebreak = "election.tiebreak"

// TieWait is a tie the count stopped at, waiting for the organizer.
type TieWait struct {
	Pass  int      `json:"pass,omitempty"`
	Round int      `json:"round"`
	Kind  string   `json:"kind"`
	Tied  []string `json:"tied"`
	Votes string   `json:"votes"`
}

// TieDecision is the organizer's choice in a tie, recorded with who and
// when. It holds while the same candidates tie in the same round.
type TieDecision struct {
	ID        uuid.UUID `json:"change_id" db:"id"`
	Election  uuid.UUID `json:"election_id" db:"election_id"`
	Pass      int       `json:"pass,omitempty" db:"pass"`
	Round     int       `json:"round" db:"round"`
	Kind      string    `json:"kind" db:"kind"`
	Tied      []string  `json:"tied" db:"-"`
	Selected  string    `json:"selected" db:"selected"`
	DecidedBy uuid.UUID `json:"organizer_id" db:"decided_by"`
	DecidedAt time.Time `json:"at" db:"decided_at"`
}

// DecideTiebreak decides an election.tiebreak against the election (nil
// when there is none) and the tie its count is waiting on (nil when none).
func DecideTiebreak(e *Election, waiting *TieWait, m TieDecision) (dead string) {
	switch {
	case e == nil:
		return fmt.Sprintf("There is no election %s.", m.Election)
	case e.OwnerID != m.DecidedBy:
		return fmt.Sprintf("Organizer %s does not own election %s, so its ties are not theirs to break.", m.DecidedBy, e.ID)
	case !e.AsksOrganizer():
		return "This election's rules break ties without the organizer."
	case waiting == nil || waiting.Round != m.Round || waiting.Kind != m.Kind || waiting.Pass != m.Pass || !sameNames(waiting.Tied, m.Tied):
		return fmt.Sprintf("The count is not waiting on this tie (round %d) any more: new ballots may have changed it. Look at the election's page again.", m.Round)
	case !slices.Contains(m.Tied, m.Selected):
		return fmt.Sprintf("%q is not one of the tied candidates.", m.Selected)
	}
	return ""
}

func sameNames(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// ClosedSince is when the election closed, by hand or by schedule, as of
// now; nil while it is not closed.
func (e *Election) ClosedSince(now time.Time) *time.Time {
	if e.StateAt(now) != StatusClosed {
		return nil
	}
	if e.Status == StatusClosed && e.ClosedAt != nil && (e.ClosesAt == nil || e.ClosedAt.Before(*e.ClosesAt)) {
		return e.ClosedAt
	}
	if e.ClosesAt != nil {
		return e.ClosesAt
	}
	return e.ClosedAt
}
