package runoff_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// Names a reader cannot tell apart, or cannot see, are refused with words
// that say why; text typed two ways is one text.
func TestNamesAReaderCanSee(t *testing.T) {
	if got := runoff.CleanText("  Cafe\u0301\r\nBar "); got != "Café\nBar" {
		t.Errorf("CleanText = %q", got)
	}
	for _, tc := range []struct {
		names []string
		title string
		want  map[string]string
	}{
		{[]string{"Ada\u200B", "Grace"}, "T", map[string]string{"candidates": "Candidate 1's name holds an invisible or direction-changing character (such as a zero-width space); type it plainly."}},
		{[]string{"Ada", "\u202EecarG"}, "T", map[string]string{"candidates": "Candidate 2's name holds an invisible or direction-changing character (such as a zero-width space); type it plainly."}},
		{[]string{"Ada", "\u0301"}, "T", map[string]string{"candidates": "Candidate 2's name has no visible character."}},
		{[]string{"Ada", "ＡＤＡ"}, "T", map[string]string{"candidates": `"ＡＤＡ" looks the same as "Ada"; voters must be able to tell candidates' names apart.`}},
		{[]string{"Ada", "Аda"}, "T", map[string]string{"candidates": "\"Аda\" looks the same as \"Ada\"; voters must be able to tell candidates' names apart."}}, // Cyrillic А
		{[]string{"Paypal", "Pаураl"}, "T", map[string]string{"candidates": `"Pаураl" looks the same as "Paypal"; voters must be able to tell candidates' names apart.`}},
		{[]string{"Ann", "Anne", "Anna"}, "T", nil}, // different names stay different
		{[]string{"Ada", "Grace"}, "Board\u2066", map[string]string{"title": "The title holds an invisible or direction-changing character (such as a zero-width space); type it plainly."}},
		{[]string{"Ada", "Grace"}, "\u200D", map[string]string{"title": "The title has no visible character."}},
		{[]string{"علی\u200Cرضا", "👩\u200D🔬"}, "T", nil}, // joiners that scripts and emoji need stay allowed
	} {
		m := runoff.ElectionCreate{ElectionID: uuid.New(), OwnerID: uuid.New(), Title: tc.title, Seats: 1}
		for i, n := range tc.names {
			m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.New(), Name: n, Position: i})
		}
		err := runoff.ValidateElection(m)
		var fields map[string]string
		if p, ok := err.(*runoff.Problem); ok {
			fields = p.Fields
		} else if err != nil {
			t.Fatal(err)
		}
		if len(fields) != len(tc.want) {
			t.Errorf("%q %q: %v, want %v", tc.title, tc.names, fields, tc.want)
			continue
		}
		for k, v := range tc.want {
			if fields[k] != v {
				t.Errorf("%q %q: %s = %q, want %q", tc.title, tc.names, k, fields[k], v)
			}
		}
	}
}
