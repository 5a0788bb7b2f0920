package views

import "github.com/runoff-vote/runoff"

// ResultsView is the results page: the table and notes the printable
// summary shows too, and the stored results model, which the helpers in
// results_words.go and results_chart.go put into sentences and drawings.
type ResultsView struct {
	Results
	Model runoff.Results
	// Round is the round the stepper shows, 1-based over every round (see
	// resultSteps); 0 shows the last.
	Round int
	// URL is the page's own address, absolute, for sharing.
	URL string
	// LiveURL is the stream of updates (server-sent events) while voting
	// is open and the results are live; "" when there is none.
	LiveURL string
	// Queued says how many ballots received are not counted yet, in words.
	Queued string
}

// Steps are the rounds the page steps through.
func (v ResultsView) Steps() []ResultStep { return resultSteps(v.Model) }

// Current is the round the stepper shows.
func (v ResultsView) Current() (ResultStep, bool) {
	steps := v.Steps()
	if len(steps) == 0 {
		return ResultStep{}, false
	}
	if v.Round >= 1 && v.Round <= len(steps) {
		return steps[v.Round-1], true
	}
	return steps[len(steps)-1], true
}

// OpenGraph is what a shared link previews.
type OpenGraph struct {
	Title, Description, URL string
}

// Summary is the results in one line, for a shared link's preview.
func (v ResultsView) Summary() string {
	switch {
	case v.Hidden != "":
		return v.Hidden
	case v.Empty:
		return "No ballots have been counted yet."
	}
	if b := Banner(v.Model, v.Open); b != "" {
		return b
	}
	return "Results round by round, " + runoff.Plural(v.Ballots, "ballot") + " counted."
}
