// Package views renders Runoff's pages with templ. It knows nothing of
// storage or HTTP: handlers fill the view models below.
package views

// Page is what the layout needs from every page.
type Page struct {
	Title string
	// Email is the signed-in organizer's, or empty.
	Email string
	// Refresh, when > 0, makes the page reload itself after that many
	// seconds for browsers without JavaScript (htmx polls for the rest).
	Refresh int
}

// FieldErrors maps a form field's name to what is wrong with it.
type FieldErrors map[string]string

// AuthForm is the sign-up or sign-in form.
type AuthForm struct {
	SignUp  bool
	Email   string
	Next    string
	Message string
	Errors  FieldErrors
}

// ElectionForm is the new-election form, with what was typed.
type ElectionForm struct {
	ElectionID  string // made when the form is shown; see handlers.formID
	Title       string
	Description string
	Candidates  string
	Seats       string
	Message     string
	Errors      FieldErrors
}

// ElectionItem is one row of the organizer's list.
type ElectionItem struct {
	ID      string
	Title   string
	Status  string
	Ballots int64
	Created string
}

// ElectionAdmin is an election's admin page. Pending means the worker has
// not stored it yet; Refused, that it never will, and why.
type ElectionAdmin struct {
	ID          string
	Pending     bool
	Refused     string
	Title       string
	Description string
	Status      string
	Candidates  []string
	Ballots     int64
	BallotURL   string
	ResultsURL  string
	DeadLetters int // messages held, not yet requeued
}

// DeadLettersPage lists an election's held messages.
type DeadLettersPage struct {
	ElectionID string
	Title      string
	Requeued   string // the dead letter whose requeue was just asked for
	Items      []DeadLetterItem
}

// DeadLetterItem is one held message.
type DeadLetterItem struct {
	ID        string
	What      string
	MessageID string
	Reason    string
	DeadAt    string
	Requeued  string // when, or empty
}

// BallotOption is one candidate as a choice on the ballot.
type BallotOption struct {
	ID   string
	Name string
}

// BallotPage is the voting form. Chosen holds, per rank (0-based), the
// candidate ID chosen there, to keep a voter's marks when the form comes
// back with an error.
type BallotPage struct {
	ElectionID  string
	BallotID    string // made when the ballot is shown; see handlers.formID
	Title       string
	Description string
	Open        bool
	Options     []BallotOption
	Chosen      []string
	Error       string
}

// Receipt is a ballot's receipt.
type Receipt struct {
	BallotID      string
	ElectionID    string
	ElectionTitle string
	State         string // queued, counted, rejected, held
	Reason        string
	Ranking       []string
	Known         bool // false: queued, and this browser does not hold what was submitted
	// Refused says why another ballot sent under this receipt number was
	// not counted (the ballot shown is the one that was).
	Refused string
}

// Results is an election's results, round by round.
type Results struct {
	ElectionID string
	Title      string
	Open       bool
	Ballots    string
	Computed   string
	Rounds     []int
	Rows       []ResultRow
	Inactive   []string // per round: ballots no longer counting for anyone
	Threshold  []string // per round
	Winners    []string
	TieBreaks  []string
	Empty      bool
	Stale      bool // more ballots are counted than this snapshot shows
}

// ResultRow is one candidate's line in the results table.
type ResultRow struct {
	Name  string
	Cells []ResultCell
}

// ResultCell is a candidate's tally in one round.
type ResultCell struct {
	Votes   string
	Percent string
	Status  string // "", "elected", "eliminated", "out" (no longer in the count)
}

// ErrorPage is shown for any failure.
type ErrorPage struct {
	Status  int
	Heading string
	Message string
}
