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

Counts a ranked-choice ballot file the way RCTab (the Universal RCV Tabulator)
does and prints RCTab's detailed-report JSON (default) or a round table.
Without --rules: single-winner IRV, candidates in order of first appearance.
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "json" && *format != "table" {
		return fmt.Errorf("tabulate: --format must be json or table, not %q", *format)
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
	if *format == "table" {
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
		return fmt.Errorf("tabulate: %s: %w", ballotsPath, tabErr)
	}
	return nil
}
