package rcv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Winner election modes (RCTab's internal labels).
const (
	SingleWinnerMajority                    = "singleWinnerMajority"
	MultiWinnerAllowOnlyOneWinnerPerRound   = "multiWinnerAllowOnlyOneWinnerPerRound"
	MultiWinnerAllowMultipleWinnersPerRound = "multiWinnerAllowMultipleWinnersPerRound"
	BottomsUp                               = "bottomsUp"
	BottomsUpUsingPercentageThreshold       = "bottomsUpUsingPercentageThreshold"
	MultiPassIRV                            = "multiPassIrv"
)

// Tie-break modes (RCTab's internal labels, plus one Runoff extension).
const (
	TiebreakUseCandidateOrder             = "useCandidateOrder"
	TiebreakRandom                        = "random"
	TiebreakPreviousRoundCountsThenRandom = "previousRoundCountsThenRandom"
	TiebreakStopCountingAndAsk            = "stopCountingAndAsk"
	TiebreakPreviousRoundCountsThenAsk    = "previousRoundCountsThenAsk"
	TiebreakGeneratePermutation           = "generatePermutation"
	// TiebreakPreviousRoundCountsThenCandidateOrder is a Runoff extension (not
	// RCTab): compare previous-round counts, and if still tied the
	// earlier-listed candidate survives (or wins).
	TiebreakPreviousRoundCountsThenCandidateOrder = "previousRoundCountsThenCandidateOrder"
)

// Overvote rules (RCTab's internal labels).
const (
	OvervoteAlwaysSkipToNextRank        = "alwaysSkipToNextRank"
	OvervoteExhaustImmediately          = "exhaustImmediately"
	OvervoteExhaustIfMultipleContinuing = "exhaustIfMultipleContinuing"
)

// UndeclaredWriteInLabel is the name RCTab reports undeclared write-ins under.
const UndeclaredWriteInLabel = "Undeclared Write-ins"

// Unlimited is the value of MaxSkippedRanksAllowed meaning "unlimited".
const Unlimited = -1

// UndeclaredWriteIn configures the undeclared write-in pseudo-candidate.
type UndeclaredWriteIn struct {
	Enabled bool `json:"enabled"`
	// Name is the label used in ballot files; defaults to UndeclaredWriteInLabel.
	Name string `json:"name"`
}

// TieDecision resolves one tie that a "…Ask" tie-break mode stopped at. The
// web passes decisions back in Rules.TieDecisions and tabulates again.
type TieDecision struct {
	Pass       int      `json:"pass,omitempty"` // multiPassIrv pass (1-based); 0 = any / single pass
	Round      int      `json:"round"`
	Kind       TieKind  `json:"kind"`
	Candidates []string `json:"candidates,omitempty"` // the tied set, for a sanity check; may be empty
	Selected   string   `json:"selected"`             // who is eliminated (elimination) or elected (election)
}

// Rules holds a contest's tabulation rules under RCTab's names.
type Rules struct {
	WinnerElectionMode     string `json:"winnerElectionMode"`
	NumberOfWinners        int    `json:"numberOfWinners"`
	TiebreakMode           string `json:"tiebreakMode"`
	RandomSeed             int64  `json:"randomSeed"`
	OvervoteRule           string `json:"overvoteRule"`
	MaxSkippedRanksAllowed int    `json:"maxSkippedRanksAllowed"` // Unlimited (-1) = unlimited
	// MaxRankingsAllowed: Unlimited (-1) = "max" as RCTab 2.0 reads it
	// (every rank counts); 0 = unset, the number of declared candidates
	// (what RCTab 1.x made of "max").
	MaxRankingsAllowed int `json:"maxRankingsAllowed"`

	ExhaustOnDuplicateCandidate      bool `json:"exhaustOnDuplicateCandidate"`
	BatchElimination                 bool `json:"batchElimination"`
	CutoffElimination                bool `json:"cutoffElimination"` // eliminate everyone below the threshold at once (RCTab 2.0.1)
	ContinueUntilTwoCandidatesRemain bool `json:"continueUntilTwoCandidatesRemain"`
	StopTabulationEarlyAfterRound    int  `json:"stopTabulationEarlyAfterRound"` // 0 = never

	MinimumVoteThreshold                  string `json:"minimumVoteThreshold"` // decimal; "" = 0
	DecimalPlacesForVoteArithmetic        int    `json:"decimalPlacesForVoteArithmetic"`
	NonIntegerWinningThreshold            bool   `json:"nonIntegerWinningThreshold"`
	HareQuota                             bool   `json:"hareQuota"`
	DoesFirstRoundDetermineThreshold      bool   `json:"doesFirstRoundDetermineThreshold"`
	MultiSeatBottomsUpPercentageThreshold string `json:"multiSeatBottomsUpPercentageThreshold"` // percent, decimal

	Candidates         []string          `json:"candidates"`
	ExcludedCandidates []string          `json:"excludedCandidates"`
	UndeclaredWriteIn  UndeclaredWriteIn `json:"undeclaredWriteIn"`

	TieDecisions []TieDecision `json:"tieDecisions,omitempty"`

	// CandidatesFromBallots makes ReadCSV add unknown names as candidates in
	// order of first appearance (the CLI's default when no rules are given).
	CandidatesFromBallots bool `json:"-"`
}

// DefaultRules returns single-winner IRV with RCTab's suggested defaults.
func DefaultRules() Rules {
	return Rules{
		WinnerElectionMode:             SingleWinnerMajority,
		NumberOfWinners:                1,
		TiebreakMode:                   TiebreakPreviousRoundCountsThenCandidateOrder,
		OvervoteRule:                   OvervoteAlwaysSkipToNextRank,
		MaxSkippedRanksAllowed:         Unlimited,
		MaxRankingsAllowed:             0,
		DecimalPlacesForVoteArithmetic: 4,
		MinimumVoteThreshold:           "0",
	}
}

// ParseRules reads rules in the conformance rules.json format (RCTab rule
// names at top level, or an RCTab contest config with a "rules" object).
// Numbers may be written 4 or "4"; "" means unset.
func ParseRules(r io.Reader) (Rules, error) {
	rules := DefaultRules()
	rules.TiebreakMode = TiebreakUseCandidateOrder
	var top map[string]json.RawMessage
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return rules, fmt.Errorf("rules: %w", err)
	}
	fields := top
	if raw, ok := top["rules"]; ok {
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(raw, &inner); err == nil {
			fields = inner
		}
	}
	var errs []string
	fail := func(key string, err error) { errs = append(errs, fmt.Sprintf("%s: %v", key, err)) }

	str := func(key string) (string, bool) {
		raw, ok := fields[key]
		if !ok || string(raw) == "null" {
			return "", false
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s), true
		}
		return strings.TrimSpace(string(raw)), true
	}
	intField := func(key string, dst *int) {
		if s, ok := str(key); ok && s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				fail(key, fmt.Errorf("want an integer, got %q", s))
				return
			}
			*dst = n
		}
	}
	boolField := func(key string, dst *bool) {
		if s, ok := str(key); ok && s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				fail(key, fmt.Errorf("want true or false, got %q", s))
				return
			}
			*dst = b
		}
	}
	if s, ok := str("winnerElectionMode"); ok && s != "" {
		rules.WinnerElectionMode = s
	}
	intField("numberOfWinners", &rules.NumberOfWinners)
	if s, ok := str("tiebreakMode"); ok && s != "" {
		rules.TiebreakMode = s
	}
	if s, ok := str("randomSeed"); ok && s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fail("randomSeed", fmt.Errorf("want an integer, got %q", s))
		}
		rules.RandomSeed = n
	}
	if s, ok := str("overvoteRule"); ok && s != "" {
		rules.OvervoteRule = s
	}
	if s, ok := str("maxSkippedRanksAllowed"); ok && s != "" {
		if strings.EqualFold(s, "unlimited") {
			rules.MaxSkippedRanksAllowed = Unlimited
		} else {
			intField("maxSkippedRanksAllowed", &rules.MaxSkippedRanksAllowed)
		}
	}
	if s, ok := str("maxRankingsAllowed"); ok && s != "" {
		if strings.EqualFold(s, "max") {
			// RCTab 2.0: "max" is no limit (ContestConfig.isRankingAllowed).
			rules.MaxRankingsAllowed = Unlimited
		} else {
			intField("maxRankingsAllowed", &rules.MaxRankingsAllowed)
		}
	}
	boolField("exhaustOnDuplicateCandidate", &rules.ExhaustOnDuplicateCandidate)
	boolField("batchElimination", &rules.BatchElimination)
	boolField("cutoffElimination", &rules.CutoffElimination)
	boolField("continueUntilTwoCandidatesRemain", &rules.ContinueUntilTwoCandidatesRemain)
	intField("stopTabulationEarlyAfterRound", &rules.StopTabulationEarlyAfterRound)
	if s, ok := str("minimumVoteThreshold"); ok && s != "" {
		rules.MinimumVoteThreshold = s
	}
	intField("decimalPlacesForVoteArithmetic", &rules.DecimalPlacesForVoteArithmetic)
	boolField("nonIntegerWinningThreshold", &rules.NonIntegerWinningThreshold)
	boolField("hareQuota", &rules.HareQuota)
	boolField("doesFirstRoundDetermineThreshold", &rules.DoesFirstRoundDetermineThreshold)
	if s, ok := str("multiSeatBottomsUpPercentageThreshold"); ok {
		rules.MultiSeatBottomsUpPercentageThreshold = s
	}

	// Candidates: a list of names, or RCTab's [{name, excluded}] objects, at
	// top level (conformance format) or beside "rules" (RCTab config).
	if raw, ok := top["candidates"]; ok {
		var names []string
		if json.Unmarshal(raw, &names) == nil {
			rules.Candidates = names
		} else {
			var objs []struct {
				Name     string `json:"name"`
				Excluded bool   `json:"excluded"`
			}
			if err := json.Unmarshal(raw, &objs); err != nil {
				fail("candidates", err)
			}
			for _, o := range objs {
				rules.Candidates = append(rules.Candidates, o.Name)
				if o.Excluded {
					rules.ExcludedCandidates = append(rules.ExcludedCandidates, o.Name)
				}
			}
		}
	}
	if raw, ok := top["excludedCandidates"]; ok && string(raw) != "null" {
		var names []string
		if err := json.Unmarshal(raw, &names); err != nil {
			fail("excludedCandidates", err)
		}
		rules.ExcludedCandidates = append(rules.ExcludedCandidates, names...)
	}
	if raw, ok := top["undeclaredWriteIn"]; ok && string(raw) != "null" {
		var u struct {
			Enabled json.RawMessage `json:"enabled"`
			Name    *string         `json:"name"`
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			fail("undeclaredWriteIn", err)
		}
		if b, err := strconv.ParseBool(strings.Trim(string(u.Enabled), `"`)); err == nil {
			rules.UndeclaredWriteIn.Enabled = b
		}
		if u.Name != nil {
			rules.UndeclaredWriteIn.Name = *u.Name
		}
	}
	if raw, ok := fields["undeclaredWriteInLabel"]; ok { // RCTab config style
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			rules.UndeclaredWriteIn = UndeclaredWriteIn{Enabled: true, Name: s}
		}
	}
	if raw, ok := top["tieDecisions"]; ok {
		if err := json.Unmarshal(raw, &rules.TieDecisions); err != nil {
			fail("tieDecisions", err)
		}
	}
	if len(errs) > 0 {
		return rules, fmt.Errorf("rules: %s", strings.Join(errs, "; "))
	}
	if err := rules.Validate(); err != nil {
		return rules, err
	}
	return rules, nil
}

// Validate reports rule values the tabulator cannot use.
func (r *Rules) Validate() error {
	var errs []string
	switch r.WinnerElectionMode {
	case SingleWinnerMajority, MultiWinnerAllowOnlyOneWinnerPerRound, MultiWinnerAllowMultipleWinnersPerRound,
		BottomsUp, BottomsUpUsingPercentageThreshold, MultiPassIRV:
	default:
		errs = append(errs, fmt.Sprintf("winnerElectionMode: unknown mode %q", r.WinnerElectionMode))
	}
	switch r.TiebreakMode {
	case TiebreakUseCandidateOrder, TiebreakRandom, TiebreakPreviousRoundCountsThenRandom, TiebreakStopCountingAndAsk,
		TiebreakPreviousRoundCountsThenAsk, TiebreakGeneratePermutation, TiebreakPreviousRoundCountsThenCandidateOrder:
	default:
		errs = append(errs, fmt.Sprintf("tiebreakMode: unknown mode %q", r.TiebreakMode))
	}
	switch r.OvervoteRule {
	case OvervoteAlwaysSkipToNextRank, OvervoteExhaustImmediately, OvervoteExhaustIfMultipleContinuing:
	default:
		errs = append(errs, fmt.Sprintf("overvoteRule: unknown rule %q", r.OvervoteRule))
	}
	if r.DecimalPlacesForVoteArithmetic < 0 || r.DecimalPlacesForVoteArithmetic > maxPlaces {
		errs = append(errs, fmt.Sprintf("decimalPlacesForVoteArithmetic: must be 0 to %d, got %d", maxPlaces, r.DecimalPlacesForVoteArithmetic))
	}
	if r.MaxSkippedRanksAllowed < Unlimited {
		errs = append(errs, "maxSkippedRanksAllowed: must be a non-negative integer or \"unlimited\"")
	}
	if r.MaxRankingsAllowed < Unlimited {
		errs = append(errs, "maxRankingsAllowed: must be a positive integer or \"max\"")
	}
	if r.WinnerElectionMode != BottomsUpUsingPercentageThreshold && r.NumberOfWinners < 1 {
		errs = append(errs, "numberOfWinners: must be at least 1")
	}
	if r.MinimumVoteThreshold != "" {
		if _, _, err := parseDecimal(r.MinimumVoteThreshold, -1); err != nil {
			errs = append(errs, "minimumVoteThreshold: "+err.Error())
		}
	}
	if r.WinnerElectionMode == BottomsUpUsingPercentageThreshold {
		if _, _, err := parseDecimal(r.MultiSeatBottomsUpPercentageThreshold, -1); err != nil {
			errs = append(errs, "multiSeatBottomsUpPercentageThreshold: "+err.Error())
		}
	}
	seen := map[string]bool{}
	for _, c := range r.Candidates {
		if seen[c] {
			errs = append(errs, fmt.Sprintf("candidates: %q listed twice", c))
		}
		seen[c] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("rules: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (r *Rules) uwiName() string {
	if r.UndeclaredWriteIn.Name != "" {
		return r.UndeclaredWriteIn.Name
	}
	return UndeclaredWriteInLabel
}

// MarshalJSON is the default encoding; declared so Rules round-trips through
// ParseRules-compatible JSON (numbers as numbers).
func (r Rules) MarshalJSON() ([]byte, error) {
	type plain Rules
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(plain(r)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// ReadMeta is descriptive contest information found beside the rules.
type ReadMeta struct {
	Contest, Jurisdiction, Office, Date string
}

// ReadMetaFromRules extracts the contest name (and, from an RCTab config's
// outputSettings, jurisdiction, office and date) from a rules file.
func ReadMetaFromRules(b []byte) ReadMeta {
	var doc struct {
		Source struct {
			Contest string `json:"contest"`
		} `json:"source"`
		Contest        string `json:"contest"`
		OutputSettings struct {
			ContestName  string `json:"contestName"`
			Jurisdiction string `json:"contestJurisdiction"`
			Office       string `json:"contestOffice"`
			Date         string `json:"contestDate"`
		} `json:"outputSettings"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return ReadMeta{}
	}
	m := ReadMeta{Contest: doc.Contest, Jurisdiction: doc.OutputSettings.Jurisdiction, Office: doc.OutputSettings.Office, Date: doc.OutputSettings.Date}
	if m.Contest == "" {
		m.Contest = doc.Source.Contest
	}
	if m.Contest == "" {
		m.Contest = doc.OutputSettings.ContestName
	}
	return m
}
