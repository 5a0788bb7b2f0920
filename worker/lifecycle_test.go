package worker_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
	"github.com/runoff-vote/runoff/worker"
)

// createWith creates an election with settings through the broker.
func (f *fixture) createWith(t *testing.T, s runoff.Settings, names ...string) *runoff.Election {
	t.Helper()
	m := runoff.ElectionCreate{ElectionID: uuid.Must(uuid.NewV7()), OwnerID: f.owner.ID, Title: "Ties", Seats: 1, Settings: s, RequestedAt: time.Now()}
	for i, n := range names {
		m.Candidates = append(m.Candidates, runoff.Candidate{ID: uuid.Must(uuid.NewV7()), Name: n, Position: i})
	}
	f.publish(t, runoff.KeyElectionCreate, m.ElectionID.String(), m)
	var e *runoff.Election
	rabbitmqtest.WaitFor(t, "election stored", func() bool {
		var err error
		e, err = f.db.Election(context.Background(), m.ElectionID)
		return err == nil
	})
	return e
}

func (f *fixture) cast(t *testing.T, e *runoff.Election, n int, idx ...int) {
	t.Helper()
	for range n {
		v := vote(e, idx...)
		f.publish(t, runoff.KeyVoteSubmit, v.BallotID.String(), v)
	}
}

func (f *fixture) waitResults(t *testing.T, e *runoff.Election, what string, cond func(runoff.Results) bool) runoff.Results {
	t.Helper()
	var m runoff.Results
	rabbitmqtest.WaitFor(t, what, func() bool {
		snap, err := f.db.Result(context.Background(), e.ID)
		if err != nil {
			return false
		}
		m = snap.Model
		return cond(m)
	})
	return m
}

// A tie the rules leave to the organizer stops the count where it is; the
// organizer's choice (and nobody else's) resumes it; new ballots that make
// another tie ask again.
func TestOrganizerBreaksATie(t *testing.T) {
	f := newFixture(t)
	f.startWorker(t)
	s := runoff.DefaultSettings()
	s.Tiebreak = runoff.TiebreakAsk
	e := f.createWith(t, s, "A", "B", "C", "D")
	f.cast(t, e, 5, 0)
	f.cast(t, e, 2, 1)
	f.cast(t, e, 2, 2)
	f.cast(t, e, 3, 3)
	m := f.waitResults(t, e, "the count of 12 waits on B and C", func(m runoff.Results) bool { return m.Waiting != nil && m.Ballots == 12 })
	if w := m.Waiting; w.Round != 1 || w.Kind != runoff.TieElimination || !slices.Equal(w.Tied, []string{"B", "C"}) || w.Votes != "2" || len(m.Winners) != 0 {
		t.Fatalf("waiting %+v, winners %v", w, m.Winners)
	}

	decide := func(by uuid.UUID, selected string, round int, tied ...string) runoff.TieDecision {
		d := runoff.TieDecision{ID: uuid.Must(uuid.NewV7()), Election: e.ID, Round: round, Kind: runoff.TieElimination, Tied: tied, Selected: selected, DecidedBy: by, DecidedAt: time.Now()}
		f.publish(t, runoff.KeyElectionTiebreak, d.ID.String(), d)
		return d
	}
	forged := decide(uuid.New(), "B", 1, "B", "C")
	rabbitmqtest.WaitFor(t, "the forged decision refused", func() bool {
		dl, err := f.db.DeadLetterByMessage(context.Background(), forged.ID.String())
		return err == nil && strings.Contains(dl.Reason, "does not own")
	})
	d := decide(f.owner.ID, "C", 1, "B", "C")
	m = f.waitResults(t, e, "the count resumed", func(m runoff.Results) bool { return m.Waiting == nil })
	if !slices.Equal(m.Rounds[0].Eliminated, []string{"C"}) || len(m.Winners) != 1 {
		t.Fatalf("after the decision: round 1 eliminated %v, winners %v", m.Rounds[0].Eliminated, m.Winners)
	}
	if done, _ := f.db.ChangeApplied(context.Background(), d.ID); !done {
		t.Fatal("decision not recorded")
	}
	if !strings.Contains(m.TieBreaks[0].Explanation, "The organizer broke the tie: C was eliminated.") {
		t.Errorf("tie-break in words: %q", m.TieBreaks[0].Explanation)
	}

	// One more ballot for B: no tie in round 1 (C is lowest alone), but
	// B and D tie in round 2 — a new tie, so the organizer is asked again.
	f.cast(t, e, 1, 1)
	m = f.waitResults(t, e, "asked again for round 2", func(m runoff.Results) bool { return m.Waiting != nil && m.Waiting.Round == 2 && m.Ballots == 13 })
	if !slices.Equal(m.Waiting.Tied, []string{"B", "D"}) {
		t.Fatalf("waiting %+v", m.Waiting)
	}
}

// A closed election's count is marked final once the seal has come through
// the votes queue behind its ballots; a ballot received before the close
// that is carried out later takes the mark away until the next seal.
func TestCountMarkedFinal(t *testing.T) {
	f := newFixture(t)
	f.startWorker(t)
	e := f.createElection(t, "A", "B")
	f.cast(t, e, 3, 0)
	closeAt := time.Now()
	late := vote(e, 1)
	late.SubmittedAt = closeAt.Add(-time.Millisecond) // received just before the close
	close := runoff.ElectionAction{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: e.ID, OrganizerID: f.owner.ID, At: closeAt}
	f.publish(t, runoff.KeyElectionClose, close.ChangeID.String(), close)
	rabbitmqtest.WaitFor(t, "closed", func() bool {
		got, _ := f.db.Election(context.Background(), e.ID)
		return got.StateAt(time.Now()) == runoff.StatusClosed
	})
	rabbitmqtest.WaitFor(t, "three counted", func() bool {
		got, _ := f.db.Election(context.Background(), e.ID)
		return got.BallotsCounted == 3
	})
	sealer := worker.NewSealer(f.db, f.pub, quiet())
	sealer.Settle, sealer.Resend = 0, 0
	final := func() *time.Time {
		got, err := f.db.Election(context.Background(), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.FinalAt
	}
	if final() != nil {
		t.Fatal("final before any seal")
	}
	if err := sealer.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	rabbitmqtest.WaitFor(t, "final", func() bool { return final() != nil })

	f.publish(t, runoff.KeyVoteSubmit, late.BallotID.String(), late)
	rabbitmqtest.WaitFor(t, "the late ballot counted, and the mark gone", func() bool {
		b, err := f.db.Ballot(context.Background(), late.BallotID)
		return err == nil && b.Status == runoff.BallotCounted && final() == nil
	})
	if err := sealer.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	rabbitmqtest.WaitFor(t, "final again", func() bool { return final() != nil })

	// Reopening clears the mark.
	reopen := runoff.ElectionAction{ChangeID: uuid.Must(uuid.NewV7()), ElectionID: e.ID, OrganizerID: f.owner.ID, At: time.Now()}
	f.publish(t, runoff.KeyElectionReopen, reopen.ChangeID.String(), reopen)
	rabbitmqtest.WaitFor(t, "reopened, not final", func() bool {
		got, _ := f.db.Election(context.Background(), e.ID)
		return got.StateAt(time.Now()) == runoff.StatusOpen && got.FinalAt == nil
	})
}
