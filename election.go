package runoff

import (
	"time"

	"github.com/google/uuid"
)

// An election's life: a draft can be edited; an open election takes
// ballots; a closed one takes none. Opening and closing happen by the
// organizer's button or by schedule (OpensAt, ClosesAt).
const (
	StatusDraft = "draft"
)

// Counting methods (RCTab's winner modes by name).
const (
	WinnerIRV        = "singleWinnerMajority"                    // instant runoff, one seat
	WinnerSTV        = "multiWinnerAllowMultipleWinnersPerRound" // single transferable vote: fractional surplus transfer
	WinnerBottomsUp  = "bottomsUp"                               // eliminate from the bottom until the seats are filled
	WinnerSequential = "multiPassIrv"                            // sequential instant runoff: one IRV per seat
)

// Tie-break rules (RCTab's modes by name, and Runoff's default).
const (
	TiebreakPreviousRoundThenOrder  = "previousRoundCountsThenCandidateOrder"
	TiebreakCandidateOrder          = "useCandidateOrder"
	TiebreakRandom                  = "random"
	TiebreakPreviousRoundThenRandom = "previousRoundCountsThenRandom"
)

// Who sees results, and when.
const (
	ResultsLive       = "live"        // everyone, as ballots are counted
	ResultsAfterClose = "after_close" // everyone once the election closes; the organizer always
	ResultsOrganizer  = "organizer"   // the organizer only
)

// Who may vote.
const (
	AccessOpen = "open" // anyone with the link; AccessKeys (keys.go): holders of a voter key
)

// Settings are how an election is run and counted.
type Settings struct {
	WinnerMode string `json:"winner_mode" db:"winner_mode"`
	Tiebreak   string `json:"tiebreak" db:"tiebreak"`
	// RandomSeed seeds a random tie-break; drawn when the election opens.
	RandomSeed *int64 `json:"random_seed,omitempty" db:"random_seed"`
	// MaxRanks is how many ranks a voter may fill; 0 means one per
	// candidate.
	MaxRanks int    `json:"max_ranks" db:"max_ranks"`
	Results  string `json:"results" db:"results_visibility"`
	Access   string `json:"access" db:"access"`
	// Changes is ChangesAllowed when a voter may replace their ballot
	// (keys only); see keys.go.
	Changes string `json:"changes,omitempty" db:"changes"`
	// OpensAt and ClosesAt schedule the election; Timezone is the IANA
	// zone the organizer gave them in, which voters see them in.
	OpensAt  *time.Time `json:"opens_at,omitempty" db:"opens_at"`
	ClosesAt *time.Time `json:"closes_at,omitempty" db:"closes_at"`
	Timezone string     `json:"timezone" db:"timezone"`
}

// DefaultSettings are what an election gets when its form says nothing:
// one seat by instant runoff, ties broken by the previous round's counts
// and then the order listed, results live, an open link.
func DefaultSettings() Settings {
	return Settings{WinnerMode: WinnerIRV, Tiebreak: TiebreakPreviousRoundThenOrder, Results: ResultsLive, Access: AccessOpen, Timezone: "UTC"}
}

// StateAt is the election's state at t, as its status and schedule make
// it: closed from its closing by hand (ClosedAt) or by schedule
// (ClosesAt); open once opened by hand or past OpensAt; a draft before.
// A ballot is judged by the state when the web received it, so one
// received before a close still counts when carried out after it.
func (e *Election) StateAt(t time.Time) string {
	switch {
	case e.Status == StatusClosed && (e.ClosedAt == nil || !t.Before(*e.ClosedAt)):
		return StatusClosed
	case e.ClosesAt != nil && !t.Before(*e.ClosesAt):
		return StatusClosed
	case e.Status == StatusOpen || e.Status == StatusClosed: // closed after t: open then
		return StatusOpen
	case e.OpensAt != nil && !t.Before(*e.OpensAt):
		return StatusOpen
	}
	return StatusDraft
}

// CandidateNames lists the candidates' names in the order listed.
func (e *Election) CandidateNames() []string {
	names := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		names[i] = c.Name
	}
	return names
}

// Routing keys of the organizer's changes to an election.
const (
	KeyElectionUpdate = "election.update"
	KeyElectionOpen   = "election.open"
	KeyElectionClose  = "election.close"
	KeyElectionReopen = "election.reopen"
	KeyElectionDelete = "election.delete"
)

// PublishedKeys lists every routing key the web and the worker publish;
// the topology must route each (a test checks it).
func PublishedKeys() []string {
	return []string{KeyElectionCreate, KeyElectionUpdate, KeyElectionOpen, KeyElectionClose, KeyElectionReopen,
		KeyElectionDelete, KeyElectionTiebreak, KeyElectionKeys, KeyElectionImport, KeyElectionInvite, KeyVoteSubmit, KeyVoteSeal, KeyDeadLetterRequeue, KeyAccountReset}
}

// KeyElectionChanged begins the routing key under which the worker
// announces, after its commit, that it changed an election
// (election.changed.<id>, body ElectionChanged), for every web process's
// election cache. Its two words after "election" keep it out of the
// organizers' queue (bound to election.*): it is a broadcast, not work.
const KeyElectionChanged = "election.changed"

// ElectionChanged is the body of an election.changed.<id> announcement.
type ElectionChanged struct {
	ElectionID uuid.UUID `json:"election_id"`
}

// ElectionChangeKeys are the organizer's requests that change what an
// election's ballot page shows; a web cache stops trusting its copy when
// it sees one, until the worker announces the change carried out.
func ElectionChangeKeys() []string {
	return []string{KeyElectionUpdate, KeyElectionOpen, KeyElectionClose, KeyElectionReopen, KeyElectionDelete}
}

// ElectionUpdate is the body of an election.update message: the election
// as the organizer's form left it. While a draft, every field applies;
// once open, only ClosesAt, Description and Results do.
type ElectionUpdate struct {
	ChangeID    uuid.UUID   `json:"change_id"`
	ElectionID  uuid.UUID   `json:"election_id"`
	OrganizerID uuid.UUID   `json:"organizer_id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Seats       int         `json:"seats"`
	Candidates  []Candidate `json:"candidates"`
	Settings    Settings    `json:"settings"`
	RequestedAt time.Time   `json:"requested_at"`
}

// ElectionAction is the body of election.open, .close, .reopen and
// .delete. At is when the web received the request: a close takes effect
// then, so a ballot the web received earlier still counts. Confirm is the
// election's title typed again, which deleting a closed election needs.
type ElectionAction struct {
	ChangeID    uuid.UUID  `json:"change_id"`
	ElectionID  uuid.UUID  `json:"election_id"`
	OrganizerID uuid.UUID  `json:"organizer_id"`
	At          time.Time  `json:"at"`
	ClosesAt    *time.Time `json:"closes_at,omitempty"` // reopen: the new closing time, if any
	Confirm     string     `json:"confirm,omitempty"`
}
