package runoff

// Results is an election's count as the pages show it: everything a reader
// needs, worked out by the worker when it tabulates, so that a page only
// formats it and never re-derives a count. Votes are exact decimals as
// text ("42", "12.5"); shares are percentages of the round's continuing
// votes.
type Results struct {
	// Method and TiebreakRule say in words how the count was made.
	Method string `json:"method"`
	// Mode is the counting method by its RCTab name (WinnerIRV, …); ""
	// in models stored before it was kept.
	Mode         string   `json:"mode,omitempty"`
	TiebreakRule string   `json:"tiebreak_rule"`
	Seats        int      `json:"seats"`
	Winners      []string `json:"winners"` // in the order elected
	// Candidates in finishing order: winners first, then by the round each
	// was still counted in (latest first) and their votes then.
	Candidates []string      `json:"candidates"`
	Ballots    int64         `json:"ballots"`    // ballots counted, those that ranked nobody included
	Undervotes int64         `json:"undervotes"` // ballots that ranked nobody
	Rounds     []ResultRound `json:"rounds"`
	TieBreaks  []TieBreak    `json:"tie_breaks"`
	Pairwise   *Pairwise     `json:"pairwise,omitempty"`
	// Passes holds one count per seat for sequential instant runoff: each
	// pass elects one, and later passes count without the earlier winners.
	// Rounds is then empty.
	Passes []Results `json:"passes,omitempty"`
	// RandomSeed is the seed a random tie-break drew from, shown so that
	// anyone can check the draw.
	RandomSeed *int64 `json:"random_seed,omitempty"`
	// Waiting is the tie the count stopped at for the organizer to break;
	// the rounds go as far as it.
	Waiting *TieWait `json:"waiting,omitempty"`
}

// ResultRound is one round of counting.
type ResultRound struct {
	Number int `json:"number"`
	// Threshold is the votes a candidate needs to be elected in this round;
	// ThresholdRule says how it is worked out, and ThresholdChange why it
	// differs from the previous round's ("" when it does not).
	Threshold       string `json:"threshold"`
	ThresholdRule   string `json:"threshold_rule"`
	ThresholdChange string `json:"threshold_change,omitempty"`
	Continuing      string `json:"continuing"` // votes for candidates still in the count
	// Tally has one entry per candidate, in Results.Candidates order.
	Tally      []CandidateRound `json:"tally"`
	Elected    []string         `json:"elected"`
	Eliminated []string         `json:"eliminated"`
	// Transfers are the votes that move at the end of this round, from
	// each elected or eliminated candidate.
	Transfers []TransferGroup `json:"transfers"`
	// Inactive counts ballots no longer counting for anyone, by cause, as
	// of this round.
	Inactive Inactive `json:"inactive"`
}

// Candidate statuses in a round.
const (
	CandidateContinuing = "continuing" // counted in this round, still in the race
	CandidateElected    = "elected"    // elected in this round
	CandidateEliminated = "eliminated" // eliminated at the end of this round
	CandidateWon        = "won"        // elected in an earlier round, still holding the seat
	CandidateOut        = "out"        // eliminated in an earlier round, or never counted
)

// CandidateRound is a candidate's line in a round.
type CandidateRound struct {
	Name   string  `json:"name"`
	Votes  string  `json:"votes"` // "" when out
	Share  float64 `json:"share"` // percent of the round's continuing votes
	Status string  `json:"status"`
}

// TransferGroup is where one candidate's votes went at the end of a round.
type TransferGroup struct {
	From string `json:"from"`
	// Why is "eliminated" or "elected" (a surplus moves on).
	Why       string       `json:"why"`
	To        []VoteAmount `json:"to"`
	Exhausted string       `json:"exhausted,omitempty"` // ballots that had no further choice
	// Residual is surplus lost to rounding in fractional transfers.
	Residual string `json:"residual,omitempty"`
}

// VoteAmount is a number of votes for a candidate.
type VoteAmount struct {
	Name  string `json:"name"`
	Votes string `json:"votes"`
}

// Inactive counts inactive ballots by cause, cumulatively.
type Inactive struct {
	ExhaustedChoices  string `json:"exhausted_choices"` // every ranked candidate was out
	Overvotes         string `json:"overvotes"`         // two candidates at one rank
	RepeatedRankings  string `json:"repeated_rankings"` // a candidate ranked twice
	SkippedRankings   string `json:"skipped_rankings"`  // too many ranks left blank
	FinalRoundSurplus string `json:"final_round_surplus,omitempty"`
	Total             string `json:"total"`
}

// TieBreak is a tie and how it was broken, in words.
type TieBreak struct {
	Round       int      `json:"round"`
	Tied        []string `json:"tied"`
	Votes       string   `json:"votes"`
	Chosen      string   `json:"chosen"`
	Outcome     string   `json:"outcome"` // "eliminated" or "elected"
	Explanation string   `json:"explanation"`
}

// Pairwise is the head-to-head count: Wins[i][j] is the number of ballots
// ranking Candidates[i] above Candidates[j].
type Pairwise struct {
	Candidates      []string  `json:"candidates"`
	Wins            [][]int64 `json:"wins"`
	CondorcetWinner string    `json:"condorcet_winner,omitempty"`
	// Without a Condorcet winner, Smith is the smallest group of candidates
	// each of whom beats or ties everyone outside it, and Cycle a circle of
	// head-to-head defeats within it (Cycle[0] beats Cycle[1], …, and the
	// last beats Cycle[0]); Cycle is empty when ties, not a circle, leave
	// no one unbeaten.
	Smith []string `json:"smith,omitempty"`
	Cycle []string `json:"cycle,omitempty"`
}
