package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
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
	if keyed {
		s.render(w, r, status, views.Ballot(s.page(r, e.Title), b))
		return nil
	}
	own := b.BallotID
	b.BallotID = s.kept.Placeholder()
	p := s.page(r, e.Title)
	s.renderKept(w, r, status, "ballot "+b.ElectionID, struct {
		views.Page
		views.BallotPage
	}{p, b}, func() templ.Component { return views.Ballot(p, b) }, own)
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

// castForm is a ballot form as sent, read and checked: by the review, and
// again when it is cast.
type castForm struct {
	ballotID uuid.UUID
	key      string // the voter key, for an election that takes them
	keyHash  string
	chosen   []string // per rank of the form, the candidate marked there
	ranking  []uuid.UUID
}

// readBallot reads and checks a ballot form against the election as it is
// now: its state, the voter's key, and the ranking. A mistake comes back as
// a formError that draws the ballot again with the voter's marks and the
// error summary linked to the rank at fault.
func (s *Server) readBallot(r *http.Request, e *runoff.Election, received time.Time) (castForm, error) {
	f := castForm{ballotID: formID(r, "ballot_id"), key: strings.TrimSpace(r.PostFormValue("key"))}
	var err error
	f.chosen, f.ranking, err = readRanking(r, e)
	if err == nil {
		switch e.StateAt(received) {
		case runoff.StatusClosed:
			err = runoff.Invalid("This election has closed, so it no longer accepts ballots.", nil)
		case runoff.StatusDraft:
			err = runoff.Invalid("This election has not opened yet, so it does not accept ballots.", nil)
		}
	}
	keyed := e.Access == runoff.AccessKeys
	// The key is checked here so a voter hears at once; the worker checks
	// it again, and alone decides which of several ballots with one key
	// counts.
	if keyed && err == nil {
		var use runoff.KeyUse
		var problem string
		if f.keyHash, use, problem, err = s.ballotKey(r.Context(), e, f.key); err != nil {
			return f, err
		}
		if f.key == "" {
			problem = "This election takes ballots only from voters with a key. Enter the key you were given."
		}
		if problem != "" {
			return f, &formError{err: problem403(problem), page: func(msg string) templ.Component {
				b := s.ballotPage(r, e, f.ballotID, f.chosen, "")
				b.KeyProblem, b.KeySpent = msg, use.Issued
				b.KeyNeeded = !b.KeySpent
				return views.Ballot(s.page(r, e.Title), b)
			}}
		}
	}
	if err == nil {
		err = runoff.ValidateRanking(e, f.ranking)
	}
	if err != nil {
		return f, s.ballotError(r, e, f, err, "")
	}
	return f, nil
}

// ballotError draws the ballot again with the voter's marks and what was
// wrong: the message at the top, and each rank at fault marked and linked.
func (s *Server) ballotError(r *http.Request, e *runoff.Election, f castForm, err error, retry string) error {
	return &formError{err: err, retry: retry, page: func(msg string) templ.Component {
		b := s.ballotPage(r, e, f.ballotID, f.chosen, msg)
		var p *runoff.Problem
		if errors.As(err, &p) {
			b.Errors = p.Fields
		}
		if e.Access == runoff.AccessKeys {
			b.Key = f.key
		}
		return views.Ballot(s.page(r, e.Title), b)
	}}
}

// handleBallotReview shows the ranking a ballot form holds, in order, with
// the choice to change it or cast it. Nothing is cast here: the grid's
// button (and Enter in any of its choices) comes here, and only the
// review's own button casts.
func (s *Server) handleBallotReview(w http.ResponseWriter, r *http.Request) error {
	e, err := s.election(r)
	if err != nil {
		return err
	}
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	keyed := e.Access == runoff.AccessKeys
	if existing, ok := s.voted(r, e.ID); ok && !keyed {
		http.Redirect(w, r, "/b/"+existing, http.StatusSeeOther)
		return nil
	}
	if r.PostFormValue("change") != "" {
		// Back to the ballot with the ranking marked, to change it.
		chosen, _, _ := readRanking(r, e)
		b := s.ballotPage(r, e, formID(r, "ballot_id"), chosen, "")
		if keyed {
			b.Key = strings.TrimSpace(r.PostFormValue("key"))
		}
		s.render(w, r, http.StatusOK, views.Ballot(s.page(r, e.Title), b))
		return nil
	}
	f, err := s.readBallot(r, e, time.Now())
	if err != nil {
		return err
	}
	v := views.Review{ElectionID: e.ID.String(), BallotID: f.ballotID.String(), Title: e.Title, Candidates: len(e.Candidates)}
	if keyed {
		v.Key = f.key
	}
	ranked := make(map[uuid.UUID]bool, len(f.ranking))
	for _, id := range f.ranking {
		c, _ := e.CandidateByID(id)
		v.Ranked = append(v.Ranked, views.BallotOption{ID: id.String(), Name: c.Name, Description: c.Description})
		ranked[id] = true
	}
	for _, c := range e.Candidates {
		if !ranked[c.ID] {
			v.Unranked = append(v.Unranked, c.Name)
		}
	}
	// A blank rank before a marked one closes up: say so, so the voter
	// sees their 3rd mark counts as their 2nd choice.
	last := slices.IndexFunc(f.chosen, func(id string) bool { return id == "" })
	v.Skipped = last >= 0 && slices.ContainsFunc(f.chosen[last:], func(id string) bool { return id != "" })
	if n := e.MaxRanks; n > 0 && n < len(e.Candidates) {
		v.Limit = n
	}
	if e.ClosesAt != nil {
		v.Closes = " on " + when(e.ClosesAt, location(e))
	}
	s.render(w, r, http.StatusOK, views.ReviewPage(s.page(r, "Check your ballot: "+e.Title), v))
	return nil
}

// handleBallotSubmit validates a ranking against the candidates it has just
// read, makes the ballot's ID, publishes vote.submit and sends the voter to
// their receipt. Nothing is stored here: the worker stores and counts it.
// It casts at once: the review's button posts here, and so may any client
// that has its own way of checking a ranking with the voter.
func (s *Server) handleBallotSubmit(w http.ResponseWriter, r *http.Request) error {
	e, err := s.election(r)
	if err != nil {
		return err
	}
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	received := time.Now().UTC()
	if existing, ok := s.voted(r, e.ID); ok && e.Access != runoff.AccessKeys {
		// This browser has voted here: the same ballot again, or a second
		// one, is answered with the first receipt. With voter keys, the
		// key decides instead.
		http.Redirect(w, r, "/b/"+existing, http.StatusSeeOther)
		return nil
	}
	f, err := s.readBallot(r, e, received)
	if err != nil {
		return err
	}
	// SubmittedAt is when the web received the ballot: the worker judges it
	// by the election's state then, not when it gets to it. A keyed ballot
	// carries its key's hash, never the key.
	v := runoff.VoteSubmit{BallotID: f.ballotID, ElectionID: e.ID, Ranking: f.ranking, SubmittedAt: received, KeyHash: f.keyHash}
	body := v.AppendJSON(make([]byte, 0, 160+40*len(v.Ranking)))
	if err := s.Publisher.Publish(r.Context(), runoff.KeyVoteSubmit, v.BallotID.String(), body); err != nil {
		return s.ballotError(r, e, f, err, "Runoff couldn't confirm that your ballot was received, so no receipt was issued. Your choices are still marked below: please submit again in a moment. If the first attempt did arrive, your ballot is still counted only once.")
	}
	p := pendingReceipt{BallotID: v.BallotID.String(), ElectionID: e.ID.String(), ElectionTitle: e.Title}
	for _, id := range f.ranking {
		c, _ := e.CandidateByID(id)
		p.Ranking = append(p.Ranking, c.Name)
	}
	if err := s.addReceipt(w, r, p); err != nil {
		s.Log.Warn("receipt cookie not saved", "err", err)
	}
	if err := s.markVoted(w, r, e.ID, v.BallotID.String()); err != nil {
		s.Log.Warn("voted cookie not saved", "err", err)
	}
	seeOther(w, "/b/"+v.BallotID.String())
	return nil
}

// readRanking reads rank1…rankN (N = number of candidates). An empty rank
// is skipped and the ranks after it close up. chosen keeps what was marked
// at each rank, for redisplaying the form. Mistakes name the ranks as the
// voter saw them on the form (not as closed up), and each rank at fault is
// a field (rank2, …) that the error summary links to.
func readRanking(r *http.Request, e *runoff.Election) (chosen []string, ranking []uuid.UUID, err error) {
	n := len(e.Candidates)
	chosen = make([]string, n)
	fields := map[string]string{}
	var first string
	// fail marks a rank with its message; the summary's message is the
	// first rank's, or summary when that says it better.
	fail := func(rank int, msg, summary string) {
		fields["rank"+strconv.Itoa(rank)] = msg
		if summary == "" {
			summary = msg
		}
		if first == "" {
			first = summary
		}
	}
	seen := make(map[uuid.UUID]int, n)
	for i := range n {
		rank := i + 1
		vals := r.PostForm["rank"+strconv.Itoa(rank)]
		if len(vals) > 1 {
			fail(rank, fmt.Sprintf("Choose only one candidate as your %s choice.", runoff.Ordinal(rank)), "")
			continue
		}
		if len(vals) == 0 || vals[0] == "" {
			continue
		}
		chosen[i] = vals[0]
		id, perr := uuid.Parse(vals[0])
		c, ok := e.CandidateByID(id)
		if perr != nil || !ok {
			fail(rank, fmt.Sprintf("Your %s choice is not a candidate in this election. Please choose again.", runoff.Ordinal(rank)), "")
			chosen[i] = ""
			continue
		}
		if prev, dup := seen[id]; dup {
			fail(rank, fmt.Sprintf("%s is already your %s choice. Choose someone else as your %s choice, or no %s choice.", c.Name, runoff.Ordinal(prev), runoff.Ordinal(rank), runoff.Ordinal(rank)),
				fmt.Sprintf("You ranked %s both %s and %s. Rank each candidate at most once.", c.Name, runoff.Ordinal(prev), runoff.Ordinal(rank)))
			continue
		}
		seen[id] = rank
		ranking = append(ranking, id)
	}
	if v := r.PostFormValue("rank" + strconv.Itoa(n+1)); v != "" && first == "" {
		first = fmt.Sprintf("This ballot has more ranks than the election's %d candidates.", n)
	}
	if first != "" {
		return chosen, ranking, runoff.Invalid(first, fields)
	}
	return chosen, ranking, nil
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
