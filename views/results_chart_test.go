package views

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func pctOf(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		t.Fatalf("%q is not a percentage", s)
	}
	return f
}

// Bars are as long as their votes, on one scale with the threshold; the
// longest of them spans barMaxPct; candidates out of the count have none;
// the text alternative names every figure.
func TestBarChartGeometry(t *testing.T) {
	steps := resultSteps(scientists())
	ch := NewBarChart(steps[1], false) // Ada 10, Alan 12, Grace 7 eliminated; 15 to win
	if len(ch.Rows) != 3 {
		t.Fatalf("%d bars", len(ch.Rows))
	}
	want := map[string]float64{"Ada Lovelace": 10.0 / 15 * barMaxPct, "Alan Turing": 12.0 / 15 * barMaxPct, "Grace Hopper": 7.0 / 15 * barMaxPct}
	for i, b := range ch.Rows {
		if got := pctOf(t, b.Width); got < want[b.Name]-0.01 || got > want[b.Name]+0.01 {
			t.Errorf("%s's bar is %v%% wide, want %v%%", b.Name, got, want[b.Name])
		}
		if b.BarY != barTop+i*barRowH+20 || b.NameY >= b.BarY {
			t.Errorf("%s: name at %d, bar at %d", b.Name, b.NameY, b.BarY)
		}
	}
	if got := pctOf(t, ch.Threshold); got != barMaxPct {
		t.Errorf("threshold at %v%%, want %v%% (it is the largest figure)", got, barMaxPct)
	}
	if ch.Rows[2].StatusTxt != "eliminated" || ch.Height != barTop+3*barRowH+4 {
		t.Errorf("status %q, height %d", ch.Rows[2].StatusTxt, ch.Height)
	}
	if want := "Round 2: Ada Lovelace 10 votes (34.5%); Alan Turing 12 votes (41.4%); Grace Hopper 7 votes (24.1%), eliminated; 15 votes needed to win."; ch.Label != want {
		t.Errorf("label\n got %q\nwant %q", ch.Label, want)
	}
	// A winner past the threshold sets the scale; the threshold's label
	// turns leftwards near the right edge.
	ch = NewBarChart(steps[2], true)
	if ch.Rows[0].StatusTxt != "elected so far" {
		t.Errorf("while voting is open the winner is %q", ch.Rows[0].StatusTxt)
	}
	if got := pctOf(t, ch.Rows[0].Width); got != barMaxPct {
		t.Errorf("the longest bar is %v%%", got)
	}
	if got := pctOf(t, ch.Threshold); got < 15.0/16*barMaxPct-0.01 || got > 15.0/16*barMaxPct+0.01 || !ch.ThreshEnd {
		t.Errorf("threshold at %v%%, leftwards %v", got, ch.ThreshEnd)
	}
}

var pathRE = regexp.MustCompile(`^M([\d.]+) ([\d.]+)C[\d. ]+ ([\d.]+) ([\d.]+)L([\d.]+) ([\d.]+)C[\d. ]+ ([\d.]+) ([\d.]+)Z$`)

// The flow has a column per round, a node per candidate counted (and the
// ballots no longer counting), node heights in proportion to votes, no
// column taller than the drawing, and bands that leave and arrive within
// their nodes, as thick as the votes they carry.
func TestFlowGeometry(t *testing.T) {
	f, ok := NewFlow(scientists())
	if !ok {
		t.Fatal("no flow")
	}
	if len(f.Columns) != 3 {
		t.Fatalf("%d columns", len(f.Columns))
	}
	nodes := map[string]FlowNode{}
	for _, n := range f.Nodes {
		nodes[fmt.Sprintf("%d %s", n.X, n.Name)] = n
		if n.Y < flowTop || n.Y+n.H > flowTop+flowH+1 {
			t.Errorf("%s at %d+%d is outside the drawing", n.Name, n.Y, n.H)
		}
	}
	if len(f.Nodes) != 4+4+3 { // round 1: 4; round 2: 3 and inactive; round 3: 2 and inactive
		t.Fatalf("%d nodes: %+v", len(f.Nodes), f.Nodes)
	}
	ada1, dijkstra1 := nodes[fmt.Sprintf("%d Ada Lovelace", flowMargin)], nodes[fmt.Sprintf("%d Edsger Dijkstra", flowMargin)]
	if r := float64(ada1.H) / float64(dijkstra1.H); r < 10.0/6-0.1 || r > 10.0/6+0.1 {
		t.Errorf("Ada's node is %d high and Dijkstra's %d: not 10 to 6", ada1.H, dijkstra1.H)
	}
	// Bands: round 1 → 2: Ada, Alan, Grace stay, Dijkstra → Alan, Dijkstra → inactive;
	// round 2 → 3: Ada, Alan, inactive stay, Grace → Ada, Grace → Alan.
	if len(f.Bands) != 5+5 {
		t.Errorf("%d bands", len(f.Bands))
	}
	k := float64(ada1.H) / 10
	for _, b := range f.Bands {
		m := pathRE.FindStringSubmatch(b.Path)
		if m == nil {
			t.Fatalf("path %q", b.Path)
		}
		v := make([]float64, 8)
		for i := range v {
			v[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		if d := (v[5] - v[3]) - (v[7] - v[1]); v[2] != v[4] || d > 0.15 || d < -0.15 {
			t.Errorf("%s: band not even: %q", b.Title, b.Path)
		}
		if b.Title == "Edsger Dijkstra to Alan Turing: 5 votes" {
			if h := v[5] - v[3]; h < 5*k-0.5 || h > 5*k+0.5 {
				t.Errorf("Dijkstra's 5 to Turing drawn %v high, want %v", h, 5*k)
			}
		}
	}
	if !strings.Contains(f.Label, "After round 1, Edsger Dijkstra's votes: 5 of those 6 votes went to Alan Turing and 1 had no further choice.") {
		t.Errorf("label %q", f.Label)
	}
}
