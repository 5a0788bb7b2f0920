package rcv

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// ReportMeta describes the contest for a report's "config" section.
type ReportMeta struct {
	Contest      string
	Date         string
	Jurisdiction string
	Office       string
	GeneratedBy  string // defaults to "Runoff"
}

// Report is RCTab's detailed-report JSON, with RCTab's field names. The
// "runoff" key is an extension (pairwise matrix, Condorcet winner, tie-break
// log) that RCTab readers ignore.
type Report struct {
	Config            ReportConfig  `json:"config"`
	JSONFormatVersion string        `json:"jsonFormatVersion"`
	Results           []ReportRound `json:"results"`
	Runoff            *ReportExtra  `json:"runoff,omitempty"`
	Summary           ReportSummary `json:"summary"`
}

// ReportConfig is the report's "config" section.
type ReportConfig struct {
	Contest      string `json:"contest"`
	Date         string `json:"date"`
	GeneratedBy  string `json:"generatedBy"`
	Jurisdiction string `json:"jurisdiction"`
	Office       string `json:"office"`
}

// ReportRound is one entry of "results".
type ReportRound struct {
	InactiveBallots ReportInactive    `json:"inactiveBallots"`
	Round           int               `json:"round"`
	Tally           map[string]string `json:"tally"`
	TallyResults    []TallyResult     `json:"tallyResults"`
	Threshold       string            `json:"threshold"`
}

// ReportInactive is a round's "inactiveBallots".
type ReportInactive struct {
	ExhaustedChoices  string `json:"exhaustedChoices"`
	FinalRoundSurplus string `json:"finalRoundSurplus,omitempty"`
	Overvotes         string `json:"overvotes"`
	RepeatedRankings  string `json:"repeatedRankings"`
	SkippedRankings   string `json:"skippedRankings"`
}

// TallyResult is one election or elimination and the votes it moved.
type TallyResult struct {
	Elected    string            `json:"elected,omitempty"`
	Eliminated string            `json:"eliminated,omitempty"`
	Transfers  map[string]string `json:"transfers"`
}

// ReportSummary is the report's "summary".
type ReportSummary struct {
	FinalThreshold  string `json:"finalThreshold"`
	NumCandidates   int    `json:"numCandidates"`
	NumWinners      int    `json:"numWinners"`
	TotalNumBallots string `json:"totalNumBallots"`
	Undervotes      int64  `json:"undervotes"`
}

// ReportExtra is Runoff's addition to the RCTab report.
type ReportExtra struct {
	Winners   []string   `json:"winners"`
	TieBreaks []TieBreak `json:"tieBreaks,omitempty"`
	Pairwise  *Pairwise  `json:"pairwise,omitempty"`
	Pass      int        `json:"pass,omitempty"`
}

// Report builds the RCTab-format report. For multiPassIrv it describes the
// final pass; use Reports for one per pass.
func (r *Result) Report(meta ReportMeta) *Report {
	if len(r.Passes) > 0 {
		return r.Passes[len(r.Passes)-1].Report(meta)
	}
	gen := meta.GeneratedBy
	if gen == "" {
		gen = "Runoff"
	}
	rep := &Report{
		Config:            ReportConfig{Contest: meta.Contest, Date: meta.Date, GeneratedBy: gen, Jurisdiction: meta.Jurisdiction, Office: meta.Office},
		JSONFormatVersion: "1",
		Results:           []ReportRound{},
		Summary: ReportSummary{
			FinalThreshold:  r.FinalThreshold().String(),
			NumCandidates:   r.NumCandidates,
			NumWinners:      r.NumWinners,
			TotalNumBallots: strconv.FormatInt(r.TotalBallots, 10),
			Undervotes:      r.Undervotes,
		},
		Runoff: &ReportExtra{Winners: r.Winners, TieBreaks: r.TieBreaks, Pairwise: r.Pairwise},
	}
	if r.Mode == MultiPassIRV {
		rep.Summary.NumWinners = 1
	}
	for _, rd := range r.Rounds {
		rr := ReportRound{
			Round:        rd.Number,
			Threshold:    rd.Threshold.String(),
			Tally:        make(map[string]string, len(rd.Tally)),
			TallyResults: []TallyResult{},
			InactiveBallots: ReportInactive{
				ExhaustedChoices: rd.Inactive.ExhaustedChoices.String(),
				Overvotes:        rd.Inactive.Overvotes.String(),
				RepeatedRankings: rd.Inactive.RepeatedRankings.String(),
				SkippedRankings:  rd.Inactive.SkippedRankings.String(),
			},
		}
		if rd.Inactive.ShowFinalRoundSurplus {
			rr.InactiveBallots.FinalRoundSurplus = rd.Inactive.FinalRoundSurplus.String()
		}
		for _, cv := range rd.Tally {
			rr.Tally[cv.Name] = cv.Votes.String()
		}
		transfersFrom := func(name string) map[string]string {
			m := map[string]string{}
			for _, t := range rd.Transfers {
				if t.From == name {
					m[t.To] = t.Votes.String()
				}
			}
			return m
		}
		for _, n := range rd.Elected {
			rr.TallyResults = append(rr.TallyResults, TallyResult{Elected: n, Transfers: transfersFrom(n)})
		}
		for _, n := range rd.Eliminated {
			rr.TallyResults = append(rr.TallyResults, TallyResult{Eliminated: n, Transfers: transfersFrom(n)})
		}
		rep.Results = append(rep.Results, rr)
	}
	return rep
}

// Reports returns one report per pass (multiPassIrv) or a single report.
func (r *Result) Reports(meta ReportMeta) []*Report {
	if len(r.Passes) == 0 {
		return []*Report{r.Report(meta)}
	}
	var out []*Report
	for i, p := range r.Passes {
		rep := p.Report(meta)
		rep.Runoff.Pass = i + 1
		out = append(out, rep)
	}
	return out
}

// WriteJSON writes the RCTab detailed report; for multiPassIrv, a JSON array
// of reports, one per pass.
func (r *Result) WriteJSON(w io.Writer, meta ReportMeta) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if len(r.Passes) > 0 {
		return enc.Encode(r.Reports(meta))
	}
	return enc.Encode(r.Report(meta))
}

// WriteTable writes a round-by-round table for a terminal.
func (r *Result) WriteTable(w io.Writer) error {
	if len(r.Passes) > 0 {
		for i, p := range r.Passes {
			if _, err := fmt.Fprintf(w, "Pass %d\n", i+1); err != nil {
				return err
			}
			if err := p.WriteTable(w); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		_, err := fmt.Fprintf(w, "Winners: %s\n", strings.Join(r.Winners, ", "))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "Candidate\t")
	for _, rd := range r.Rounds {
		fmt.Fprintf(tw, "Round %d\t", rd.Number)
	}
	fmt.Fprintln(tw)
	// Candidates in first-round order.
	var order []string
	seen := map[string]bool{}
	for _, rd := range r.Rounds {
		for _, cv := range rd.Tally {
			if !seen[cv.Name] {
				seen[cv.Name] = true
				order = append(order, cv.Name)
			}
		}
	}
	for _, name := range order {
		fmt.Fprintf(tw, "%s\t", name)
		for _, rd := range r.Rounds {
			v, ok := rd.TallyOf(name)
			mark := ""
			switch {
			case slices.Contains(rd.Elected, name):
				mark = " *"
			case slices.Contains(rd.Eliminated, name):
				mark = " x"
			}
			if ok {
				fmt.Fprintf(tw, "%s%s\t", v, mark)
			} else {
				fmt.Fprintf(tw, "\t")
			}
		}
		fmt.Fprintln(tw)
	}
	row := func(label string, f func(Round) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, rd := range r.Rounds {
			fmt.Fprintf(tw, "%s\t", f(rd))
		}
		fmt.Fprintln(tw)
	}
	row("Exhausted choices", func(rd Round) string { return rd.Inactive.ExhaustedChoices.String() })
	row("Overvotes", func(rd Round) string { return rd.Inactive.Overvotes.String() })
	row("Skipped rankings", func(rd Round) string { return rd.Inactive.SkippedRankings.String() })
	row("Repeated rankings", func(rd Round) string { return rd.Inactive.RepeatedRankings.String() })
	if len(r.Rounds) > 0 && r.Rounds[len(r.Rounds)-1].Inactive.ShowFinalRoundSurplus {
		row("Final round surplus", func(rd Round) string { return rd.Inactive.FinalRoundSurplus.String() })
		row("Residual surplus", func(rd Round) string { return rd.ResidualSurplus.String() })
	}
	row("Threshold", func(rd Round) string { return rd.Threshold.String() })
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n* elected, x eliminated. Ballots: %d (undervotes %d).\n", r.TotalBallots, r.Undervotes)
	for _, tb := range r.TieBreaks {
		fmt.Fprintf(w, "Tie in round %d (%s) among %s: %s selected by %s. %s\n",
			tb.Round, tb.Kind, strings.Join(tb.Tied, ", "), tb.Selected, tb.Rule, tb.Explanation)
	}
	fmt.Fprintf(w, "Winners: %s\n", strings.Join(r.Winners, ", "))
	if p := r.Pairwise; p != nil && len(p.Candidates) > 1 {
		fmt.Fprintln(w, "\nHead to head (row over column):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "\t")
		for _, c := range p.Candidates {
			fmt.Fprintf(tw, "%s\t", c)
		}
		fmt.Fprintln(tw)
		for i, c := range p.Candidates {
			fmt.Fprintf(tw, "%s\t", c)
			for j := range p.Candidates {
				if i == j {
					fmt.Fprintf(tw, "-\t")
				} else {
					fmt.Fprintf(tw, "%d\t", p.Wins[i][j])
				}
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if p.CondorcetWinner != "" {
			fmt.Fprintf(w, "Condorcet winner: %s\n", p.CondorcetWinner)
		} else {
			fmt.Fprintln(w, "No Condorcet winner.")
		}
	}
	return nil
}
