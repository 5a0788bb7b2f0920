package rcv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// migrateConfig brings a contest config written by an older RCTab up to
// date as RCTab's ContestConfigMigration does when it opens one: old
// winner-election and tie-break mode names, and the labels that used to
// live in the rules, which now belong to every CVR source. RCTab migrates
// every config whose tabulatorVersion is missing or not "TEST" (its own
// test configs); so does Runoff (a current config has nothing to migrate).
func migrateConfig(data []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var version string
	if raw, ok := doc["tabulatorVersion"]; ok {
		_ = json.Unmarshal(raw, &version)
	}
	if version == "TEST" {
		return data, nil
	}
	var rules map[string]any
	if raw, ok := doc["rules"]; ok && string(raw) != "null" {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&rules); err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
	}
	var sources []map[string]any
	if raw, ok := doc["cvrFileSources"]; ok && string(raw) != "null" {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&sources); err != nil {
			return nil, fmt.Errorf("cvrFileSources: %w", err)
		}
	}
	if rules == nil {
		return data, nil
	}
	text := func(v any) string {
		switch x := v.(type) {
		case string:
			return strings.TrimSpace(x)
		case json.Number:
			return x.String()
		case bool:
			return strconv.FormatBool(x)
		}
		return ""
	}
	winners, _ := strconv.Atoi(text(rules["numberOfWinners"]))
	switch text(rules["winnerElectionMode"]) {
	case "standard":
		if winners > 1 {
			rules["winnerElectionMode"] = MultiWinnerAllowMultipleWinnersPerRound
		} else {
			rules["winnerElectionMode"] = SingleWinnerMajority
		}
	case "singleSeatContinueUntilTwoCandidatesRemain":
		rules["winnerElectionMode"] = SingleWinnerMajority
		rules["continueUntilTwoCandidatesRemain"] = true
	case "multiSeatAllowOnlyOneWinnerPerRound":
		rules["winnerElectionMode"] = MultiWinnerAllowOnlyOneWinnerPerRound
	case "multiSeatBottomsUp":
		if winners == 0 || text(rules["multiSeatBottomsUpPercentageThreshold"]) != "" {
			rules["winnerElectionMode"] = BottomsUpUsingPercentageThreshold
		} else {
			rules["winnerElectionMode"] = BottomsUp
		}
	case "multiSeatSequentialWinnerTakesAll":
		rules["winnerElectionMode"] = MultiPassIRV
	}
	switch text(rules["tiebreakMode"]) {
	case "interactive":
		rules["tiebreakMode"] = TiebreakStopCountingAndAsk
	case "previousRoundCountsThenInteractive":
		rules["tiebreakMode"] = TiebreakPreviousRoundCountsThenAsk
	case "usePermutationInConfig":
		rules["tiebreakMode"] = TiebreakUseCandidateOrder
	}
	for ruleKey, sourceKey := range map[string]string{
		"overvoteLabel":          "overvoteLabel",
		"undervoteLabel":         "skippedRankLabel",
		"undeclaredWriteInLabel": "undeclaredWriteInLabel",
	} {
		if v := text(rules[ruleKey]); v != "" {
			for _, s := range sources {
				s[sourceKey] = v
			}
		}
		delete(rules, ruleKey)
	}
	if text(rules["treatBlankAsUndeclaredWriteIn"]) == "true" {
		for _, s := range sources {
			s["treatBlankAsUndeclaredWriteIn"] = true
		}
	}
	for _, s := range sources {
		if u, ok := s["undervoteLabel"]; ok && u != nil {
			if sk, ok := s["skippedRankLabel"]; !ok || sk == nil {
				s["skippedRankLabel"] = u
			}
		}
	}
	var err error
	if doc["rules"], err = json.Marshal(rules); err != nil {
		return nil, err
	}
	if sources != nil {
		if doc["cvrFileSources"], err = json.Marshal(sources); err != nil {
			return nil, err
		}
	}
	return json.Marshal(doc)
}
