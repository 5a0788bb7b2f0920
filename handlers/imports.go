package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// Imports reads how far an import has got.
type Imports interface {
	ImportProgress(ctx context.Context, electionID, importID uuid.UUID) (total, stored int, err error)
}

// handleImport takes a file of paper ballots: it checks the whole file
// first (nothing is sent from a file with a mistake, which is named by its
// line), then publishes it in batches and sends the organizer to a page
// that follows it. The same file sent again stores nothing twice.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	form := func(err error, retry string) error {
		return s.onAdminPage(r, e, err, retry, func(v *views.ElectionAdmin, msg string) { v.ImportError = msg })
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
	ballots, err := runoff.ParseBallotFile(e, data)
	if err != nil {
		var ie *runoff.ImportError
		if errors.As(err, &ie) {
			return form(runoff.Invalid(fmt.Sprintf("Nothing was imported: line %d of the file: %s", ie.Line, ie.Message), nil), "")
		}
		return err
	}
	id := runoff.ImportID(e.ID, data)
	name := runoff.CleanText(filepath.Base(header.Filename))
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
	http.Redirect(w, r, fmt.Sprintf("/admin/elections/%s/imports/%s?of=%d", e.ID, id, len(ballots)), http.StatusSeeOther)
	return nil
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
	v := views.ImportProgress{ElectionID: e.ID.String(), ImportID: id.String(), Title: e.Title, Total: total, Stored: stored,
		Percent: 100 * stored / total, Query: r.URL.RawQuery}
	p := s.page(r, "Importing ballots: "+e.Title)
	if stored < total {
		p.Refresh = 2
	}
	s.render(w, r, http.StatusOK, views.ImportPage(p, v))
	return nil
}
