package rcv

import "errors"

// Tabulate counts ballots under rules. For an "…Ask" tie-break it may return
// a partial result together with a *TieNeedsDecision error.
func Tabulate(rules Rules, ballots []Ballot) (*Result, error) {
	return tabulateBallots(rules, ballots, countOptions{})
}

// TabulateContest counts a contest read by ReadCSV (the fast path: no
// conversion of the weighted rankings).
func TabulateContest(rules Rules, c *Contest) (*Result, error) {
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	if len(c.Candidates) != len(rules.Candidates) {
		return nil, errors.New("rcv: contest and rules list different candidates")
	}
	return tabulateSet(rules, c.set, countOptions{})
}

// countOptions changes how the engine works, never what it finds; tests pass
// them explicitly to compare two ways of counting.
type countOptions struct {
	// rescanFromRankOne makes every rescan of a ballot start at rank 1, as
	// RCTab does, instead of at the rank it counted at (engine.resumeAt).
	rescanFromRankOne bool
	// noSimpleWalk walks simple ballots' tokens as any others' (simple.go).
	noSimpleWalk bool
}

func tabulateBallots(rules Rules, ballots []Ballot, opts countOptions) (*Result, error) {
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	set, err := ballotsToSet(ballots, len(rules.Candidates))
	if err != nil {
		return nil, err
	}
	return tabulateSet(rules, set, opts)
}

func tabulateSet(rules Rules, set *ballotSet, opts countOptions) (*Result, error) {
	if rules.WinnerElectionMode == MultiPassIRV {
		return tabulateMultiPass(rules, set, opts)
	}
	if rules.NumberOfWinners != 1 || rules.WinnerElectionMode != SingleWinnerMajority {
		return runPass(rules, set, nil, 0, opts)
	}
	// The head-to-head matrix reads the ballots only; count it on
	// another core while the rounds run.
	pairwise := make(chan *Pairwise, 1)
	go func() { pairwise <- computePairwise(rules, set) }()
	res, err := runPass(rules, set, nil, 0, opts)
	p := <-pairwise
	if res != nil && err == nil {
		res.Pairwise = p
	}
	return res, err
}

// tabulateMultiPass runs multi-pass IRV: single-winner passes, each
// excluding the winners of the passes before it.
func tabulateMultiPass(rules Rules, set *ballotSet, opts countOptions) (*Result, error) {
	top := &Result{Mode: MultiPassIRV, NumWinners: rules.NumberOfWinners, Places: rules.DecimalPlacesForVoteArithmetic}
	var prior []string
	for pass := 1; pass <= rules.NumberOfWinners; pass++ {
		passRules := rules
		passRules.WinnerElectionMode = SingleWinnerMajority
		passRules.NumberOfWinners = 1
		res, err := runPass(passRules, set, prior, pass, opts)
		if res != nil {
			res.Mode = MultiPassIRV
			top.Passes = append(top.Passes, res)
			top.Candidates, top.NumCandidates = res.Candidates, res.NumCandidates
			top.TotalBallots, top.Undervotes = res.TotalBallots, res.Undervotes
			top.TieBreaks = append(top.TieBreaks, res.TieBreaks...)
		}
		if err != nil {
			return top, err
		}
		if len(res.Winners) == 0 {
			break
		}
		top.Winners = append(top.Winners, res.Winners...)
		prior = append(prior, res.Winners...)
	}
	return top, nil
}
