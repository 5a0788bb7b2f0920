package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

func (s *Server) handleResults(w http.ResponseWriter, r *http.Request) error {
	e, err := s.election(r)
	if err != nil {
		return err
	}
	now := time.Now()
	if !s.resultsVisible(r, e, now) {
		v := views.Results{ElectionID: e.ID.String(), Title: e.Title, Hidden: hiddenWhy(e)}
		s.render(w, r, http.StatusOK, views.ResultsPage(s.page(r, "Results: "+e.Title), v))
		return nil
	}
	v := views.Results{ElectionID: e.ID.String(), Title: e.Title, Open: e.StateAt(now) != runoff.StatusClosed, Empty: true}
	snap, err := s.Elections.Result(r.Context(), e.ID)
	switch {
	case errors.Is(err, runoff.ErrNotFound):
		v.Stale = e.BallotsCounted > 0
	case err != nil:
		return err
	default:
		v = resultsView(e, snap)
		v.Open = e.StateAt(now) != runoff.StatusClosed
		if e.FinalAt != nil && !v.Stale {
			v.Final = "as of " + when(e.FinalAt, location(e))
		}
		if w := snap.Model.Waiting; w != nil {
			v.Waiting = fmt.Sprintf("The count stopped in round %d: %s are tied with %s each, and this election's rules leave it to the organizer to choose who is %s. The results below go as far as that round.",
				w.Round, strings.Join(w.Tied, " and "), runoff.Plural(w.Votes, "vote"), tieVerb(w.Kind))
		}
	}
	s.render(w, r, http.StatusOK, views.ResultsPage(s.page(r, "Results: "+e.Title), v))
	return nil
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
	switch e.Results {
	case runoff.ResultsLive, "":
		return true
	case runoff.ResultsAfterClose:
		if e.StateAt(now) == runoff.StatusClosed {
			return true
		}
	}
	id, _ := s.currentOrganizer(r)
	return id == e.OwnerID
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
