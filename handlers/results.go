package handlers

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strconv"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rcv"
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
		var rep rcv.Report
		if err := json.Unmarshal(snap.Report, &rep); err != nil {
			return fmt.Errorf("results of %s: %w", e.ID, err)
		}
		v = resultsView(e, &rep)
		v.Ballots = strconv.FormatInt(snap.BallotsCounted, 10)
		v.Computed = snap.ComputedAt.UTC().Format("15:04:05 MST, 2 Jan 2006")
		v.Stale = e.BallotsCounted > snap.BallotsCounted
	}
	s.render(w, r, http.StatusOK, views.ResultsPage(s.page(r, "Results: "+e.Title), v))
	return nil
}

// handleResultsJSON serves the snapshot as stored: RCTab's detailed-report
// JSON, which rcvis and other RCV tools read.
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

// resultsView turns an RCTab report into the results table: one row per
// candidate, the winner first and the earliest eliminated last.
func resultsView(e *runoff.Election, rep *rcv.Report) views.Results {
	v := views.Results{ElectionID: e.ID.String(), Title: e.Title, Open: e.Status == runoff.StatusOpen}
	if rep.Runoff != nil {
		v.Winners = rep.Runoff.Winners
		for _, t := range rep.Runoff.TieBreaks {
			v.TieBreaks = append(v.TieBreaks, fmt.Sprintf("Round %d: %s", t.Round, t.Explanation))
		}
	}
	type standing struct {
		name      string
		lastRound int
		lastVotes *big.Rat
		listed    int
	}
	byName := map[string]*standing{}
	for i, c := range e.Candidates {
		byName[c.Name] = &standing{name: c.Name, listed: i, lastVotes: new(big.Rat)}
	}
	status := map[string]map[int]string{} // candidate → round → elected/eliminated
	for _, rd := range rep.Results {
		v.Rounds = append(v.Rounds, rd.Round)
		v.Threshold = append(v.Threshold, rd.Threshold)
		inactive := new(big.Rat)
		for _, s := range []string{rd.InactiveBallots.ExhaustedChoices, rd.InactiveBallots.Overvotes, rd.InactiveBallots.RepeatedRankings, rd.InactiveBallots.SkippedRankings} {
			inactive.Add(inactive, rat(s))
		}
		v.Inactive = append(v.Inactive, decimal(inactive))
		for name, votes := range rd.Tally {
			st, ok := byName[name]
			if !ok {
				st = &standing{name: name, listed: len(byName), lastVotes: new(big.Rat)}
				byName[name] = st
			}
			st.lastRound, st.lastVotes = rd.Round, rat(votes)
		}
		for _, tr := range rd.TallyResults {
			for name, what := range map[string]string{tr.Elected: "elected", tr.Eliminated: "eliminated"} {
				if name == "" {
					continue
				}
				if status[name] == nil {
					status[name] = map[int]string{}
				}
				status[name][rd.Round] = what
			}
		}
	}
	rows := make([]*standing, 0, len(byName))
	for _, st := range byName {
		rows = append(rows, st)
	}
	slices.SortFunc(rows, func(a, b *standing) int {
		return cmp.Or(cmp.Compare(b.lastRound, a.lastRound), b.lastVotes.Cmp(a.lastVotes), cmp.Compare(a.listed, b.listed))
	})
	for _, st := range rows {
		row := views.ResultRow{Name: st.name}
		out := false
		for _, rd := range rep.Results {
			votes, in := rd.Tally[st.name]
			cell := views.ResultCell{}
			switch {
			case out || !in:
				cell.Status = "out"
			default:
				cell.Votes = decimal(rat(votes))
				cell.Percent = percent(rat(votes), continuing(rd))
				cell.Status = status[st.name][rd.Round]
				if cell.Status == "eliminated" {
					out = true
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

func continuing(rd rcv.ReportRound) *big.Rat {
	sum := new(big.Rat)
	for _, votes := range rd.Tally {
		sum.Add(sum, rat(votes))
	}
	return sum
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return new(big.Rat)
	}
	return r
}

// decimal writes a whole number without decimals, and anything else with
// up to four.
func decimal(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	s := r.FloatString(4)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}

func percent(part, whole *big.Rat) string {
	if whole.Sign() == 0 {
		return ""
	}
	p := new(big.Rat).Quo(part, whole)
	p.Mul(p, big.NewRat(100, 1))
	return p.FloatString(1) + "%"
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
