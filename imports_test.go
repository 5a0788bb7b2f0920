package runoff_test

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

func TestParseBallotFile(t *testing.T) {
	e := &runoff.Election{ID: uuid.New(), Status: runoff.StatusOpen}
	for i, n := range []string{"Ada", "Grace Hopper", "=Linus"} {
		e.Candidates = append(e.Candidates, runoff.Candidate{ID: uuid.New(), Name: n, Position: i})
	}
	a, g, l := e.Candidates[0].ID, e.Candidates[1].ID, e.Candidates[2].ID
	for _, tc := range []struct {
		name, file string
		want       [][]uuid.UUID
		err        string
	}{
		{"names in rank columns", "rank1,rank2,rank3\nAda,,grace hopper\n\"Grace Hopper\",'=Linus\n", [][]uuid.UUID{{a, g}, {g, l}}, ""},
		{"rank numbers in candidate columns", "\ufeffAda,Grace Hopper,=Linus\n2,,1\n,1,\n3,1,\n", [][]uuid.UUID{{l, a}, {g}, {g, a}}, ""},
		{"a blank ballot", "rank1,rank2\nAda,\n,\n", nil, "line 3: This ballot ranks nobody."},
		{"a rank out of range", "Ada,Grace Hopper\n4,1\n", nil, `line 2: Ada's cell holds "4"; write a rank number from 1 to 3, or leave it empty.`},
		{"an overvote", "rank1,rank2\nAda|Grace Hopper,\n", nil, "line 2: Rank 1 marks more than one candidate (an overvote), which Runoff does not count; leave that rank empty instead."},
		{"too many cells", "rank1\nAda,Grace Hopper\n", nil, "line 2: This line has 2 cells; the header has 1."},
		{"no ballots", "rank1,rank2\n", nil, "line 2: The file has a header but no ballots."},
		{"broken CSV", "rank1\n\"Ada\n", nil, "line 2: The line is not valid CSV: extraneous or missing \" in quoted-field."},
	} {
		got, err := runoff.ParseBallotFile(e, []byte(tc.file))
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err == "":
			for i, b := range got {
				if b.Row != i+1 || !slices.Equal(b.Ranking, tc.want[i]) {
					t.Errorf("%s: ballot %d = %+v", tc.name, i, b)
				}
			}
		}
	}
}

// Runoff's CSV takes the organizer's map of names too, in the header and
// in the cells; a name mapped to "-" is passed over.
func TestParseBallotFileNamed(t *testing.T) {
	e := &runoff.Election{ID: uuid.New(), Status: runoff.StatusOpen}
	for i, n := range []string{"Ada", "Grace"} {
		e.Candidates = append(e.Candidates, runoff.Candidate{ID: uuid.New(), Name: n, Position: i})
	}
	a, g := e.Candidates[0].ID, e.Candidates[1].ID
	names, err := runoff.ParseNameMap(e, "Lovelace = Ada\nWrite-in = -")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		want [][]uuid.UUID
	}{
		{"rank1,rank2,rank3\nLovelace,Write-in,Grace\nWrite-in,Grace,\n", [][]uuid.UUID{{a, g}, {g}}},
		{"Grace,Write-in,Lovelace\n1,2,3\n,1,2\n", [][]uuid.UUID{{g, a}, {a}}},
	} {
		got, err := runoff.ParseBallotFileNamed(e, []byte(tc.file), names)
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("%q: %+v %v", tc.file, got, err)
		}
		for i, b := range got {
			if !slices.Equal(b.Ranking, tc.want[i]) {
				t.Errorf("%q: ballot %d = %v, want %v", tc.file, i, b.Ranking, tc.want[i])
			}
		}
	}
}
