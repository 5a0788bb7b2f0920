// Package runoff holds the domain types and the message contract shared by
// the web, the worker and the store. It imports nothing of the project.
package runoff

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Routing keys: one per action the web publishes and the worker carries out.
const (
	KeyElectionCreate = "election.create"
	KeyVoteSubmit     = "vote.submit"
	// KeyVoteSeal follows a closed election's ballots through the votes
	// queue; once it is through, every ballot received before the close
	// has been carried out, and the count is final.
	KeyVoteSeal = "vote.seal"
)

// Limits that the web checks and the worker checks again: every message is
// validated where it is carried out, not only where it was made.
const (
	MinCandidates           = 2
	MaxCandidates           = 100
	MaxCandidateName        = 200
	MaxCandidateDescription = 300
	MaxTitle                = 200
	MaxDescription          = 5000
	MaxSeats                = 50
	MaxEmail                = 254
	MinPasswordLength       = 10
	MaxPasswordLength       = 72 // bcrypt reads no further
)

// Election status.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Ballot state as the receipt shows it.
const (
	BallotQueued   = "queued"
	BallotCounted  = "counted"
	BallotRejected = "rejected"
)

// Organizer is an account that creates and runs elections.
type Organizer struct {
	ID           uuid.UUID `db:"id"`
	Email        string    `db:"email"`
	PasswordHash string    `db:"password_hash"`
	CreatedAt    time.Time `db:"created_at"`
}

// Candidate is one choice on a ballot. Position is the order the organizer
// listed it in, which tie-breaks use; Description is an optional line the
// ballot shows under the name.
type Candidate struct {
	ID          uuid.UUID `db:"id" json:"id"`
	Name        string    `db:"name" json:"name"`
	Position    int       `db:"position" json:"position"`
	Description string    `db:"description" json:"description,omitempty"`
}

// Election is an election as stored, with its candidates in listed order.
// Status is the state the organizer last set (draft, open, closed); the
// state at a moment also depends on the schedule: see StateAt.
type Election struct {
	ID             uuid.UUID `db:"id"`
	OwnerID        uuid.UUID `db:"owner_id"`
	Title          string    `db:"title"`
	Description    string    `db:"description"`
	Seats          int       `db:"seats"`
	Status         string    `db:"status"`
	BallotsCounted int64     `db:"ballots_counted"`
	CreatedAt      time.Time `db:"created_at"`
	// KeysIssued and KeysUsed count voter keys: issued, and used to cast a
	// ballot that counted.
	KeysIssued int64 `db:"keys_issued"`
	KeysUsed   int64 `db:"keys_used"`
	Settings
	// OpenedAt and ClosedAt are when the organizer opened or closed it by
	// hand (the web's time of the request).
	OpenedAt *time.Time `db:"opened_at"`
	ClosedAt *time.Time `db:"closed_at"`
	// FinalAt is when the count became final: closed, with every ballot
	// received before the close carried out.
	FinalAt *time.Time `db:"final_at"`
	// CountsVersion grows with every change to what the count depends on.
	CountsVersion int64       `db:"counts_version"`
	Candidates    []Candidate `db:"-"`
}

// CandidateByID returns the candidate with that ID, if it stands.
func (e *Election) CandidateByID(id uuid.UUID) (Candidate, bool) {
	for _, c := range e.Candidates {
		if c.ID == id {
			return c, true
		}
	}
	return Candidate{}, false
}

// Ballot is a stored ballot: the ranking as submitted and what became of it.
type Ballot struct {
	ID          uuid.UUID   `db:"id"`
	ElectionID  uuid.UUID   `db:"election_id"`
	Ranking     []uuid.UUID `db:"-"`
	Status      string      `db:"status"`
	Reason      string      `db:"reason"`
	SubmittedAt time.Time   `db:"submitted_at"`
	StoredAt    time.Time   `db:"stored_at"`
}

// ResultSnapshot is the count the worker last made of an election: the
// RCTab detailed-report JSON, served as it is, and the results model the
// pages format.
type ResultSnapshot struct {
	ElectionID     uuid.UUID
	BallotsCounted int64
	// CountsVersion is the election's counts version it was made from.
	CountsVersion int64
	Report        []byte
	Model         Results
	// Rules are the counting rules under RCTab's names (JSON), which
	// runoff tabulate --rules reads.
	Rules      []byte
	ComputedAt time.Time
}

// ElectionCreate is the body of an election.create message. Draft keeps
// it editable until opened by hand or by Settings.OpensAt; otherwise it
// opens at once. Settings left empty take DefaultSettings.
type ElectionCreate struct {
	ElectionID  uuid.UUID   `json:"election_id"`
	OwnerID     uuid.UUID   `json:"owner_id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Seats       int         `json:"seats"`
	Candidates  []Candidate `json:"candidates"`
	Draft       bool        `json:"draft,omitempty"`
	Settings    Settings    `json:"settings"`
	RequestedAt time.Time   `json:"requested_at"`
}

// VoteSubmit is the body of a vote.submit message. Ranking holds candidate
// IDs, most preferred first.
type VoteSubmit struct {
	BallotID    uuid.UUID   `json:"ballot_id"`
	ElectionID  uuid.UUID   `json:"election_id"`
	Ranking     []uuid.UUID `json:"ranking"`
	SubmittedAt time.Time   `json:"submitted_at"`
	// KeyHash is the hash of the voter key it was cast with (HashKey), for
	// an election that takes keys; never the key itself.
	KeyHash string `json:"key_hash,omitempty"`
}

// Error kinds. Handlers and the worker wrap these; one place turns them into
// statuses, pages or dead letters.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid")
	ErrConflict     = errors.New("conflict")
	ErrUnavailable  = errors.New("unavailable")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
)

// Problem is a user-facing error: Kind says what sort, Message says what to
// do about it in words a voter or organizer understands. Fields maps a form
// field to its own message.
type Problem struct {
	Kind    error
	Message string
	Fields  map[string]string
}

func (p *Problem) Error() string { return fmt.Sprintf("%v: %s", p.Kind, p.Detail()) }

// Detail is the message followed by each field's own message (in the
// fields' name order), for places that show no form to mark: a dead
// letter's reason, a log line.
func (p *Problem) Detail() string {
	if len(p.Fields) == 0 {
		return p.Message
	}
	keys := make([]string, 0, len(p.Fields))
	for k := range p.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(strings.TrimRight(p.Message, ".:; "))
	b.WriteString(":")
	for _, k := range keys {
		b.WriteString(" ")
		b.WriteString(p.Fields[k])
	}
	return b.String()
}

// Reason says in words why an error stopped a message, for the organizer
// who reads it among held messages: a Problem's own detail, or a plain
// sentence for anything else. The error itself, which may hold a
// database's internals, belongs in the log, not here.
func Reason(err error) string {
	var p *Problem
	switch {
	case err == nil:
		return ""
	case errors.As(err, &p):
		return p.Detail()
	case errors.Is(err, ErrInvalid):
		return "Runoff's database refused this message's data, so it cannot be carried out as it is."
	default:
		return "Runoff could not carry this message out."
	}
}
func (p *Problem) Unwrap() error { return p.Kind }

// Invalid makes a Problem of kind ErrInvalid.
func Invalid(msg string, fields map[string]string) *Problem {
	return &Problem{Kind: ErrInvalid, Message: msg, Fields: fields}
}

// KeyDeadLetterRequeue asks the worker to publish a dead-lettered message
// again, after the organizer fixed what stopped it.
const KeyDeadLetterRequeue = "deadletter.requeue"

// DeadLetter is a message the worker could never carry out, with the reason.
type DeadLetter struct {
	ID         uuid.UUID  `db:"id"`
	ElectionID *uuid.UUID `db:"election_id"`
	// OrganizerID is the organizer whose action the message was (an
	// election.create's owner, a requeue's requester); nil for ballots.
	// Only that organizer sees it among an election's held messages.
	OrganizerID *uuid.UUID `db:"organizer_id"`
	MessageID   string     `db:"message_id"`
	RoutingKey  string     `db:"routing_key"`
	Queue       string     `db:"queue"`
	Reason      string     `db:"reason"`
	Body        []byte     `db:"body"`
	DeadAt      time.Time  `db:"dead_at"`
	RequeuedAt  *time.Time `db:"requeued_at"`
}

// DeadLetterRequeue is the body of a deadletter.requeue message. The worker
// checks that the organizer owns the election the dead letter belongs to.
type DeadLetterRequeue struct {
	DeadLetterID uuid.UUID `json:"dead_letter_id"`
	ElectionID   uuid.UUID `json:"election_id"`
	OrganizerID  uuid.UUID `json:"organizer_id"`
	RequestedAt  time.Time `json:"requested_at"`
}

// VoteSeal is the body of a vote.seal message: ClosedAt is the close it
// seals, so a seal sent before a reopen and a second close seals nothing.
type VoteSeal struct {
	ElectionID uuid.UUID `json:"election_id"`
	ClosedAt   time.Time `json:"closed_at"`
}
