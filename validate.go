package runoff

import (
	"fmt"
	"net/mail"
	"strings"
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
	fields := map[string]string{}
	title := strings.TrimSpace(m.Title)
	switch {
	case title == "":
		fields["title"] = "Give the election a title."
	case utf8.RuneCountInString(title) > MaxTitle:
		fields["title"] = fmt.Sprintf("The title can be at most %d characters.", MaxTitle)
	case !isText(title):
		fields["title"] = "The title is not valid text."
	}
	if utf8.RuneCountInString(m.Description) > MaxDescription || !isText(m.Description) {
		fields["description"] = fmt.Sprintf("The description can be at most %d characters of text.", MaxDescription)
	}
	if m.Seats < 1 || m.Seats > MaxSeats {
		fields["seats"] = fmt.Sprintf("Runoff elects one seat per election for now; set seats to %d.", MaxSeats)
	}
	if msg := validateCandidates(m.Candidates); msg != "" {
		fields["candidates"] = msg
	}
	if m.ElectionID == uuid.Nil || m.OwnerID == uuid.Nil {
		fields["election_id"] = "The election and its owner need IDs."
	}
	if len(fields) > 0 {
		return Invalid("The election could not be created.", fields)
	}
	return nil
}

func validateCandidates(cs []Candidate) string {
	if len(cs) < MinCandidates {
		return fmt.Sprintf("List at least %d candidates, one per line.", MinCandidates)
	}
	if len(cs) > MaxCandidates {
		return fmt.Sprintf("An election can have at most %d candidates; this one lists %d.", MaxCandidates, len(cs))
	}
	seenName := make(map[string]bool, len(cs))
	seenID := make(map[uuid.UUID]bool, len(cs))
	for i, c := range cs {
		name := strings.TrimSpace(c.Name)
		key := strings.ToLower(name)
		switch {
		case name == "":
			return fmt.Sprintf("Candidate %d has no name.", i+1)
		case !isText(name):
			return fmt.Sprintf("Candidate %d's name is not valid text.", i+1)
		case utf8.RuneCountInString(name) > MaxCandidateName:
			return fmt.Sprintf("Candidate %d's name is longer than %d characters.", i+1, MaxCandidateName)
		case seenName[key]:
			return fmt.Sprintf("%q is listed twice; each candidate's name must be unique.", name)
		case c.ID == uuid.Nil || seenID[c.ID]:
			return fmt.Sprintf("Candidate %d needs its own ID.", i+1)
		case c.Position != i:
			return fmt.Sprintf("Candidate %d is out of order.", i+1)
		}
		seenName[key] = true
		seenID[c.ID] = true
	}
	return ""
}

// ValidateRanking checks a ranking of candidate IDs against an election:
// at least one choice, only its candidates, none twice.
func ValidateRanking(e *Election, ranking []uuid.UUID) error {
	if len(ranking) == 0 {
		return Invalid("Choose at least one candidate: mark your 1st choice.", nil)
	}
	if len(ranking) > len(e.Candidates) {
		return Invalid("This ballot ranks more choices than there are candidates.", nil)
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
	s = strings.ToLower(strings.TrimSpace(s))
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

// isText reports valid UTF-8 without NUL bytes, which Postgres text refuses.
func isText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
