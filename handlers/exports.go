package handlers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// Records reads what an election's organizer takes away: its audit log
// and its counted ballots.
type Records interface {
	AuditLog(ctx context.Context, electionID uuid.UUID) ([]runoff.AuditEntry, error)
	CountedBallots(ctx context.Context, electionID uuid.UUID, fn func(ranking []uuid.UUID) error) error
}

func attachment(w http.ResponseWriter, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
}

// handleBallotsCSV exports the counted ballots as a cast-vote-record CSV
// that runoff tabulate reads: one ballot a line, in a random order, with
// nothing but the ranking.
func (s *Server) handleBallotsCSV(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	ranks := len(e.Candidates)
	if e.MaxRanks > 0 && e.MaxRanks < ranks {
		ranks = e.MaxRanks
	}
	attachment(w, "text/csv; charset=utf-8", "ballots-"+e.ID.String()+".csv")
	cw := csv.NewWriter(w)
	header := make([]string, ranks)
	for i := range header {
		header[i] = fmt.Sprintf("rank%d", i+1)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, ranks)
	err = s.Records.CountedBallots(r.Context(), e.ID, func(ranking []uuid.UUID) error {
		clear(row)
		for i, id := range ranking {
			if i < ranks {
				if c, ok := e.CandidateByID(id); ok {
					row[i] = csvSafe(c.Name)
				}
			}
		}
		return cw.Write(row)
	})
	if err != nil {
		// The header may be out already: the download is cut short, and
		// the error logged, rather than a page written into the file.
		s.Log.Error("ballots export failed", "election_id", e.ID, "err", err)
		return nil
	}
	cw.Flush()
	return cw.Error()
}

// handleRulesJSON serves the rules the last count was made by, under
// RCTab's names: with ballots.csv, runoff tabulate --rules counts the
// election again.
func (s *Server) handleRulesJSON(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	snap, err := s.Elections.Result(r.Context(), e.ID)
	if errors.Is(err, runoff.ErrNotFound) || err == nil && len(snap.Rules) == 0 {
		return notFoundf("No ballots have been counted in this election yet, so there are no counting rules to download.")
	}
	if err != nil {
		return err
	}
	attachment(w, "application/json", "rules-"+e.ID.String()+".json")
	w.Write(snap.Rules)
	return nil
}

// visibleResults reads the results of the {id} election for a visitor who
// may see them.
func (s *Server) visibleResults(r *http.Request) (*runoff.Election, *runoff.ResultSnapshot, error) {
	e, err := s.election(r)
	if err != nil {
		return nil, nil, err
	}
	if !s.resultsVisible(r, e, time.Now()) {
		return nil, nil, problem(runoff.ErrForbidden, hiddenWhy(e))
	}
	snap, err := s.Elections.Result(r.Context(), e.ID)
	if errors.Is(err, runoff.ErrNotFound) {
		return nil, nil, notFoundf("No ballots have been counted in this election yet, so there are no results to download.")
	}
	return e, snap, err
}

// handleResultsCSV serves the results table as CSV: a row per candidate,
// a column per round, then inactive ballots and the threshold.
func (s *Server) handleResultsCSV(w http.ResponseWriter, r *http.Request) error {
	e, snap, err := s.visibleResults(r)
	if err != nil {
		return err
	}
	v := resultsView(e, snap)
	attachment(w, "text/csv; charset=utf-8", "results-"+e.ID.String()+".csv")
	cw := csv.NewWriter(w)
	cw.Write(append([]string{"candidate"}, v.Rounds...))
	for _, row := range v.Rows {
		line := []string{csvSafe(row.Name)}
		for _, c := range row.Cells {
			line = append(line, c.Votes)
		}
		cw.Write(line)
	}
	cw.Write(append([]string{"inactive ballots"}, v.Inactive...))
	cw.Write(append([]string{"votes needed to win"}, v.Threshold...))
	cw.Flush()
	return cw.Error()
}

// handleResultsPrint is a one-page summary of the results to print.
func (s *Server) handleResultsPrint(w http.ResponseWriter, r *http.Request) error {
	e, snap, err := s.visibleResults(r)
	if err != nil {
		return err
	}
	v := resultsView(e, snap)
	now := time.Now()
	v.Open = e.StateAt(now) != runoff.StatusClosed
	if e.FinalAt != nil && !v.Stale {
		v.Final = "as of " + when(e.FinalAt, location(e))
	}
	p := views.PrintSummary{Results: v, Printed: when(&now, location(e)), Description: e.Description, URL: absURL(r, "/e/"+e.ID.String()+"/results")}
	s.render(w, r, http.StatusOK, views.ResultsPrint(s.page(r, "Results: "+e.Title), p))
	return nil
}

// handleAudit lists every organizer action on the election, who and when.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	log, err := s.Records.AuditLog(r.Context(), e.ID)
	if err != nil {
		return err
	}
	loc := location(e)
	page := views.AuditPage{ElectionID: e.ID.String(), Title: e.Title}
	for _, a := range log {
		by := a.By
		if by == "" {
			by = "(an account since deleted)"
		}
		page.Entries = append(page.Entries, views.AuditEntry{What: runoff.ActionWords(a.Action), Detail: a.Detail, By: by,
			When: when(&a.RequestedAt, loc), Done: when(&a.AppliedAt, loc)})
	}
	s.render(w, r, http.StatusOK, views.Audit(s.page(r, "Audit log: "+e.Title), page))
	return nil
}
