package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/runoff-vote/runoff/rcv"
)

const tabulateUsage = `usage: runoff tabulate [--rules RULES.json] [--format json|table] BALLOTS.csv
       runoff tabulate --config CONTEST_config.json [--format json|table]

Counts ranked-choice ballots the way RCTab (the Universal RCV Tabulator)
does and prints RCTab's detailed-report JSON (default) or a round table.
Without --rules: single-winner IRV, candidates in order of first appearance.
With --config: an RCTab contest config and the cast vote records it names
(ES&S .xlsx, Dominion, CDF JSON/XML, Hart, Clear Ballot, generic CSV), paths
relative to the config's folder.
`

// runTabulate implements "runoff tabulate".
func runTabulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tabulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, tabulateUsage)
		fs.PrintDefaults()
	}
	rulesPath := fs.String("rules", "", "rules JSON with RCTab rule names (conformance rules.json format)")
	format := fs.String("format", "json", "output format: json or table")
	contestName := fs.String("contest", "", "contest name for the report (default: from the rules, else the file name)")
	configPath := fs.String("config", "", "RCTab contest config (CONTEST_config.json); reads the CVR files it names")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "json" && *format != "table" {
		return fmt.Errorf("tabulate: --format must be json or table, not %q", *format)
	}
	if *configPath != "" {
		if fs.NArg() != 0 || *rulesPath != "" {
			fs.Usage()
			return errors.New("tabulate: --config names the ballots and rules itself: give no ballot file and no --rules")
		}
		return tabulateConfig(ctx, *configPath, *format, *contestName, stdout, stderr)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("tabulate: want exactly one ballot file")
	}
	ballotsPath := fs.Arg(0)
	if err := ctx.Err(); err != nil {
		return err
	}

	rules := rcv.DefaultRules()
	meta := rcv.ReadMeta{}
	if *rulesPath != "" {
		b, err := os.ReadFile(*rulesPath)
		if err != nil {
			return fmt.Errorf("tabulate: %w", err)
		}
		rules, err = rcv.ParseRules(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("tabulate: %s: %w", *rulesPath, err)
		}
		meta = rcv.ReadMetaFromRules(b)
	}
	if len(rules.Candidates) == 0 {
		rules.CandidatesFromBallots = true
	}
	data, err := os.ReadFile(ballotsPath)
	if err != nil {
		return fmt.Errorf("tabulate: %w", err)
	}
	contest, err := rcv.ParseCSV(data, &rules)
	if err != nil {
		return fmt.Errorf("tabulate: %s: %w", ballotsPath, err)
	}
	data = nil
	res, tabErr := rcv.TabulateContest(rules, contest)
	if res == nil {
		return fmt.Errorf("tabulate: %s: %w", ballotsPath, tabErr)
	}
	name := *contestName
	if name == "" {
		name = meta.Contest
	}
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(ballotsPath), filepath.Ext(ballotsPath))
	}
	report := rcv.ReportMeta{Contest: name, Jurisdiction: meta.Jurisdiction, Office: meta.Office, Date: meta.Date}
	return writeTabulation(stdout, res, tabErr, report, *format, ballotsPath)
}

// tabulateConfig counts the contest an RCTab contest config describes. The
// config and every CVR file are read (and checked) before anything is
// written to stdout.
func tabulateConfig(ctx context.Context, path, format, contestName string, stdout, stderr io.Writer) error {
	cfg, err := rcv.ReadContestConfig(path)
	if err != nil {
		return fmt.Errorf("tabulate: %w", err)
	}
	for _, note := range cfg.Notes {
		fmt.Fprintf(stderr, "tabulate: note: %s\n", note)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	contest, err := cfg.ReadCVRs()
	if err != nil {
		return fmt.Errorf("tabulate: %s: %w", path, err)
	}
	res, tabErr := rcv.TabulateContest(cfg.Rules, contest)
	if res == nil {
		return fmt.Errorf("tabulate: %s: %w", path, tabErr)
	}
	name := contestName
	if name == "" {
		name = cfg.Meta.Contest
	}
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), "_config.json")
	}
	report := rcv.ReportMeta{Contest: name, Jurisdiction: cfg.Meta.Jurisdiction, Office: cfg.Meta.Office, Date: cfg.Meta.Date}
	return writeTabulation(stdout, res, tabErr, report, format, path)
}

// writeTabulation prints a result (a partial one before a tie that needs a
// decision) and returns the tabulation's error, if any.
func writeTabulation(stdout io.Writer, res *rcv.Result, tabErr error, report rcv.ReportMeta, format, source string) error {
	var err error
	if format == "table" {
		err = res.WriteTable(stdout)
	} else {
		err = res.WriteJSON(stdout, report)
	}
	if err != nil {
		return fmt.Errorf("tabulate: write: %w", err)
	}
	if tabErr != nil {
		var tie *rcv.TieNeedsDecision
		if errors.As(tabErr, &tie) {
			return fmt.Errorf("tabulate: stopped (partial report above): %w", tabErr)
		}
		return fmt.Errorf("tabulate: %s: %w", source, tabErr)
	}
	return nil
}
