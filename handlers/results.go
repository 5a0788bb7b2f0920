package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

func (s *Server) handleResults(w http.ResponseWriter, r *http.Request) error {
	v, og, err := s.resultsPage(r)
	if err != nil {
		return err
	}
	p := s.page(r, "Results: "+v.Title)
	// The head is drawn from og, which is among the models compared.
	models := struct {
		views.Page
		views.ResultsView
		views.OpenGraph
	}{p, v, og}
	p.Head = views.ResultsHead(og)
	s.renderKept(w, r, http.StatusOK, "results "+v.ElectionID+" "+strconv.Itoa(v.Round), models,
		func() templ.Component { return views.ResultsPage(p, v) }, "")
	return nil
}

// handleResultsEmbed serves the results card other sites may frame: the
// one page whose headers allow framing.
func (s *Server) handleResultsEmbed(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.resultsPage(r)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Del("X-Frame-Options")
	h.Set("Content-Security-Policy", embedCSP)
	s.render(w, r, http.StatusOK, views.ResultsEmbed(v))
	return nil
}

// embedCSP is the site's policy with framing allowed from anywhere.
const embedCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors *; base-uri 'none'"

// resultsPage reads what the results page shows this visitor, with what a
// shared link previews: only what the election's results visibility lets
// them see.
func (s *Server) resultsPage(r *http.Request) (views.ResultsView, views.OpenGraph, error) {
	e, err := s.election(r)
	if err != nil {
		return views.ResultsView{}, views.OpenGraph{}, err
	}
	now := time.Now()
	pageURL := absURL(r, "/e/"+e.ID.String()+"/results")
	og := views.OpenGraph{Title: "Results: " + e.Title, URL: pageURL}
	if !s.resultsVisible(r, e, now) {
		og.Description = hiddenWhy(e)
		return views.ResultsView{Results: views.Results{ElectionID: e.ID.String(), Title: e.Title, Hidden: hiddenWhy(e)}, URL: pageURL}, og, nil
	}
	snap, err := s.Elections.Result(r.Context(), e.ID)
	switch {
	case errors.Is(err, runoff.ErrNotFound):
		snap = nil
	case err != nil:
		return views.ResultsView{}, views.OpenGraph{}, err
	}
	waiting := 0
	if e.StateAt(now) != runoff.StatusClosed {
		waiting = s.lastQueued(now) // what the live pollers last saw: a page view never waits on the broker
	}
	round, _ := strconv.Atoi(r.URL.Query().Get("round"))
	v := buildResultsView(e, snap, now, round, pageURL, waiting)
	og.Description = v.Summary()
	return v, og, nil
}

// buildResultsView formats an election's stored results for the page.
// It reads nothing, so the live stream can render it for each reader from
// one shared read.
func buildResultsView(e *runoff.Election, snap *runoff.ResultSnapshot, now time.Time, round int, pageURL string, waiting int) views.ResultsView {
	open := e.StateAt(now) != runoff.StatusClosed
	var v views.ResultsView
	if snap == nil {
		v.Results = views.Results{ElectionID: e.ID.String(), Title: e.Title, Open: open, Empty: true, Stale: e.BallotsCounted > 0}
	} else {
		v.Results = resultsView(e, snap)
		v.Model = snap.Model
		v.Open = open
		if e.FinalAt != nil && !v.Stale {
			v.Final = "as of " + when(e.FinalAt, location(e))
		}
		if w := snap.Model.Waiting; w != nil {
			v.Waiting = fmt.Sprintf("The count stopped in round %d: %s are tied with %s each, and this election's rules leave it to the organizer to choose who is %s. The results below go as far as that round.",
				w.Round, strings.Join(w.Tied, " and "), runoff.Plural(w.Votes, "vote"), tieVerb(w.Kind))
		}
		v.Queued = queuedNote(e.BallotsCounted-snap.BallotsCounted, waiting, open)
	}
	v.Round, v.URL = round, pageURL
	if open || e.FinalAt == nil {
		q := url.Values{"since": {liveKey(e, snap, waiting, now)}}
		if round > 0 {
			q.Set("round", strconv.Itoa(round))
		}
		v.LiveURL = "/e/" + e.ID.String() + "/results/live?" + q.Encode()
	}
	return v
}

// queuedNote says that ballots are waiting to be in the results: stored
// but not yet counted into them, or still in the queue to be stored.
func queuedNote(stored int64, queued int, open bool) string {
	var parts []string
	if stored > 0 {
		parts = append(parts, fmt.Sprintf("%s received since these results were worked out will be in them shortly.", runoff.Plural(strconv.FormatInt(stored, 10), "more ballot")))
	}
	if queued > 0 && open {
		parts = append(parts, fmt.Sprintf("Ballots are still queued to be counted (at least %s waiting on this site); the results will include them shortly.", strconv.Itoa(queued)))
	}
	return strings.Join(parts, " ")
}

// handleResultsJSON serves the RCTab detailed report as the worker stored
// it, byte for byte: rcvis and other RCV tools read it.
func (s *Server) handleResultsJSON(w http.ResponseWriter, r *http.Request) error {
	e, err := s.election(r)
	if err != nil {
		return err
	}
	if !s.resultsVisible(r, e, time.Now()) {
		return problem(runoff.ErrForbidden, hiddenWhy(e))
	}
	snap, err := s.Elections.Result(r.Context(), e.ID)
	if errors.Is(err, runoff.ErrNotFound) {
		return notFoundf("No ballots have been counted in this election yet, so there are no results to download.")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="results-%s.json"`, e.ID))
	w.Write(snap.Report)
	return nil
}

// resultsVisible says whether this visitor may see an election's results
// now: everyone when they are live, or once it has closed when they wait
// for the close; its organizer always.
func (s *Server) resultsVisible(r *http.Request, e *runoff.Election, now time.Time) bool {
	id, _ := s.currentOrganizer(r)
	return visibleTo(e, id, now)
}

// visibleTo says whether the results may be shown to this organizer (or,
// with uuid.Nil, to anyone) now.
func visibleTo(e *runoff.Election, organizer uuid.UUID, now time.Time) bool {
	switch e.Results {
	case runoff.ResultsLive, "":
		return true
	case runoff.ResultsAfterClose:
		if e.StateAt(now) == runoff.StatusClosed {
			return true
		}
	}
	return organizer != uuid.Nil && organizer == e.OwnerID
}

func hiddenWhy(e *runoff.Election) string {
	if e.Results == runoff.ResultsAfterClose {
		return "The organizer publishes these results when voting closes."
	}
	return "The organizer has chosen not to publish these results."
}

// resultsView formats the stored results model as the results table: one
// row per candidate in finishing order, one column per round. It only
// formats: every figure and status comes from the model.
func resultsView(e *runoff.Election, snap *runoff.ResultSnapshot) views.Results {
	m := snap.Model
	v := views.Results{
		ElectionID: e.ID.String(), Title: e.Title,
		Ballots:  strconv.FormatInt(snap.BallotsCounted, 10),
		Computed: snap.ComputedAt.UTC().Format("15:04:05 MST, 2 Jan 2006"),
		Stale:    e.BallotsCounted > snap.BallotsCounted,
		Winners:  m.Winners,
		Seats:    m.Seats, Method: m.Method, TiebreakRule: m.TiebreakRule,
	}
	if m.RandomSeed != nil {
		v.TiebreakRule += fmt.Sprintf(" (random draws use seed %d, fixed when the election opened)", *m.RandomSeed)
	}
	for _, t := range m.TieBreaks {
		v.TieBreaks = append(v.TieBreaks, t.Explanation)
	}
	rows := make([]views.ResultRow, len(m.Candidates))
	row := make(map[string]int, len(m.Candidates))
	for i, name := range m.Candidates {
		rows[i].Name, row[name] = name, i
	}
	// Sequential instant runoff counts once per seat: its passes' rounds
	// follow one another in the table.
	passes := []runoff.Results{m}
	if len(m.Passes) > 0 {
		passes = m.Passes
	}
	for p, pass := range passes {
		for _, rd := range pass.Rounds {
			label := "Round " + strconv.Itoa(rd.Number)
			if len(passes) > 1 {
				label = fmt.Sprintf("Seat %d, round %d", p+1, rd.Number)
			}
			v.Rounds = append(v.Rounds, label)
			v.Threshold = append(v.Threshold, rd.Threshold)
			v.Inactive = append(v.Inactive, rd.Inactive.Total)
			for i := range rows {
				rows[i].Cells = append(rows[i].Cells, views.ResultCell{Status: "out"})
			}
			for _, c := range rd.Tally {
				i, ok := row[c.Name]
				if !ok || c.Status == runoff.CandidateOut {
					continue
				}
				rows[i].Cells[len(rows[i].Cells)-1] = views.ResultCell{Votes: c.Votes, Status: cellStatus[c.Status], Percent: fmt.Sprintf("%.1f%%", c.Share)}
			}
		}
	}
	v.Rows = rows
	return v
}

// cellStatus maps a candidate's status in a round to the table's marks.
var cellStatus = map[string]string{
	runoff.CandidateContinuing: "",
	runoff.CandidateWon:        "",
	runoff.CandidateElected:    "elected",
	runoff.CandidateEliminated: "eliminated",
	runoff.CandidateOut:        "out",
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	rev := s.Revision
	if rev == "" {
		rev = "unknown"
	}
	fmt.Fprintf(w, "ok\nrevision: %s\n", rev)
}

// handleReadyz answers 200 when every backend answers, 503 naming those
// that do not.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	names := make([]string, 0, len(s.Ready))
	for n := range s.Ready {
		names = append(names, n)
	}
	slices.Sort(names)
	status, body := http.StatusOK, ""
	for _, n := range names {
		if err := s.Ready[n].Ping(r.Context()); err != nil {
			status = http.StatusServiceUnavailable
			body += n + ": unavailable\n"
			s.Log.Warn("not ready", "backend", n, "err", err)
		} else {
			body += n + ": ok\n"
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(body))
}
