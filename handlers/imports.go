package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// importDeadline bounds an import's upload and answer.
const importDeadline = 10 * time.Minute

// Imports reads how far an import has got.
type Imports interface {
	ImportProgress(ctx context.Context, electionID, importID uuid.UUID) (total, stored int, err error)
}

// BallotFiles reads a file of paper ballots for an election: Runoff's own
// CSV layouts, or a voting system's export (an ES&S workbook, a CDF JSON
// or XML report, a Clear Ballot CSV, a zip of a Dominion or Hart export),
// whose records it maps to the election's candidates by name or the
// organizer's map of names. Every ballot of the file is checked before any
// is returned; a mistake is a *runoff.ImportError naming where it is.
type BallotFiles interface {
	Read(ctx context.Context, e *runoff.Election, fileName string, data []byte, opt runoff.ImportOptions) ([]runoff.ImportedBallot, runoff.ImportSummary, error)
}

// handleImport takes a file of paper ballots: it checks the whole file
// first (nothing is sent from a file with a mistake, which is named by its
// line, row or record), then publishes it in batches and sends the
// organizer to a page that follows it. The same file sent again stores
// nothing twice.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	// A file of up to 50 MB may come over a slow link, and checking a
	// large workbook takes seconds: this request alone gets longer than
	// the server's 30 s to arrive and to be answered.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(importDeadline))
	_ = rc.SetWriteDeadline(time.Now().Add(importDeadline))
	form := func(err error, retry string) error {
		return s.onAdminPage(r, e, err, retry, func(v *views.ElectionAdmin, msg string) {
			v.ImportError = msg
			v.ImportNames, v.ImportContest = r.FormValue("names"), r.FormValue("contest")
			var p *runoff.Problem
			if errors.As(err, &p) {
				v.ImportNamesError = p.Fields["names"]
			}
		})
	}
	if e.StateAt(time.Now()) == runoff.StatusDraft {
		return form(runoff.Invalid("The election is still a draft, and its candidates may change: open it before importing paper ballots.", nil), "")
	}
	r.Body = http.MaxBytesReader(w, r.Body, runoff.MaxImportBytes+1<<20)
	file, header, err := r.FormFile("file")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return form(&runoff.Problem{Kind: errTooLarge, Message: "The file is larger than 50 MB, the most Runoff imports at once. Split it into several files (each with the header line) and import each."}, "")
	case err != nil:
		return form(runoff.Invalid("Choose a file of ballots to import.", nil), "")
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, runoff.MaxImportBytes+1))
	if err != nil {
		return err
	}
	if len(data) > runoff.MaxImportBytes {
		return form(&runoff.Problem{Kind: errTooLarge, Message: "The file is larger than 50 MB, the most Runoff imports at once. Split it into several files (each with the header line) and import each."}, "")
	}
	names, err := runoff.ParseNameMap(e, r.FormValue("names"))
	if err != nil {
		return form(err, "")
	}
	name := runoff.CleanText(filepath.Base(header.Filename))
	ballots, summary, err := s.BallotFiles.Read(r.Context(), e, name, data, runoff.ImportOptions{Names: names, Contest: r.FormValue("contest")})
	if err != nil {
		var ie *runoff.ImportError
		if errors.As(err, &ie) {
			msg := "Nothing was imported: " + ie.Message
			if p := ie.Place(); p != "" {
				msg = "Nothing was imported: " + p + ": " + ie.Message
			}
			return form(runoff.Invalid(msg, nil), "")
		}
		return err
	}
	id := runoff.ImportID(e.ID, data)
	for k := 0; k*runoff.ImportBatchSize < len(ballots); k++ {
		part := ballots[k*runoff.ImportBatchSize : min((k+1)*runoff.ImportBatchSize, len(ballots))]
		m := runoff.ElectionImport{ImportID: id, BatchID: uuid.NewSHA1(id, []byte("batch "+strconv.Itoa(k))), ElectionID: e.ID,
			OrganizerID: organizerID(r.Context()), FileName: name, Total: len(ballots), Ballots: part, RequestedAt: time.Now().UTC()}
		body, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if err := s.Publisher.Publish(r.Context(), runoff.KeyElectionImport, m.BatchID.String(), body); err != nil {
			return form(err, fmt.Sprintf("Runoff couldn't confirm that all of the file was received (%d of %d ballots were). Import the same file again in a moment: the ballots already received are not stored twice.", k*runoff.ImportBatchSize, len(ballots)))
		}
	}
	q := url.Values{"of": {strconv.Itoa(len(ballots))}}
	if summary.Format != "" {
		q.Set("format", summary.Format)
	}
	if summary.Contest != "" {
		q.Set("contest", summary.Contest)
	}
	for k, n := range map[string]int{"blank": summary.Blank, "over": summary.Overvotes, "repeat": summary.Repeats, "past": summary.PastLimit, "passed": summary.Passed} {
		if n > 0 {
			q.Set(k, strconv.Itoa(n))
		}
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/elections/%s/imports/%s?%s", e.ID, id, q.Encode()), http.StatusSeeOther)
	return nil
}

// importSummary reads back what the upload made of the file, which it
// put in the progress page's address.
func importSummary(q url.Values) runoff.ImportSummary {
	n := func(k string) int {
		v, _ := strconv.Atoi(q.Get(k))
		return max(v, 0)
	}
	return runoff.ImportSummary{Format: q.Get("format"), Contest: q.Get("contest"), Blank: n("blank"), Overvotes: n("over"), Repeats: n("repeat"), PastLimit: n("past"), Passed: n("passed")}
}

// handleImportProgress follows an import until every ballot is stored.
func (s *Server) handleImportProgress(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "importID")
	if err != nil {
		return err
	}
	total, stored, err := s.Imports.ImportProgress(r.Context(), e.ID, id)
	if err != nil {
		return err
	}
	if total == 0 {
		// Not a batch stored yet: the count from the upload, if any.
		total, _ = strconv.Atoi(r.URL.Query().Get("of"))
		if total <= 0 {
			return notFoundf("There is no such import for this election.")
		}
	}
	sum := importSummary(r.URL.Query())
	maxRanks := e.MaxRanks
	if maxRanks <= 0 || maxRanks > len(e.Candidates) {
		maxRanks = len(e.Candidates)
	}
	v := views.ImportProgress{ElectionID: e.ID.String(), ImportID: id.String(), Title: e.Title, Total: total, Stored: stored,
		Percent: 100 * stored / total, Query: r.URL.RawQuery, Format: sum.Format, Contest: sum.Contest, Notes: sum.Notes(maxRanks)}
	p := s.page(r, "Importing ballots: "+e.Title)
	if stored < total {
		p.Refresh = 2
	}
	s.render(w, r, http.StatusOK, views.ImportPage(p, v))
	return nil
}
