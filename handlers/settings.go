package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// datetimeLocal is how a datetime-local input writes a time.
const datetimeLocal = "2006-01-02T15:04"

// readElectionForm reads the fields of an election's form as typed.
func readElectionForm(r *http.Request) views.ElectionForm {
	val := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := views.ElectionForm{
		Title:       r.PostFormValue("title"),
		Description: strings.ReplaceAll(r.PostFormValue("description"), "\r\n", "\n"),
		Candidates:  strings.ReplaceAll(r.PostFormValue("candidates"), "\r\n", "\n"),
		Seats:       val("seats"),
		WinnerMode:  val("winner_mode"),
		Tiebreak:    val("tiebreak"),
		MaxRanks:    val("max_ranks"),
		Results:     val("results"),
		OpensAt:     val("opens_at"),
		ClosesAt:    val("closes_at"),
		Timezone:    val("timezone"),
		Access:      val("access"),
		Changes:     val("changes"),
		Draft:       r.PostFormValue("draft") != "",
	}
	if f.Seats == "" {
		f.Seats = "1"
	}
	if f.WinnerMode == "" && f.Seats != "1" {
		f.WinnerMode = runoff.WinnerSTV // the usual method for several seats
	}
	d := runoff.Settings{WinnerMode: f.WinnerMode, Tiebreak: f.Tiebreak, Results: f.Results, Access: f.Access, Timezone: f.Timezone}.WithDefaults()
	f.WinnerMode, f.Tiebreak, f.Results, f.Access, f.Timezone = d.WinnerMode, d.Tiebreak, d.Results, d.Access, d.Timezone
	return withChoices(f)
}

// withChoices adds the selects' options to a form.
func withChoices(f views.ElectionForm) views.ElectionForm {
	conv := func(cs []runoff.Choice) []views.Choice {
		out := make([]views.Choice, len(cs))
		for i, c := range cs {
			out[i] = views.Choice{Value: c.Value, Label: c.Label}
		}
		return out
	}
	f.WinnerModes, f.Tiebreaks, f.ResultsOpts = conv(runoff.WinnerModes), conv(runoff.Tiebreaks), conv(runoff.ResultsChoices)
	return f
}

// electionContents is what a form says of an election, parsed.
type electionContents struct {
	title, description string
	seats              int
	candidates         []runoff.Candidate
	settings           runoff.Settings
}

// parseElectionForm parses what a form says. Fields that cannot be read
// as what they should be (a number, a time) are marked in errs; the rest
// is for the domain's validation.
func parseElectionForm(f views.ElectionForm) (c electionContents, errs map[string]string) {
	errs = map[string]string{}
	c.title, c.description = runoff.CleanText(f.Title), runoff.CleanText(f.Description)
	var err error
	if c.seats, err = strconv.Atoi(f.Seats); err != nil {
		errs["seats"] = "Enter the number of seats as a whole number."
	}
	c.candidates = parseCandidates(f.Candidates)
	c.settings = runoff.Settings{WinnerMode: f.WinnerMode, Tiebreak: f.Tiebreak, Results: f.Results, Access: f.Access, Changes: f.Changes, Timezone: f.Timezone}
	if f.MaxRanks != "" {
		if c.settings.MaxRanks, err = strconv.Atoi(f.MaxRanks); err != nil || c.settings.MaxRanks < 1 {
			errs["max_ranks"] = "Enter how many ranks as a whole number, or leave it empty for all."
		}
	}
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil || f.Timezone == "Local" {
		loc = time.UTC // the domain's validation names the zone as wrong
	}
	c.settings.OpensAt, err = parseLocal(f.OpensAt, loc)
	if err != nil {
		errs["opens_at"] = "Enter the opening time as a date and a time, or leave it empty."
	}
	c.settings.ClosesAt, err = parseLocal(f.ClosesAt, loc)
	if err != nil {
		errs["closes_at"] = "Enter the closing time as a date and a time, or leave it empty."
	}
	return c, errs
}

// parseCandidates reads one candidate per line: a name, and optionally
// " | " and a line describing them.
func parseCandidates(text string) []runoff.Candidate {
	var cs []runoff.Candidate
	for _, line := range runoff.SplitCandidates(text) {
		name, desc, _ := strings.Cut(line, "|")
		cs = append(cs, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: runoff.CleanText(name),
			Description: runoff.CleanText(desc), Position: len(cs)})
	}
	return cs
}

func parseLocal(v string, loc *time.Location) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation(datetimeLocal, v, loc)
	if err != nil {
		if t, err = time.ParseInLocation(datetimeLocal+":05", v, loc); err != nil {
			return nil, err
		}
	}
	return &t, nil
}

// electionForm fills a draft's edit form from the election as stored.
func electionForm(e *runoff.Election) views.ElectionForm {
	loc := location(e)
	f := views.ElectionForm{Editing: true, Title: e.Title, Description: e.Description, Seats: strconv.Itoa(e.Seats),
		WinnerMode: e.WinnerMode, Tiebreak: e.Tiebreak, Results: e.Results, Timezone: e.Timezone, Access: e.Access, Changes: e.Changes,
		OpensAt: formatLocal(e.OpensAt, loc), ClosesAt: formatLocal(e.ClosesAt, loc)}
	if e.MaxRanks > 0 {
		f.MaxRanks = strconv.Itoa(e.MaxRanks)
	}
	var lines []string
	for _, c := range e.Candidates {
		if c.Description != "" {
			lines = append(lines, c.Name+" | "+c.Description)
		} else {
			lines = append(lines, c.Name)
		}
	}
	f.Candidates = strings.Join(lines, "\n")
	return withChoices(f)
}

func location(e *runoff.Election) *time.Location {
	loc, err := time.LoadLocation(e.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func formatLocal(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return t.In(loc).Format(datetimeLocal)
}

// when writes a time for people, in the election's zone.
func when(t *time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2 Jan 2006, 15:04 MST")
}

func label(cs []runoff.Choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

// describeSettings writes an election's settings in words for its admin
// page.
func describeSettings(v *views.ElectionAdmin, e *runoff.Election) {
	loc := location(e)
	v.Method = label(runoff.WinnerModes, e.WinnerMode)
	v.Seats = fmt.Sprintf("%d seats", e.Seats)
	if e.Seats == 1 {
		v.Seats = "1 seat"
	}
	v.Tiebreak = label(runoff.Tiebreaks, e.Tiebreak)
	if e.RandomSeed != nil && e.StateAt(time.Now()) != runoff.StatusDraft {
		// Drawn when the random rule is saved, shown once voting opens.
		v.Tiebreak += fmt.Sprintf(" (seed %d)", *e.RandomSeed)
	}
	v.Ranks = "Voters may rank every candidate"
	if e.MaxRanks > 0 {
		v.Ranks = fmt.Sprintf("Voters may rank up to %d", e.MaxRanks)
	}
	v.ResultsWho = label(runoff.ResultsChoices, e.Results)
	v.Timezone = e.Timezone
	switch {
	case e.OpenedAt != nil:
		v.Opens = "Opened " + when(e.OpenedAt, loc)
	case e.OpensAt != nil:
		v.Opens = "Opens " + when(e.OpensAt, loc)
	default:
		v.Opens = "When you open it"
	}
	switch {
	case e.ClosedAt != nil:
		v.Closes = "Closed " + when(e.ClosedAt, loc)
	case e.ClosesAt != nil:
		v.Closes = "Closes " + when(e.ClosesAt, loc)
	default:
		v.Closes = "When you close it"
	}
}
