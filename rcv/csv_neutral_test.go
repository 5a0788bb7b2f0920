package rcv

import "testing"

// A cell an export neutralised ("'=…") reads as the name it stands for.
func TestCSVReadsNeutralisedNames(t *testing.T) {
	rules := DefaultRules()
	rules.Candidates = []string{"=SUM(A1)", "+1 Linus", "Grace"}
	c, err := ParseCSV([]byte("rank1,rank2\n'=SUM(A1),Grace\n'+1 Linus,\n"), &rules)
	if err != nil {
		t.Fatal(err)
	}
	if c.TotalBallots() != 2 || len(c.Candidates) != 3 {
		t.Fatalf("%d ballots, candidates %v", c.TotalBallots(), c.Candidates)
	}
}
