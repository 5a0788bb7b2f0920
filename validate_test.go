package runoff_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 101: "101st", 111: "111th"} {
		if got := runoff.Ordinal(n); got != want {
			t.Errorf("Ordinal(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestJoinAnd(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  string
	}{{nil, ""}, {[]string{"A"}, "A"}, {[]string{"A", "B"}, "A and B"}, {[]string{"A", "B", "C"}, "A, B and C"}} {
		if got := runoff.JoinAnd(c.names); got != c.want {
			t.Errorf("JoinAnd(%q) = %q, want %q", c.names, got, c.want)
		}
	}
}

func election(names ...string) runoff.ElectionCreate {
	m := runoff.ElectionCreate{ElectionID: uuid.New(), OwnerID: uuid.New(), Title: "T", Seats: 1}
	for i, n := range names {
		m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.New(), Name: n, Position: i})
	}
	return m
}

func TestValidateElection(t *testing.T) {
	if err := runoff.ValidateElection(election("A", "B")); err != nil {
		t.Fatalf("valid election: %v", err)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = strings.Repeat("x", i+1)
	}
	bad := map[string]runoff.ElectionCreate{
		"one candidate":   election("A"),
		"101 candidates":  election(many...),
		"duplicate names": election("Ann", "ann "),
		"NUL in a name":   election("A\x00", "B"),
		"no title":        func() runoff.ElectionCreate { m := election("A", "B"); m.Title = " "; return m }(),
		"NUL in title":    func() runoff.ElectionCreate { m := election("A", "B"); m.Title = "a\x00b"; return m }(),
		"two seats":       func() runoff.ElectionCreate { m := election("A", "B"); m.Seats = 2; return m }(),
		"no owner":        func() runoff.ElectionCreate { m := election("A", "B"); m.OwnerID = uuid.Nil; return m }(),
		"out of order":    func() runoff.ElectionCreate { m := election("A", "B"); m.Candidates[1].Position = 5; return m }(),
		"invalid UTF-8":   election("A\xff", "B"),
	}
	for name, m := range bad {
		if err := runoff.ValidateElection(m); !errors.Is(err, runoff.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestValidateRanking(t *testing.T) {
	m := election("A", "B", "C")
	e := &runoff.Election{Candidates: m.Candidates}
	a, b := m.Candidates[0].ID, m.Candidates[1].ID
	if err := runoff.ValidateRanking(e, []uuid.UUID{b, a}); err != nil {
		t.Fatalf("valid ranking: %v", err)
	}
	for name, r := range map[string][]uuid.UUID{
		"empty":     nil,
		"unknown":   {uuid.New()},
		"duplicate": {a, b, a},
		"too long":  {a, b, m.Candidates[2].ID, a},
	} {
		if err := runoff.ValidateRanking(e, r); !errors.Is(err, runoff.ErrInvalid) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestSplitCandidates(t *testing.T) {
	got := runoff.SplitCandidates(" Ann \n\n\tBob\r\n  \nCy")
	if strings.Join(got, "|") != "Ann|Bob|Cy" {
		t.Fatalf("SplitCandidates = %q", got)
	}
}
