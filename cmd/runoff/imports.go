package main

import (
	"context"
	"errors"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rcv"
)

// ballotFiles reads the web's uploads of paper ballots
// (handlers.BallotFiles). It is wiring, so it lives here: rcv finds which
// voting system's export a file is and reads its records, the domain
// decides what each becomes in the election (runoff.RecordMapper), and
// neither knows the other; a file in no vendor's format is read as
// Runoff's own CSV.
type ballotFiles struct{}

func (ballotFiles) Read(ctx context.Context, e *runoff.Election, fileName string, data []byte, opt runoff.ImportOptions) ([]runoff.ImportedBallot, runoff.ImportSummary, error) {
	x, err := rcv.OpenExport(fileName, data)
	switch {
	case errors.Is(err, rcv.ErrNotExport):
		ballots, err := runoff.ParseBallotFileNamed(e, data, opt.Names)
		return ballots, runoff.ImportSummary{Records: len(ballots), Imported: len(ballots)}, err
	case err != nil:
		return nil, runoff.ImportSummary{}, &runoff.ImportError{Message: "The file could not be read: " + err.Error() + "."}
	}
	contests := make([]runoff.FileContest, len(x.Contests))
	for i, c := range x.Contests {
		contests[i] = runoff.FileContest(c)
	}
	i, err := runoff.ChooseContest(e, opt.Names, opt.Contest, contests)
	if err != nil {
		return nil, runoff.ImportSummary{}, err
	}
	m := runoff.NewRecordMapper(e, opt.Names)
	var rec runoff.CastRecord // reused: Add keeps nothing of it
	err = x.Read(contests[i].ID, func(r rcv.CastRecord) error {
		if err := ctx.Err(); err != nil {
			return err // the organizer left
		}
		rec.Where, rec.Ranks = r.Where, rec.Ranks[:0]
		for _, rk := range r.Ranks {
			rec.Ranks = append(rec.Ranks, runoff.CastRank(rk))
		}
		m.Add(rec)
		return nil
	})
	if ctx.Err() != nil {
		return nil, runoff.ImportSummary{}, ctx.Err()
	}
	if err != nil {
		return nil, runoff.ImportSummary{}, &runoff.ImportError{Message: "The file could not be read: " + err.Error() + "."}
	}
	ballots, sum, err := m.Result()
	sum.Format = x.Format
	if len(contests) > 1 {
		sum.Contest = contests[i].Name
	}
	return ballots, sum, err
}
