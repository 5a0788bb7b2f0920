package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

func (s *Server) handleBallotForm(w http.ResponseWriter, r *http.Request) error {
	e, err := s.election(r)
	if err != nil {
		return err
	}
	keyed := e.Access == runoff.AccessKeys
	if e.StateAt(time.Now()) == runoff.StatusOpen && !keyed {
		// A browser that has voted here is shown its receipt, not a
		// second ballot. With voter keys, the key decides instead.
		if ballotID, ok := s.voted(r, e.ID); ok {
			http.Redirect(w, r, "/b/"+ballotID, http.StatusSeeOther)
			return nil
		}
	}
	b := s.ballotPage(r, e, uuid.Must(uuid.NewV7()), nil, "")
	status := http.StatusOK
	if keyed && b.State == runoff.StatusOpen {
		key := r.URL.Query().Get("key")
		_, use, problem, err := s.ballotKey(r.Context(), e, key)
		if err != nil {
			return err
		}
		switch {
		case strings.TrimSpace(key) == "":
			b.KeyNeeded = true
		case problem != "":
			status, b.KeyProblem = http.StatusForbidden, problem
			b.KeySpent = use.Issued
			b.KeyNeeded = !b.KeySpent
		default:
			b.Key = strings.TrimSpace(key)
			if use.Used && use.Ballot != uuid.Nil {
				b.Current = "/b/" + use.Ballot.String() + "?key=" + url.QueryEscape(b.Key)
			}
		}
	}
	s.render(w, r, status, views.Ballot(s.page(r, e.Title), b))
	return nil
}

// formID returns the ID a form was rendered with (its hidden field), or a
// new one. The ID is made when the form is shown, so that submitting the
// same form again — after a 503, a timeout, a double click — names the same
// ballot or election, and the worker carries it out once.
func formID(r *http.Request, field string) uuid.UUID {
	if id, err := uuid.Parse(r.PostFormValue(field)); err == nil && recentV7(id, 24*time.Hour) {
		return id
	}
	return uuid.Must(uuid.NewV7())
}

// election reads the election named by the {id} path segment.
func (s *Server) election(r *http.Request) (*runoff.Election, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	e, err := s.Elections.Election(r.Context(), id)
	if errors.Is(err, runoff.ErrNotFound) {
		return nil, notFoundf("There is no election at this address. Check the link you were given; if the election was created moments ago, try again shortly.")
	}
	return e, err
}

func (s *Server) ballotPage(r *http.Request, e *runoff.Election, ballotID uuid.UUID, chosen []string, msg string) views.BallotPage {
	now := time.Now()
	b := views.BallotPage{ElectionID: e.ID.String(), BallotID: ballotID.String(), Title: e.Title, Description: e.Description,
		State: e.StateAt(now), Chosen: chosen, Error: msg, Ranks: len(e.Candidates), ResultsVisible: s.resultsVisible(r, e, now),
		Keys: e.Access == runoff.AccessKeys}
	loc := location(e)
	switch {
	case e.ClosedAt != nil:
		b.Closes = " on " + when(e.ClosedAt, loc)
	case e.ClosesAt != nil:
		b.Closes = " on " + when(e.ClosesAt, loc)
	}
	if e.OpensAt != nil {
		b.Opens = " (it opens on " + when(e.OpensAt, loc) + ")"
	}
	if e.MaxRanks > 0 && e.MaxRanks < b.Ranks {
		b.Ranks, b.RankLimit = e.MaxRanks, fmt.Sprintf(", up to %d", e.MaxRanks)
	}
	for _, c := range e.Candidates {
		b.Options = append(b.Options, views.BallotOption{ID: c.ID.String(), Name: c.Name, Description: c.Description})
	}
	return b
}

// handleBallotSubmit validates a ranking against the candidates it has just
// read, makes the ballot's ID, publishes vote.submit and sends the voter to
// their receipt. Nothing is stored here: the worker stores and counts it.
func (s *Server) handleBallotSubmit(w http.ResponseWriter, r *http.Request) error {
	e, err := s.election(r)
	if err != nil {
		return err
	}
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	received := time.Now().UTC()
	keyed := e.Access == runoff.AccessKeys
	if existing, ok := s.voted(r, e.ID); ok && !keyed {
		// This browser has voted here: the same ballot again, or a second
		// one, is answered with the first receipt. With voter keys, the
		// key decides instead.
		http.Redirect(w, r, "/b/"+existing, http.StatusSeeOther)
		return nil
	}
	ballotID := formID(r, "ballot_id")
	key := strings.TrimSpace(r.PostFormValue("key"))
	chosen, ranking, err := readRanking(r, e)
	if err == nil {
		switch e.StateAt(received) {
		case runoff.StatusClosed:
			err = runoff.Invalid("This election has closed, so it no longer accepts ballots.", nil)
		case runoff.StatusDraft:
			err = runoff.Invalid("This election has not opened yet, so it does not accept ballots.", nil)
		}
	}
	// The key is checked here so a voter hears at once; the worker checks
	// it again, and alone decides which of several ballots with one key
	// counts.
	var keyHash string
	if keyed && err == nil {
		var use runoff.KeyUse
		var problem string
		if keyHash, use, problem, err = s.ballotKey(r.Context(), e, key); err != nil {
			return err
		}
		if key == "" {
			problem = "This election takes ballots only from voters with a key. Enter the key you were given."
		}
		if problem != "" {
			return &formError{err: problem403(problem), page: func(msg string) templ.Component {
				b := s.ballotPage(r, e, ballotID, chosen, "")
				b.KeyProblem, b.KeySpent = msg, use.Issued
				b.KeyNeeded = !b.KeySpent
				return views.Ballot(s.page(r, e.Title), b)
			}}
		}
	}
	if err == nil {
		err = runoff.ValidateRanking(e, ranking)
	}
	form := func(err error, retry string) error {
		return &formError{err: err, retry: retry, page: func(msg string) templ.Component {
			b := s.ballotPage(r, e, ballotID, chosen, msg)
			if keyed {
				b.Key = key
			}
			return views.Ballot(s.page(r, e.Title), b)
		}}
	}
	if err != nil {
		return form(err, "")
	}
	// SubmittedAt is when the web received the ballot: the worker judges it
	// by the election's state then, not when it gets to it. A keyed ballot
	// carries its key's hash, never the key.
	v := runoff.VoteSubmit{BallotID: ballotID, ElectionID: e.ID, Ranking: ranking, SubmittedAt: received, KeyHash: keyHash}
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.Publisher.Publish(r.Context(), runoff.KeyVoteSubmit, v.BallotID.String(), body); err != nil {
		return form(err, "Runoff couldn't confirm that your ballot was received, so no receipt was issued. Your choices are still marked below: please submit again in a moment. If the first attempt did arrive, your ballot is still counted only once.")
	}
	p := pendingReceipt{BallotID: v.BallotID.String(), ElectionID: e.ID.String(), ElectionTitle: e.Title}
	for _, id := range ranking {
		c, _ := e.CandidateByID(id)
		p.Ranking = append(p.Ranking, c.Name)
	}
	if err := s.addReceipt(w, r, p); err != nil {
		s.Log.Warn("receipt cookie not saved", "err", err)
	}
	if err := s.markVoted(w, r, e.ID, v.BallotID.String()); err != nil {
		s.Log.Warn("voted cookie not saved", "err", err)
	}
	http.Redirect(w, r, "/b/"+v.BallotID.String(), http.StatusSeeOther)
	return nil
}

// readRanking reads rank1…rankN (N = number of candidates). An empty rank
// is skipped and the ranks after it close up. chosen keeps what was marked
// at each rank, for redisplaying the form.
func readRanking(r *http.Request, e *runoff.Election) (chosen []string, ranking []uuid.UUID, err error) {
	n := len(e.Candidates)
	chosen = make([]string, n)
	for i := range n {
		vals := r.PostForm["rank"+strconv.Itoa(i+1)]
		if len(vals) > 1 {
			err = runoff.Invalid(fmt.Sprintf("Choose only one candidate as your %s choice.", runoff.Ordinal(i+1)), nil)
			continue
		}
		if len(vals) == 0 || vals[0] == "" {
			continue
		}
		chosen[i] = vals[0]
		id, perr := uuid.Parse(vals[0])
		if perr != nil {
			if err == nil {
				err = runoff.Invalid(fmt.Sprintf("Your %s choice is not a candidate in this election. Please choose again.", runoff.Ordinal(i+1)), nil)
			}
			chosen[i] = ""
			continue
		}
		ranking = append(ranking, id)
	}
	if v := r.PostFormValue("rank" + strconv.Itoa(n+1)); v != "" && err == nil {
		err = runoff.Invalid(fmt.Sprintf("This ballot has more ranks than the election's %d candidates.", n), nil)
	}
	return chosen, ranking, err
}

func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "ballotID")
	if err != nil {
		return err
	}
	rc := views.Receipt{BallotID: id.String(), State: runoff.BallotQueued}
	b, err := s.Elections.Ballot(r.Context(), id)
	switch {
	case err == nil:
		rc.State, rc.Reason = b.Status, b.Reason
		rc.ElectionID = b.ElectionID.String()
		e, err := s.Elections.Election(r.Context(), b.ElectionID)
		if err != nil {
			return err
		}
		rc.ElectionTitle = e.Title
		// Only the browser that cast it sees the ranking, or the holder of
		// its key where the key stays linked to its ballot.
		rc.Known = s.castHere(r, id.String())
		if k := r.URL.Query().Get("key"); !rc.Known && k != "" && e.Changes == runoff.ChangesAllowed {
			if hash := runoff.HashKey(e.ID, k); hash != "" {
				use, err := s.Elections.KeyUse(r.Context(), e.ID, hash)
				if err != nil {
					return err
				}
				rc.Known = use.Ballot == b.ID
			}
		}
		for _, cid := range b.Ranking {
			if !rc.Known {
				break
			}
			name := "(a candidate no longer standing)"
			if c, ok := e.CandidateByID(cid); ok {
				name = c.Name
			}
			rc.Ranking = append(rc.Ranking, name)
		}
		if dl, err := s.DeadLetters.DeadLetterByMessage(r.Context(), id.String()); err == nil && dl.RequeuedAt == nil {
			rc.Refused = dl.Reason
		} else if err != nil && !errors.Is(err, runoff.ErrNotFound) {
			return err
		}
	case errors.Is(err, runoff.ErrNotFound):
		if dl, err := s.DeadLetters.DeadLetterByMessage(r.Context(), id.String()); err == nil && dl.RequeuedAt == nil {
			rc.State, rc.Reason = "held", dl.Reason
		} else if err != nil && !errors.Is(err, runoff.ErrNotFound) {
			return err
		}
		if p, ok := s.receipt(r, id.String()); ok {
			rc.ElectionID, rc.ElectionTitle, rc.Ranking, rc.Known = p.ElectionID, p.ElectionTitle, p.Ranking, true
		} else if rc.State != "held" && !recentV7(id, time.Hour) {
			return notFoundf("No ballot with receipt number %s has been counted. Check the address; receipt links are exactly as given after voting.", id)
		}
	default:
		return err
	}
	p := s.page(r, "Ballot receipt")
	if rc.State == runoff.BallotQueued {
		p.Refresh = 2
	}
	s.render(w, r, http.StatusOK, views.ReceiptPage(p, rc))
	return nil
}

// recentV7 reports whether id is a version-7 UUID made within d: a ballot
// ID the web made that recently may still be queued.
func recentV7(id uuid.UUID, d time.Duration) bool {
	if id.Version() != 7 {
		return false
	}
	sec, nsec := id.Time().UnixTime()
	age := time.Since(time.Unix(sec, nsec))
	return age >= -time.Minute && age < d
}
