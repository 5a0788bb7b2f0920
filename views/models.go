// Package views renders Runoff's pages with templ. It knows nothing of
// storage or HTTP: handlers fill the view models below.
package views

import "github.com/a-h/templ"

// Page is what the layout needs from every page.
type Page struct {
	Title string
	// Email is the signed-in organizer's, or empty.
	Email string
	// Refresh, when > 0, makes the page reload itself after that many
	// seconds for browsers without JavaScript (htmx polls for the rest).
	Refresh int
	// Revision is the commit this build was made from, short, or "".
	Revision string
	// Head is a page's own additions to <head> (a stylesheet, Open Graph
	// tags), or nil.
	Head templ.Component
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

// ElectionForm is the new-election form, or a draft's edit form, with
// what was typed. Times are as a datetime-local input writes them, in
// Timezone.
type ElectionForm struct {
	ElectionID  string // made when the form is shown; see handlers.formID
	Editing     bool   // a draft's edit form, not the new-election form
	Title       string
	Description string
	Candidates  string
	Seats       string
	WinnerMode  string
	Tiebreak    string
	MaxRanks    string
	Results     string
	OpensAt     string
	ClosesAt    string
	Timezone    string
	Access      string // open or keys
	Changes     string // "allowed" or empty
	Draft       bool
	Message     string
	Errors      FieldErrors
	WinnerModes []Choice
	Tiebreaks   []Choice
	ResultsOpts []Choice
}

// TieView is a tie the count waits on.
type TieView struct {
	Round int
	Tied  []string
	Votes string // "2 votes"
	Verb  string // "eliminated" or "elected"
}

// Choice is one option of a select.
type Choice struct {
	Value, Label string
}

// ElectionItem is one row of the organizer's list.
type ElectionItem struct {
	ID       string
	Title    string
	Status   string // the state now: draft, open or closed
	Ballots  int64
	Created  string
	Schedule string // when it opens or closes, if scheduled
	Held     int    // messages held, not yet requeued
	Final    bool   // the count is final
	// Keys says how many voter keys were used of those issued, for an
	// election that takes keys.
	Keys string
}

// AdminListPage is the organizer's dashboard.
type AdminListPage struct {
	Items  []ElectionItem
	Notice string
	// Waiting is how many ballots wait to be counted across Runoff, or -1
	// when unknown.
	Waiting int
}

// ElectionAdmin is an election's admin page. Pending means the worker has
// not stored it yet; Refused, that it never will, and why.
type ElectionAdmin struct {
	ID          string
	Pending     bool
	Refused     string
	Title       string
	Description string
	Status      string // the state now: draft, open or closed
	Candidates  []string
	Ballots     int64
	BallotURL   string
	BallotQR    string // a data: URL of a QR code of BallotURL
	ResultsURL  string
	DeadLetters int // messages held, not yet requeued
	// Settings in words, for the summary.
	Method, Seats, Tiebreak, Ranks, ResultsWho, Opens, Closes string
	// Change is a change the organizer sent: "saving" until the worker has
	// carried it out, then "saved"; ChangeRefused says why it was not.
	Change        string
	ChangeRefused string
	ChangeID      string
	Timezone      string
	// ImportError says why a file of paper ballots was not imported;
	// ImportNames and ImportContest are what the form held, and
	// ImportNamesError what is wrong with the map of names.
	ImportError, ImportNames, ImportContest, ImportNamesError string
	// Tie is the tie the count is waiting on the organizer to break.
	Tie *TieView
	// Edit is the draft's edit form; Later the form for what may change
	// once open (closing time, description, who sees results).
	Edit  *ElectionForm
	Later *ElectionForm
	// Keys is the voter-keys section.
	Keys KeysSection
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
	ID          string
	Name        string
	Description string
}

// BallotPage is the voting form. Chosen holds, per rank (0-based), the
// candidate ID chosen there, to keep a voter's marks when the form comes
// back with an error.
type BallotPage struct {
	ElectionID  string
	BallotID    string // made when the ballot is shown; see handlers.formID
	Title       string
	Description string
	State       string // draft, open or closed, now
	// Opens and Closes say when, as " on Mon 2 Jan 2006, 18:00 CET", or
	// are empty when not scheduled.
	Opens, Closes string
	Ranks         int    // how many ranks the voter may fill
	RankLimit     string // ", up to 3" when fewer ranks than candidates
	Options       []BallotOption
	Chosen        []string
	Error         string
	// Errors marks the ranks at fault (rank1, rank2, …).
	Errors FieldErrors
	// ResultsVisible says whether this visitor may see the results.
	ResultsVisible bool
	// For an election that takes voter keys: Key is the voter's key,
	// carried in the form; KeyNeeded asks for one (KeyProblem says what
	// was wrong with the one given); KeySpent says the key cast its one
	// ballot; Current is the receipt of the key's current ballot when
	// voters may change their vote.
	Keys       bool
	Key        string
	KeyNeeded  bool
	KeySpent   bool
	KeyProblem string
	Current    string
}

// Receipt is a ballot's receipt.
// Review is a ballot read back before it is cast: the ranking in order,
// the candidates left unranked, and the form's fields to cast or change it.
type Review struct {
	ElectionID string
	BallotID   string
	Title      string
	Key        string // the voter key, carried on, for an election that takes them
	Ranked     []BallotOption
	Unranked   []string
	Candidates int
	Limit      int  // the most ranks a voter may fill, when fewer than the candidates
	Skipped    bool // a blank rank came before a marked one, and the ranks closed up
	Closes     string
}

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
	// ResultsVisible says whether this visitor may see the results.
	ResultsVisible bool
}

// Results is an election's results, round by round.
type Results struct {
	ElectionID string
	Title      string
	Open       bool
	Ballots    string
	Computed   string
	Rounds     []string // each round's heading
	Rows       []ResultRow
	Inactive   []string // per round: ballots no longer counting for anyone
	Threshold  []string // per round
	Winners    []string
	TieBreaks  []string
	Empty      bool
	Stale      bool // more ballots are counted than this snapshot shows
	// Hidden says why this visitor may not see the results (yet).
	Hidden       string
	Waiting      string // the tie the count waits on, in words
	Final        string // when the count became final, or ""
	Seats        int
	Method       string
	TiebreakRule string
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

// AuditPage is an election's audit log.
type AuditPage struct {
	ElectionID string
	Title      string
	Entries    []AuditEntry
}

// AuditEntry is one organizer action.
type AuditEntry struct {
	What, Detail, By, When, Done string
}

// PrintSummary is the printable results summary.
type PrintSummary struct {
	Results     Results
	Description string
	Printed     string
	URL         string
}

// KeysSection is the voter-keys part of an election's admin page. On:
// the election takes keys; Ready: this server can derive them (it has a
// KEYS_SECRET). BatchID is made when the form is shown, so sending it
// twice issues one batch. Error, Count and Voters are the form sent back.
type KeysSection struct {
	On, Changes, Ready, Closed bool
	Issued, Used               int64
	BatchID                    string
	Error, Count, Voters       string
	// Mail: the site sends email; Invited, how many invitations have gone,
	// of Inviting asked for just now (0 if none); InviteError, why not.
	Mail              bool
	Invited, Inviting int
	InviteError       string
}

// KeysSheet is the printable sheet of an election's voter keys.
type KeysSheet struct {
	ElectionID string
	Title      string
	BallotURL  string
	Cards      []KeyCard
}

// KeyCard is one key on the sheet: QR is a data: URL of a QR code of Link.
type KeyCard struct {
	Number int
	Voter  string
	Key    string
	Link   string
	QR     string
}

// PasswordForm chooses a new password; Current asks for the present one.
type PasswordForm struct {
	Action  string
	Current bool
	Message string
	Errors  FieldErrors
}

// importErrors marks the import form's map of names when it is wrong.
func (v ElectionAdmin) importErrors() FieldErrors {
	if v.ImportNamesError == "" {
		return nil
	}
	return FieldErrors{"import-names": v.ImportNamesError}
}

// from says what the file was: "File read as: ES&S workbook, contest “Mayor”."
func (v ImportProgress) from() string {
	s := "File read as: " + v.Format
	if v.Contest != "" {
		s += ", contest “" + v.Contest + "”"
	}
	return s + "."
}

// ImportProgress is an import's page.
type ImportProgress struct {
	ElectionID, ImportID, Title string
	Total, Stored, Percent      int
	Query                       string // the page's own query, for polling
	// Format and Contest say what the file was, when a voting system's
	// export; Notes what the import made of its ballots beyond the count.
	Format, Contest string
	Notes           []string
}

// ForgotForm asks for an email to send a password link to.
type ForgotForm struct {
	Mail    bool // the site sends email
	Sent    bool
	Email   string
	Message string
	Errors  FieldErrors
}
