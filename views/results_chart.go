package views

import (
	"fmt"
	"slices"
	"strings"

	"github.com/runoff-vote/runoff"
)

// Geometry of the results page's two drawings, server-rendered SVG: a
// bar chart per round and the flow of votes across rounds. Pure functions
// of the results model, so that tests can check them without a browser.

// BarChart is one round's votes as horizontal bars. Widths and the
// threshold's position are percentages of the drawing's width, so the
// chart fits any screen while its text keeps its size.
type BarChart struct {
	Height     int
	Rows       []Bar
	Threshold  string // x of the threshold line, "51.3%"; "" when there is none
	ThreshText string // "51 to win"
	ThreshEnd  bool   // the threshold line is near the right: label it leftwards
	Label      string // the text alternative
}

// Bar is one candidate's bar.
type Bar struct {
	Name      string
	NameY     int    // baseline of the name
	BarY      int    // top of the bar
	Width     string // "42.5%"
	Value     string // "16 · 55.2%"
	Status    string // continuing, elected, eliminated, won
	StatusTxt string // the status in words, or ""
}

// Bar chart layout, in px.
const (
	barTop    = 28 // room for the threshold's label
	barRowH   = 46
	barH      = 18
	barMaxPct = 66.0 // the longest bar's share of the width: room for its label
)

var statusWords = map[string]string{
	runoff.CandidateElected:    "elected",
	runoff.CandidateEliminated: "eliminated",
	runoff.CandidateWon:        "elected earlier",
}

// NewBarChart lays out a round's bars: candidates still counted, in the
// model's order, scaled so that the longest of the bars and the threshold
// spans barMaxPct of the width.
func NewBarChart(st ResultStep, open bool) BarChart {
	rd := st.Round
	scale := num(rd.Threshold)
	for _, c := range rd.Tally {
		if c.Status != runoff.CandidateOut {
			scale = max(scale, num(c.Votes))
		}
	}
	pct := func(v float64) float64 {
		if scale <= 0 {
			return 0
		}
		return v / scale * barMaxPct
	}
	ch := BarChart{}
	var alt []string
	for _, c := range rd.Tally {
		if c.Status == runoff.CandidateOut {
			continue
		}
		y := barTop + len(ch.Rows)*barRowH
		b := Bar{Name: c.Name, NameY: y + 14, BarY: y + 20, Width: fmt.Sprintf("%.2f%%", pct(num(c.Votes))),
			Value: fmt.Sprintf("%s · %.1f%%", c.Votes, c.Share), Status: c.Status, StatusTxt: statusWords[c.Status]}
		if open && c.Status == runoff.CandidateElected {
			b.StatusTxt += " so far"
		}
		ch.Rows = append(ch.Rows, b)
		a := fmt.Sprintf("%s %s (%.1f%%)", c.Name, plural(c.Votes, "vote"), c.Share)
		if b.StatusTxt != "" {
			a += ", " + b.StatusTxt
		}
		alt = append(alt, a)
	}
	ch.Height = barTop + len(ch.Rows)*barRowH + 4
	if t := num(rd.Threshold); t > 0 {
		x := pct(t)
		ch.Threshold = fmt.Sprintf("%.2f%%", x)
		ch.ThreshText = rd.Threshold + " to win"
		ch.ThreshEnd = x > 55
		alt = append(alt, plural(rd.Threshold, "vote")+" needed to win")
	}
	ch.Label = st.Label + ": " + strings.Join(alt, "; ") + "."
	return ch
}

// Flow is the Sankey-style drawing of every round: a column of nodes per
// round (each candidate still counted, and the ballots no longer
// counting), joined by bands as wide as the votes that stay or move.
type Flow struct {
	Width, Height int
	Columns       []FlowColumn
	Nodes         []FlowNode
	Bands         []FlowBand
	Label         string
}

// FlowColumn is a round's heading in the drawing.
type FlowColumn struct {
	X     int
	Label string
}

// FlowNode is a candidate (or the inactive ballots) in one round.
type FlowNode struct {
	X, Y, W, H int
	Name       string
	Votes      string
	Colour     int // index into the palette; -1 for inactive ballots
	LabelLeft  bool
	LabelRight bool
}

// FlowBand is votes going from a node to the next round's node.
type FlowBand struct {
	Path   string
	Colour int
	Title  string
}

// Flow layout, in px (the drawing scales with its viewBox).
const (
	flowTop    = 30
	flowH      = 320 // the tallest column
	flowGap    = 10
	flowNodeW  = 12
	flowColW   = 150 // from one round's nodes to the next's
	flowMargin = 200 // names beside the first and last columns
	flowColors = 8
	inactive   = "No longer counting"
)

// NewFlow lays out the flow of votes across a count's rounds (the passes
// of sequential instant runoff are not drawn: each starts afresh). ok is
// false when there is nothing to draw.
func NewFlow(m runoff.Results) (f Flow, ok bool) {
	rds := m.Rounds
	if len(rds) == 0 || len(m.Passes) > 0 {
		return Flow{}, false
	}
	colour := map[string]int{}
	for i, n := range m.Candidates {
		colour[n] = i % flowColors
	}
	type node struct {
		name  string
		votes float64
		text  string
		y, h  float64
		out   float64 // votes already drawn leaving (or arriving)
		in    float64
	}
	// Each column's nodes, in the model's order, inactive last; the scale
	// fits the fullest column, gaps included, in flowH.
	cols := make([][]*node, len(rds))
	k := 0.0
	for r, rd := range rds {
		var total float64
		for _, c := range rd.Tally {
			if c.Status == runoff.CandidateOut {
				continue
			}
			cols[r] = append(cols[r], &node{name: c.Name, votes: num(c.Votes), text: c.Votes})
			total += num(c.Votes)
		}
		// Ballots no longer counting for anyone as of this round.
		if v := num(rd.Inactive.Total); v > 0 {
			cols[r] = append(cols[r], &node{name: inactive, votes: v, text: rd.Inactive.Total})
			total += v
		}
		if total > 0 {
			if kr := float64(flowH-flowGap*(len(cols[r])-1)) / total; k == 0 || kr < k {
				k = kr
			}
		}
	}
	if k <= 0 {
		return Flow{}, false
	}
	find := func(r int, name string) *node {
		for _, n := range cols[r] {
			if n.name == name {
				return n
			}
		}
		return nil
	}
	f.Width = 2*flowMargin + (len(rds)-1)*flowColW + flowNodeW
	f.Height = flowTop + flowH + 10
	for r := range rds {
		x := flowMargin + r*flowColW
		f.Columns = append(f.Columns, FlowColumn{X: x + flowNodeW/2, Label: fmt.Sprintf("Round %d", rds[r].Number)})
		y := float64(flowTop)
		for _, n := range cols[r] {
			n.y, n.h = y, max(n.votes*k, 1)
			y += n.h + flowGap
			c := colour[n.name]
			if n.name == inactive {
				c = -1
			}
			f.Nodes = append(f.Nodes, FlowNode{X: x, Y: round(n.y), W: flowNodeW, H: round(n.h), Name: n.name, Votes: n.text, Colour: c,
				LabelLeft: r == 0, LabelRight: r == len(rds)-1})
		}
	}
	band := func(r int, from, to *node, v float64, title string) {
		if v <= 0 || from == nil || to == nil {
			return
		}
		h := v * k
		x0 := float64(flowMargin + r*flowColW + flowNodeW)
		x1 := float64(flowMargin + (r+1)*flowColW)
		y0, y1 := from.y+from.out, to.y+to.in
		from.out += h
		to.in += h
		xm := (x0 + x1) / 2
		c := colour[from.name]
		if from.name == inactive {
			c = -1
		}
		f.Bands = append(f.Bands, FlowBand{Colour: c, Title: title,
			Path: fmt.Sprintf("M%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1fL%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1fZ",
				x0, y0, xm, y0, xm, y1, x1, y1, x1, y1+h, xm, y1+h, xm, y0+h, x0, y0+h)})
	}
	var alt []string
	for r := 0; r+1 < len(rds); r++ {
		rd := rds[r]
		moved := map[string]float64{}
		for _, g := range rd.Transfers {
			for _, t := range g.To {
				moved[g.From] += num(t.Votes)
			}
			moved[g.From] += num(g.Exhausted) + num(g.Residual)
		}
		// What stays, then what moves, node by node in order, so bands
		// leave each node top to bottom without crossing inside it.
		for _, n := range cols[r] {
			if to := find(r+1, n.name); to != nil {
				stay := n.votes - moved[n.name]
				band(r, n, to, stay, fmt.Sprintf("%s: %s kept into round %d", n.name, plural(fmtNum(stay), "vote"), rds[r+1].Number))
			}
			g, ok := transferFrom(rd, n.name)
			if !ok {
				continue
			}
			for _, t := range g.To {
				band(r, n, find(r+1, t.Name), num(t.Votes), fmt.Sprintf("%s to %s: %s", n.name, t.Name, plural(t.Votes, "vote")))
			}
			band(r, n, find(r+1, inactive), num(g.Exhausted), fmt.Sprintf("%s: %s with no further choice", n.name, plural(g.Exhausted, "vote")))
			if w := movedWords(g); w != "" {
				alt = append(alt, fmt.Sprintf("After round %d, %s's votes: %s", rd.Number, n.name, w))
			}
		}
	}
	f.Label = "How the votes moved from round to round. " + strings.Join(alt, ". ")
	if len(alt) == 0 {
		f.Label = "How the votes moved from round to round: the count took one round, so no votes moved."
	} else {
		f.Label += "."
	}
	// Bands are drawn under the nodes; keep inactive's last so candidates'
	// bands read on top of it.
	slices.SortStableFunc(f.Bands, func(a, b FlowBand) int {
		return boolInt(a.Colour == -1) - boolInt(b.Colour == -1)
	})
	return f, true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func round(f float64) int { return int(f + 0.5) }
