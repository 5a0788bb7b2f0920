package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

func (s *Server) handleResults(w http.ResponseWriter, r *http.Request) error {
	e, err := s.election(r)
	if err != nil {
		return err
	}
	v := views.Results{ElectionID: e.ID.String(), Title: e.Title, Open: e.Status == runoff.StatusOpen, Empty: true}
	snap, err := s.Elections.Result(r.Context(), e.ID)
	switch {
	case errors.Is(err, runoff.ErrNotFound):
		v.Stale = e.BallotsCounted > 0
	case err != nil:
		return err
	default:
		v = resultsView(e, snap)
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

// resultsView formats the stored results model as the results table: one
// row per candidate in finishing order, one column per round. It only
// formats: every figure and status comes from the model.
func resultsView(e *runoff.Election, snap *runoff.ResultSnapshot) views.Results {
	m := snap.Model
	v := views.Results{
		ElectionID: e.ID.String(), Title: e.Title, Open: e.Status == runoff.StatusOpen,
		Ballots:  strconv.FormatInt(snap.BallotsCounted, 10),
		Computed: snap.ComputedAt.UTC().Format("15:04:05 MST, 2 Jan 2006"),
		Stale:    e.BallotsCounted > snap.BallotsCounted,
		Winners:  m.Winners,
	}
	for _, t := range m.TieBreaks {
		v.TieBreaks = append(v.TieBreaks, t.Explanation)
	}
	rows := make([]views.ResultRow, len(m.Candidates))
	for i, name := range m.Candidates {
		rows[i].Name = name
	}
	for _, rd := range m.Rounds {
		v.Rounds = append(v.Rounds, rd.Number)
		v.Threshold = append(v.Threshold, rd.Threshold)
		v.Inactive = append(v.Inactive, rd.Inactive.Total)
		for i, c := range rd.Tally {
			cell := views.ResultCell{Votes: c.Votes, Status: cellStatus[c.Status]}
			if c.Status != runoff.CandidateOut {
				cell.Percent = fmt.Sprintf("%.1f%%", c.Share)
			}
			rows[i].Cells = append(rows[i].Cells, cell)
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
	w.Write([]byte("ok\n"))
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
