package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// tennessee is the textbook example with ten of Chattanooga's voters
// ranking it alone, so their ballots stop counting once it is out.
func tennessee() *store.Tally {
	e := &runoff.Election{ID: uuid.New(), Title: "Capital", Seats: 1, BallotsCounted: 100}
	for i, n := range []string{"Memphis", "Nashville", "Chattanooga", "Knoxville"} {
		e.Candidates = append(e.Candidates, runoff.Candidate{ID: uuid.New(), Name: n, Position: i})
	}
	rank := func(n int64, idx ...int) store.RankingCount {
		rc := store.RankingCount{Count: n}
		for _, i := range idx {
			rc.Ranking = append(rc.Ranking, e.Candidates[i].ID)
		}
		return rc
	}
	return &store.Tally{Election: e, Rankings: []store.RankingCount{
		rank(42, 0, 1, 2, 3), rank(26, 1, 2, 3, 0), rank(5, 2, 3, 1, 0), rank(17, 3, 2, 1, 0), rank(10, 2),
	}}
}

func TestResultsModel(t *testing.T) {
	snap, err := Count(tennessee())
	if err != nil {
		t.Fatal(err)
	}
	m := snap.Model
	if !slices.Equal(m.Winners, []string{"Nashville"}) || m.Ballots != 100 || len(m.Rounds) != 3 {
		t.Fatalf("winners %v, ballots %d, %d rounds", m.Winners, m.Ballots, len(m.Rounds))
	}
	if want := []string{"Nashville", "Memphis", "Knoxville", "Chattanooga"}; !slices.Equal(m.Candidates, want) {
		t.Errorf("finishing order %v, want %v", m.Candidates, want)
	}
	r1, r2, r3 := m.Rounds[0], m.Rounds[1], m.Rounds[2]
	line := func(r runoff.ResultRound) string {
		s := ""
		for _, c := range r.Tally {
			s += fmt.Sprintf("%s %s %.1f%% %s; ", c.Name, c.Votes, c.Share, c.Status)
		}
		return s
	}
	for _, tc := range []struct {
		got, want string
	}{
		{line(r1), "Nashville 26 26.0% continuing; Memphis 42 42.0% continuing; Knoxville 17 17.0% continuing; Chattanooga 15 15.0% eliminated; "},
		{line(r2), "Nashville 26 28.9% continuing; Memphis 42 46.7% continuing; Knoxville 22 24.4% eliminated; Chattanooga  0.0% out; "},
		{line(r3), "Nashville 48 53.3% elected; Memphis 42 46.7% continuing; Knoxville  0.0% out; Chattanooga  0.0% out; "},
		{r1.Threshold + " " + r2.Threshold + " " + r3.Threshold, "51 46 46"},
		{r1.Continuing + " " + r2.Continuing, "100 90"},
		{r1.ThresholdRule, "More than half of the 100 votes still counting in this round."},
		{r1.ThresholdChange, ""},
		{r2.ThresholdChange, "Lower than round 1's 51 because 10 ballots stopped counting when every candidate they ranked was out: 90 votes are still counting, against 100 then."},
		{r3.ThresholdChange, ""},
		{fmt.Sprint(r1.Transfers), "[{Chattanooga eliminated [{Knoxville 5}] 10 }]"},
		{fmt.Sprint(r2.Transfers), "[{Knoxville eliminated [{Nashville 22}]  }]"},
		{r2.Inactive.ExhaustedChoices + " " + r2.Inactive.Total, "10 10"},
		{fmt.Sprint(r3.Elected, r3.Eliminated), "[Nashville] []"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
	if m.Pairwise == nil || m.Pairwise.CondorcetWinner != "Nashville" {
		t.Errorf("pairwise %+v", m.Pairwise)
	}
	if len(snap.Report) == 0 || snap.BallotsCounted != 100 {
		t.Errorf("report of %d bytes, %d ballots", len(snap.Report), snap.BallotsCounted)
	}
}

// A tie is told in words: who tied, with how many votes, who went, and why.
func TestResultsModelTieInWords(t *testing.T) {
	tl := tennessee()
	tl.Rankings = []store.RankingCount{
		{Ranking: []uuid.UUID{tl.Election.Candidates[0].ID}, Count: 3},
		{Ranking: []uuid.UUID{tl.Election.Candidates[1].ID}, Count: 2},
		{Ranking: []uuid.UUID{tl.Election.Candidates[2].ID}, Count: 2},
	}
	tl.Election.Candidates = tl.Election.Candidates[:3]
	snap, err := Count(tl)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Model.TieBreaks) != 1 {
		t.Fatalf("tie-breaks %+v", snap.Model.TieBreaks)
	}
	tb := snap.Model.TieBreaks[0]
	if tb.Round != 1 || tb.Chosen != "Chattanooga" || tb.Outcome != runoff.CandidateEliminated || tb.Votes != "2" ||
		tb.Explanation != "Chattanooga and Nashville were tied with 2 votes each in round 1. The rules look first at earlier rounds, but this is the first round, so the rules go by the order the candidates are listed: Chattanooga, listed last of them, was eliminated." {
		t.Errorf("tie-break %+v", tb)
	}
}

type fakeTallies struct {
	tallies map[uuid.UUID]*store.Tally
	stale   []uuid.UUID
	saved   []runoff.ResultSnapshot
}

func (f *fakeTallies) StaleElections(context.Context, int) ([]uuid.UUID, error) { return f.stale, nil }

// ReadTally hands over every ranking each time, whatever version is asked
// for: each one's count is right either way.
func (f *fakeTallies) ReadTally(_ context.Context, id uuid.UUID, r store.TallyReader) (*store.Tally, error) {
	t := f.tallies[id]
	if r.Since(t.Election) < 0 {
		r.Expect(len(t.Rankings), 0)
	}
	for _, rc := range t.Rankings {
		if err := r.Ranking(rc.Ranking, rc.Count); err != nil {
			return nil, err
		}
	}
	return &store.Tally{Election: t.Election, Decisions: t.Decisions, ReadAt: t.ReadAt}, nil
}
func (f *fakeTallies) SaveResult(_ context.Context, r runoff.ResultSnapshot) error {
	f.saved = append(f.saved, r)
	return nil
}

// Notify's IDs are the ones recomputed when told; the scan finds the rest.
func TestRecomputerUsesNotifiedIDs(t *testing.T) {
	a, b := tennessee(), tennessee()
	fs := &fakeTallies{tallies: map[uuid.UUID]*store.Tally{a.Election.ID: a, b.Election.ID: b}}
	rc := NewRecomputer(fs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rc.Notify([]uuid.UUID{a.Election.ID})
	if err := rc.recomputeAll(context.Background(), rc.takePending()); err != nil {
		t.Fatal(err)
	}
	if len(fs.saved) != 1 || fs.saved[0].ElectionID != a.Election.ID {
		t.Fatalf("recomputed %v", fs.saved)
	}
	fs.stale = []uuid.UUID{b.Election.ID}
	rc.Notify([]uuid.UUID{a.Election.ID})
	if err := rc.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(fs.saved) != 2 || fs.saved[1].ElectionID != b.Election.ID || len(rc.takePending()) != 0 {
		t.Fatalf("scan recomputed %v", fs.saved)
	}
}

// A tie after round 1 is broken by looking back, and the words say which
// earlier round decided it and with what counts; other rules speak in
// their own terms.
func TestResultsModelTieWordsByRule(t *testing.T) {
	for _, tc := range []struct {
		rule, want string
	}{
		{"", "Chattanooga and Nashville were tied with 4 votes each in round 2. The rules look back at earlier rounds: in round 1 Chattanooga had fewer votes (3, against 4 for Nashville), so was eliminated."},
		{"useCandidateOrder", "Chattanooga and Nashville were tied with 4 votes each in round 2. The rules go by the order the candidates are listed: Chattanooga, listed last of them, was eliminated."},
		{"random", "Chattanooga and Nashville were tied with 4 votes each in round 2. A random draw among Chattanooga and Nashville decided: "},
	} {
		tl := tennessee()
		c := tl.Election.Candidates
		tl.Rankings = []store.RankingCount{
			{Ranking: []uuid.UUID{c[0].ID}, Count: 6}, {Ranking: []uuid.UUID{c[1].ID}, Count: 4},
			{Ranking: []uuid.UUID{c[2].ID}, Count: 3}, {Ranking: []uuid.UUID{c[3].ID, c[2].ID}, Count: 1},
		}
		if tc.rule != "" {
			tl.Election.Settings.Tiebreak = tc.rule
			seed := int64(7)
			tl.Election.Settings.RandomSeed = &seed
		}
		snap, err := Count(tl)
		if err != nil {
			t.Fatal(err)
		}
		tbs := snap.Model.TieBreaks
		if len(tbs) != 1 {
			t.Fatalf("%s: tie-breaks %+v", tc.rule, tbs)
		}
		got := tbs[0].Explanation
		if got != tc.want && !(strings.HasSuffix(tc.want, " ") && strings.HasPrefix(got, tc.want)) {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.rule, got, tc.want)
		}
		if strings.Contains(got, "selected") {
			t.Errorf("%s: %q says selected", tc.rule, got)
		}
	}
}

func TestSmithAndCycle(t *testing.T) {
	names := []string{"Ada", "Bo", "Cy", "Di"}
	// Ada beats Bo, Bo beats Cy, Cy beats Ada; all three beat Di.
	wins := [][]int64{{0, 6, 3, 7}, {3, 0, 6, 7}, {6, 3, 0, 7}, {2, 2, 2, 0}}
	smith, cycle := smithAndCycle(names, wins)
	if !slices.Equal(smith, []string{"Ada", "Bo", "Cy"}) || !slices.Equal(cycle, []string{"Ada", "Bo", "Cy"}) {
		t.Errorf("smith %v, cycle %v", smith, cycle)
	}
	// Ada and Bo level, both beat Cy: no circle, the Smith set is the two.
	wins = [][]int64{{0, 4, 6}, {4, 0, 6}, {2, 2, 0}}
	smith, cycle = smithAndCycle(names[:3], wins)
	if !slices.Equal(smith, []string{"Ada", "Bo"}) || len(cycle) != 0 {
		t.Errorf("smith %v, cycle %v", smith, cycle)
	}
}

// The wait after a pass grows with its cost, up to MaxInterval, and past
// that only for a pass too long for it (recounting then takes a third of
// the worker at most).
func TestRecomputerPause(t *testing.T) {
	rc := NewRecomputer(&fakeTallies{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, c := range []struct{ took, want time.Duration }{
		{5 * time.Millisecond, 250 * time.Millisecond},     // a replay: MinInterval
		{80 * time.Millisecond, 400 * time.Millisecond},    // a full count: CostRatio×d
		{300 * time.Millisecond, time.Second},              // capped at MaxInterval
		{700 * time.Millisecond, 1400 * time.Millisecond},  // too long for it: 2d
		{1500 * time.Millisecond, 3000 * time.Millisecond}, // an election not kept
	} {
		if got := rc.pause(c.took); got != c.want {
			t.Errorf("after a pass of %v: wait %v, want %v", c.took, got, c.want)
		}
	}
}
