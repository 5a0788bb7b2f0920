package rcv

import (
	"fmt"
	"strings"
)

// TieKind says what a tie-break decided.
type TieKind string

const (
	TieElimination TieKind = "elimination" // who is eliminated
	TieElection    TieKind = "election"    // who is elected
)

// CandidateVotes is one line of a round's tally.
type CandidateVotes struct {
	Name  string `json:"name"`
	Votes Votes  `json:"votes"`
}

// Transfer moves votes from an elected or eliminated candidate at the start
// of the next round. To is a candidate, "exhausted" or "residual surplus".
type Transfer struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Votes Votes  `json:"votes"`
}

// Transfer targets that are not candidates (RCTab's labels).
const (
	TransferExhausted       = "exhausted"
	TransferResidualSurplus = "residual surplus"
)

// Inactive breaks down inactive ballots (cumulative, RCTab's categories).
type Inactive struct {
	ExhaustedChoices  Votes `json:"exhaustedChoices"`
	Overvotes         Votes `json:"overvotes"`
	RepeatedRankings  Votes `json:"repeatedRankings"`
	SkippedRankings   Votes `json:"skippedRankings"`
	FinalRoundSurplus Votes `json:"finalRoundSurplus"`
	// ShowFinalRoundSurplus is set on the last round of a contest that
	// transfers surpluses; RCTab only reports the field there.
	ShowFinalRoundSurplus bool `json:"showFinalRoundSurplus,omitempty"`
}

// Total sums every category.
func (in Inactive) Total() int64 {
	return in.ExhaustedChoices.Units + in.Overvotes.Units + in.RepeatedRankings.Units +
		in.SkippedRankings.Units + in.FinalRoundSurplus.Units
}

// Round is one round of counting.
type Round struct {
	Number    int              `json:"round"`
	Threshold Votes            `json:"threshold"`
	Tally     []CandidateVotes `json:"tally"` // highest first, then by name
	Elected   []string         `json:"elected"`
	// Eliminated lists candidates eliminated at the end of this round.
	Eliminated []string   `json:"eliminated"`
	Transfers  []Transfer `json:"transfers"`
	Inactive   Inactive   `json:"inactive"`
	// ResidualSurplus is the cumulative surplus lost to truncation so far.
	ResidualSurplus Votes `json:"residualSurplus"`
}

// TallyOf returns a candidate's votes in the round and whether they were counted.
func (r *Round) TallyOf(name string) (Votes, bool) {
	for _, cv := range r.Tally {
		if cv.Name == name {
			return cv.Votes, true
		}
	}
	return Votes{}, false
}

// TieBreak records a tie and how it was broken.
type TieBreak struct {
	Pass     int      `json:"pass,omitempty"`
	Round    int      `json:"round"`
	Kind     TieKind  `json:"kind"`
	Tied     []string `json:"tied"`
	Votes    Votes    `json:"votes"`
	Selected string   `json:"selected"`
	// Rule is the tiebreak mode that applied; Explanation says how.
	Rule        string `json:"rule"`
	Explanation string `json:"explanation"`
}

// Pairwise holds head-to-head counts: Wins[i][j] is the number of ballots
// ranking Candidates[i] above Candidates[j] (a ranked candidate is above every
// unranked one; marks at the same rank are level).
type Pairwise struct {
	Candidates      []string  `json:"candidates"`
	Wins            [][]int64 `json:"wins"`
	CondorcetWinner string    `json:"condorcetWinner,omitempty"` // "" when there is none
}

// Result is a complete tabulation.
type Result struct {
	Mode          string     `json:"mode"`
	Candidates    []string   `json:"candidates"` // as counted (undeclared write-ins last, when enabled)
	NumCandidates int        `json:"numCandidates"`
	NumWinners    int        `json:"numWinners"`
	Winners       []string   `json:"winners"` // in order elected
	Rounds        []Round    `json:"rounds"`
	TotalBallots  int64      `json:"totalBallots"`
	Undervotes    int64      `json:"undervotes"` // ballots that ranked nobody
	Places        int        `json:"places"`     // decimal places of vote arithmetic
	TieBreaks     []TieBreak `json:"tieBreaks"`
	// Passes holds one result per pass for multiPassIrv (Rounds is then empty).
	Passes   []*Result `json:"passes,omitempty"`
	Pairwise *Pairwise `json:"pairwise,omitempty"`
}

// FinalThreshold is the threshold of the last round.
func (r *Result) FinalThreshold() Votes {
	if len(r.Rounds) == 0 {
		return Votes{Places: r.Places}
	}
	return r.Rounds[len(r.Rounds)-1].Threshold
}

// TieNeedsDecision is returned (with the partial result) when a "…Ask"
// tie-break mode meets a tie that Rules.TieDecisions does not settle. Add a
// TieDecision for it and tabulate again.
type TieNeedsDecision struct {
	Pass       int
	Round      int
	Kind       TieKind
	Candidates []string // tied, sorted by name
	Votes      Votes
}

func (e *TieNeedsDecision) Error() string {
	verb := "eliminate"
	if e.Kind == TieElection {
		verb = "elect"
	}
	p := ""
	if e.Pass > 0 {
		p = fmt.Sprintf("pass %d, ", e.Pass)
	}
	return fmt.Sprintf("rcv: %sround %d: tie between %s with %s votes each: decide whom to %s",
		p, e.Round, strings.Join(e.Candidates, ", "), e.Votes, verb)
}

// Decision returns a TieDecision template for this tie.
func (e *TieNeedsDecision) Decision(selected string) TieDecision {
	return TieDecision{Pass: e.Pass, Round: e.Round, Kind: e.Kind, Candidates: e.Candidates, Selected: selected}
}
