package runoff

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// SplitCandidates turns the organizer's one-name-per-line text into names,
// trimming space and dropping blank lines.
func SplitCandidates(text string) []string {
	var names []string
	for _, line := range strings.Split(text, "\n") {
		if name := strings.TrimSpace(line); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// ValidateElection checks an election.create message. The web calls it
// before publishing and the worker again before storing. Field keys match the
// form's field names.
func ValidateElection(m ElectionCreate) error {
	fields := validateContents(m.Title, m.Description, m.Seats, m.Candidates, m.Settings.WithDefaults())
	if m.ElectionID == uuid.Nil || m.OwnerID == uuid.Nil {
		fields["election_id"] = "The election and its owner need IDs."
	}
	if len(fields) > 0 {
		return Invalid("The election could not be created.", fields)
	}
	return nil
}

// ValidateUpdate checks an election.update against the election as it is:
// a draft may change anything; once open, only the closing time, the
// description and who sees results.
func ValidateUpdate(e *Election, m ElectionUpdate, now time.Time) error {
	var fields map[string]string
	if e.StateAt(now) == StatusDraft {
		fields = validateContents(m.Title, m.Description, m.Seats, m.Candidates, m.Settings.WithDefaults())
	} else {
		fields = map[string]string{}
		frozen := m.Title != e.Title || m.Seats != e.Seats || !slices.Equal(m.Candidates, e.Candidates) ||
			m.Settings.WinnerMode != e.WinnerMode || m.Settings.Tiebreak != e.Tiebreak || m.Settings.MaxRanks != e.MaxRanks ||
			m.Settings.Access != e.Access || m.Settings.Changes != e.Changes || m.Settings.Timezone != e.Timezone || !sameTime(m.Settings.OpensAt, e.OpensAt)
		if frozen {
			fields["election"] = "Once an election has opened, its title, candidates and counting rules are fixed; only the closing time, the description and who sees results can change."
		}
		if utf8.RuneCountInString(m.Description) > MaxDescription || !isText(m.Description) {
			fields["description"] = fmt.Sprintf("The description can be at most %d characters of text.", MaxDescription)
		}
		if msg := validateResults(m.Settings.Results); msg != "" {
			fields["results"] = msg
		}
		if c := m.Settings.ClosesAt; c != nil && !sameTime(c, e.ClosesAt) && c.Before(now) {
			fields["closes_at"] = "The closing time must be in the future."
		}
	}
	if len(fields) > 0 {
		return Invalid("The change could not be saved.", fields)
	}
	return nil
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// WithDefaults fills the settings a form or an older message left empty.
func (s Settings) WithDefaults() Settings {
	d := DefaultSettings()
	if s.WinnerMode == "" {
		s.WinnerMode = d.WinnerMode
	}
	if s.Tiebreak == "" {
		s.Tiebreak = d.Tiebreak
	}
	if s.Results == "" {
		s.Results = d.Results
	}
	if s.Access == "" {
		s.Access = d.Access
	}
	if s.Timezone == "" {
		s.Timezone = d.Timezone
	}
	return s
}

// WinnerModes and Tiebreaks are the choices the forms offer, with what
// each is called there.
var (
	WinnerModes = []Choice{
		{WinnerIRV, "Instant runoff (one seat)"},
		{WinnerSTV, "Single transferable vote (several seats, surpluses transferred)"},
		{WinnerBottomsUp, "Bottoms-up (several seats: eliminate from the bottom until the seats are filled)"},
		{WinnerSequential, "Sequential instant runoff (several seats, one instant runoff per seat)"},
	}
	Tiebreaks = []Choice{
		{TiebreakPreviousRoundThenOrder, "Fewer votes in the previous round; if still tied, the one listed later"},
		{TiebreakCandidateOrder, "The one listed later is eliminated (and the one listed earlier elected)"},
		{TiebreakPreviousRoundThenRandom, "Fewer votes in the previous round; if still tied, drawn at random"},
		{TiebreakRandom, "Drawn at random"},
		{TiebreakPreviousRoundThenAsk, "Fewer votes in the previous round; if still tied, you decide (the count waits for you)"},
		{TiebreakAsk, "You decide (the count waits for you)"},
	}
	ResultsChoices = []Choice{
		{ResultsLive, "Everyone, live as ballots are counted"},
		{ResultsAfterClose, "Everyone once the election closes (you see them throughout)"},
		{ResultsOrganizer, "Only you"},
	}
)

// Choice is one option of a setting.
type Choice struct {
	Value, Label string
}

func isChoice(cs []Choice, v string) bool {
	return slices.ContainsFunc(cs, func(c Choice) bool { return c.Value == v })
}

func validateResults(v string) string {
	if !isChoice(ResultsChoices, v) {
		return "Choose who sees the results."
	}
	return ""
}

// validateContents checks what an organizer fills in for an election.
func validateContents(title, description string, seats int, candidates []Candidate, s Settings) map[string]string {
	fields := map[string]string{}
	title = strings.TrimSpace(title)
	switch {
	case title == "":
		fields["title"] = "Give the election a title."
	case utf8.RuneCountInString(title) > MaxTitle:
		fields["title"] = fmt.Sprintf("The title can be at most %d characters.", MaxTitle)
	case hidden(title, false):
		fields["title"] = "The title holds an invisible or direction-changing character (such as a zero-width space); type it plainly."
	case !visible(title):
		fields["title"] = "The title has no visible character."
	}
	if utf8.RuneCountInString(description) > MaxDescription || !isText(description) {
		fields["description"] = fmt.Sprintf("The description can be at most %d characters of text.", MaxDescription)
	}
	if msg := validateCandidates(candidates); msg != "" {
		fields["candidates"] = msg
	}
	switch {
	case seats < 1 || seats > MaxSeats:
		fields["seats"] = fmt.Sprintf("Choose between 1 and %d seats.", MaxSeats)
	case len(candidates) >= MinCandidates && seats >= len(candidates):
		fields["seats"] = fmt.Sprintf("Choose fewer seats than candidates: with %d candidates, at most %s.", len(candidates), plural(len(candidates)-1, "seat"))
	}
	switch {
	case !isChoice(WinnerModes, s.WinnerMode):
		fields["winner_mode"] = "Choose a counting method."
	case seats == 1 && s.WinnerMode != WinnerIRV:
		fields["winner_mode"] = "With one seat, Runoff counts by instant runoff; choose it, or more seats."
	case seats > 1 && s.WinnerMode == WinnerIRV:
		fields["winner_mode"] = "Instant runoff fills one seat; for several, choose single transferable vote, bottoms-up or sequential instant runoff."
	}
	if !isChoice(Tiebreaks, s.Tiebreak) {
		fields["tiebreak"] = "Choose how ties are broken."
	}
	if s.MaxRanks < 0 || s.MaxRanks > len(candidates) && len(candidates) > 0 {
		fields["max_ranks"] = fmt.Sprintf("Voters can fill between 1 and %d ranks (one per candidate); leave it empty for all.", max(len(candidates), 1))
	}
	if msg := validateResults(s.Results); msg != "" {
		fields["results"] = msg
	}
	switch {
	case s.Access != AccessOpen && s.Access != AccessKeys:
		fields["access"] = "Choose who may vote: anyone with the link, or holders of a voter key."
	case s.Changes != "" && s.Changes != ChangesAllowed:
		fields["changes"] = "Changing a vote is either allowed or not."
	case s.Changes == ChangesAllowed && s.Access != AccessKeys:
		fields["changes"] = "Only voters with keys can change their vote: with an open link, Runoff cannot tell whose ballot to replace."
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "" || s.Timezone == "Local" {
		fields["timezone"] = "Choose a time zone by its name, like Europe/Paris or America/Chicago."
	}
	if s.OpensAt != nil && s.ClosesAt != nil && !s.OpensAt.Before(*s.ClosesAt) {
		fields["closes_at"] = "The closing time must come after the opening time."
	}
	return fields
}

func validateCandidates(cs []Candidate) string {
	if len(cs) < MinCandidates {
		return fmt.Sprintf("List at least %d candidates, one per line.", MinCandidates)
	}
	if len(cs) > MaxCandidates {
		return fmt.Sprintf("An election can have at most %d candidates; this one lists %d.", MaxCandidates, len(cs))
	}
	seenName := make(map[string]string, len(cs)) // name key → the name first seen
	seenID := make(map[uuid.UUID]bool, len(cs))
	for i, c := range cs {
		name := strings.TrimSpace(c.Name)
		key := nameKey(name)
		switch {
		case name == "":
			return fmt.Sprintf("Candidate %d has no name.", i+1)
		case hidden(name, false):
			return fmt.Sprintf("Candidate %d's name holds an invisible or direction-changing character (such as a zero-width space); type it plainly.", i+1)
		case !visible(name):
			return fmt.Sprintf("Candidate %d's name has no visible character.", i+1)
		case utf8.RuneCountInString(name) > MaxCandidateName:
			return fmt.Sprintf("Candidate %d's name is longer than %d characters.", i+1, MaxCandidateName)
		case seenName[key] != "" && strings.EqualFold(seenName[key], name):
			return fmt.Sprintf("%q is listed twice; each candidate's name must be unique.", name)
		case seenName[key] != "":
			return fmt.Sprintf("%q looks the same as %q; voters must be able to tell candidates' names apart.", name, seenName[key])
		case c.ID == uuid.Nil || seenID[c.ID]:
			return fmt.Sprintf("Candidate %d needs its own ID.", i+1)
		case c.Position != i:
			return fmt.Sprintf("Candidate %d is out of order.", i+1)
		case utf8.RuneCountInString(c.Description) > MaxCandidateDescription || hidden(c.Description, false):
			return fmt.Sprintf("%s's description must be one line of at most %d characters.", name, MaxCandidateDescription)
		}
		seenName[key] = name
		seenID[c.ID] = true
	}
	return ""
}

// ValidateRanking checks a ranking of candidate IDs against an election:
// at least one choice, no more than it allows, only its candidates, none
// twice.
func ValidateRanking(e *Election, ranking []uuid.UUID) error {
	if len(ranking) == 0 {
		return Invalid("Choose at least one candidate: mark your 1st choice.", nil)
	}
	if len(ranking) > len(e.Candidates) {
		return Invalid("This ballot ranks more choices than there are candidates.", nil)
	}
	if e.MaxRanks > 0 && len(ranking) > e.MaxRanks {
		return Invalid(fmt.Sprintf("This election lets each voter rank at most %d choices; this ballot ranks %d.", e.MaxRanks, len(ranking)), nil)
	}
	seen := make(map[uuid.UUID]int, len(ranking))
	for i, id := range ranking {
		c, ok := e.CandidateByID(id)
		if !ok {
			return Invalid(fmt.Sprintf("Your %s choice is not a candidate in this election. Please choose again.", Ordinal(i+1)), nil)
		}
		if prev, dup := seen[id]; dup {
			return Invalid(fmt.Sprintf("You ranked %s both %s and %s. Rank each candidate at most once.", c.Name, Ordinal(prev+1), Ordinal(i+1)), nil)
		}
		seen[id] = i
	}
	return nil
}

// NormalizeEmail lower-cases and trims an address, and checks its form.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(CleanText(s))
	if s == "" || len(s) > MaxEmail {
		return "", Invalid("Enter your email address.", map[string]string{"email": "Enter a valid email address."})
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", Invalid("Enter a valid email address, like name@example.org.", map[string]string{"email": "Enter a valid email address, like name@example.org."})
	}
	return s, nil
}

// ValidatePassword checks a new account's password against the lengths
// Runoff accepts.
func ValidatePassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLength:
		return Invalid("Choose a longer password.", map[string]string{"password": fmt.Sprintf("Choose a password of at least %d characters.", MinPasswordLength)})
	case len(pw) > MaxPasswordLength:
		return Invalid("Choose a shorter password.", map[string]string{"password": fmt.Sprintf("Choose a password of at most %d bytes (about %d letters; fewer with accents or emoji).", MaxPasswordLength, MaxPasswordLength)})
	}
	return nil
}

// Ordinal writes 1st, 2nd, 3rd, 4th, 11th, 21st...
func Ordinal(n int) string {
	suffix := "th"
	switch n % 100 {
	case 11, 12, 13:
	default:
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// isText reports text of several lines that holds nothing hidden (see
// hidden); it excludes NUL bytes, which Postgres text refuses.
func isText(s string) bool {
	return !hidden(s, true)
}

// plural writes "1 seat", "2 seats".
func plural(n int, noun string) string {
	return Plural(fmt.Sprint(n), noun)
}

// Plural writes a count, whole or decimal, with its noun: "1 vote",
// "2 votes", "1.5 votes".
func Plural(n, noun string) string {
	if n == "1" {
		return "1 " + noun
	}
	return n + " " + noun + "s"
}

// JoinAnd lists names as a sentence does: "A", "A and B", "A, B and C".
func JoinAnd(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
