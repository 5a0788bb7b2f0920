package worker_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
	"github.com/runoff-vote/runoff/rcv"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
	"github.com/runoff-vote/runoff/worker"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type fixture struct {
	metrics *rabbitmq.Metrics
	db      *store.DB
	topo    rabbitmq.Topology
	pub     *rabbitmq.Publisher
	owner   *runoff.Organizer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, _ := storetest.MustOpen(t)
	topo := rabbitmqtest.Topology(t)
	pub := rabbitmq.NewPublisher(rabbitmqtest.URL(), topo, quiet())
	t.Cleanup(func() { pub.Close() })
	o := &runoff.Organizer{ID: uuid.Must(uuid.NewV7()), Email: "o@example.org", PasswordHash: "x"}
	if err := db.CreateOrganizer(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, topo: topo, pub: pub, owner: o, metrics: rabbitmq.NewMetrics(nil)}
}

// startWorker runs a consumer and a recomputer until the test ends.
func (f *fixture) startWorker(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rc := worker.NewRecomputer(f.db, quiet())
	rc.MinInterval = 20 * time.Millisecond
	q := worker.NewQueues(f.db, f.pub, rc.Notify, nil, nil, quiet())
	c := rabbitmq.NewConsumer(rabbitmqtest.URL(), f.topo, map[string]rabbitmq.Handler{
		f.topo.Votes: rabbitmq.Handler(q.Votes), f.topo.Bundles: rabbitmq.Handler(q.Votes),
		f.topo.Elections: rabbitmq.Handler(q.Organizers), f.topo.DeadQueue: rabbitmq.Handler(q.DeadLetters),
	}, quiet())
	c.BatchWait = 10 * time.Millisecond
	c.Metrics = f.metrics
	done := make(chan struct{}, 2)
	go func() { c.Run(ctx); done <- struct{}{} }()
	go func() { rc.Run(ctx); done <- struct{}{} }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

func (f *fixture) publish(t *testing.T, key, id string, v any) {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.pub.Publish(context.Background(), key, id, body); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) createElection(t *testing.T, names ...string) *runoff.Election {
	t.Helper()
	m := runoff.ElectionCreate{ElectionID: uuid.Must(uuid.NewV7()), OwnerID: f.owner.ID, Title: "Capital", Seats: 1, RequestedAt: time.Now()}
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

func vote(e *runoff.Election, idx ...int) runoff.VoteSubmit {
	v := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: e.ID, SubmittedAt: time.Now()}
	for _, i := range idx {
		v.Ranking = append(v.Ranking, e.Candidates[i].ID)
	}
	return v
}

// The Tennessee example through the real broker: 100 ballots, Knoxville
// wins in round 3, and the snapshot counts every ballot.
func TestVotesFlowToResults(t *testing.T) {
	f := newFixture(t)
	f.startWorker(t)
	e := f.createElection(t, "Memphis", "Nashville", "Chattanooga", "Knoxville")
	groups := []struct {
		n    int
		rank []int
	}{{42, []int{0, 1, 2, 3}}, {26, []int{1, 2, 3, 0}}, {15, []int{2, 3, 1, 0}}, {17, []int{3, 2, 1, 0}}}
	for _, g := range groups {
		for range g.n {
			v := vote(e, g.rank...)
			f.publish(t, runoff.KeyVoteSubmit, v.BallotID.String(), v)
		}
	}
	var snap *runoff.ResultSnapshot
	rabbitmqtest.WaitFor(t, "results of 100 ballots", func() bool {
		var err error
		snap, err = f.db.Result(context.Background(), e.ID)
		return err == nil && snap.BallotsCounted == 100
	})
	var rep rcv.Report
	if err := json.Unmarshal(snap.Report, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 || rep.Runoff == nil || len(rep.Runoff.Winners) != 1 || rep.Runoff.Winners[0] != "Knoxville" {
		t.Fatalf("report: %d rounds, extra %+v", len(rep.Results), rep.Runoff)
	}
	if got := rep.Results[0].Tally["Memphis"]; got != "42" {
		t.Fatalf("round 1 Memphis = %s, want 42", got)
	}
	if n := rabbitmqtest.Depth(t, f.topo.Votes); n != 0 {
		t.Fatalf("%d votes left in the queue", n)
	}
}

// At-least-once delivery: the same vote.submit arriving three times is one
// ballot.
func TestRedeliveredVoteStoredOnce(t *testing.T) {
	f := newFixture(t)
	f.startWorker(t)
	e := f.createElection(t, "A", "B")
	v := vote(e, 0, 1)
	for range 3 {
		f.publish(t, runoff.KeyVoteSubmit, v.BallotID.String(), v)
	}
	other := vote(e, 1)
	f.publish(t, runoff.KeyVoteSubmit, other.BallotID.String(), other)
	rabbitmqtest.WaitFor(t, "second ballot stored", func() bool {
		_, err := f.db.Ballot(context.Background(), other.BallotID)
		return err == nil
	})
	rabbitmqtest.WaitFor(t, "queue drained", func() bool { return rabbitmqtest.Depth(t, f.topo.Votes) == 0 })
	tally, err := f.db.Tally(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Election.BallotsCounted != 2 {
		t.Fatalf("counted %d ballots, want 2", tally.Election.BallotsCounted)
	}
	// Acked (and counted as consumed) just after the commit.
	rabbitmqtest.WaitFor(t, "runoff_consumed_total = 4 (three copies and one other)", func() bool {
		return testutil.ToFloat64(f.metrics.Consumed.WithLabelValues(f.topo.Votes)) == 4
	})
}

// Messages that can never be carried out go to the dead-letter queue with
// the reason, and the valid ones around them are stored.
func TestPoisonMessagesDeadLettered(t *testing.T) {
	f := newFixture(t)
	f.startWorker(t)
	e := f.createElection(t, "A", "B")
	raw := func(key, id string, body string) {
		t.Helper()
		rabbitmqtest.PublishRaw(t, f.topo.Exchange, key, id, []byte(body))
	}
	raw(runoff.KeyVoteSubmit, "p1", "{not json")
	raw("vote.bogus", "p2", "{}")
	orphan := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: uuid.Must(uuid.NewV7()), Ranking: []uuid.UUID{e.Candidates[0].ID}}
	body, _ := json.Marshal(orphan)
	raw(runoff.KeyVoteSubmit, orphan.BallotID.String(), string(body))
	raw(runoff.KeyElectionCreate, "p4", `{"title":"no candidates"}`)
	good := vote(e, 0)
	f.publish(t, runoff.KeyVoteSubmit, good.BallotID.String(), good)

	rabbitmqtest.WaitFor(t, "valid ballot stored", func() bool {
		_, err := f.db.Ballot(context.Background(), good.BallotID)
		return err == nil
	})
	// The worker consumes the dead-letter queue into Postgres, where the
	// organizer of the election a message names can see it.
	var dls []runoff.DeadLetter
	rabbitmqtest.WaitFor(t, "the dead letter naming the election", func() bool {
		var err error
		dls, err = f.db.DeadLetters(context.Background(), orphan.ElectionID)
		return err == nil && len(dls) == 1
	})
	if dls[0].MessageID != orphan.BallotID.String() || !strings.Contains(dls[0].Reason, "no election") || dls[0].RoutingKey != runoff.KeyVoteSubmit {
		t.Errorf("dead letter = %+v", dls[0])
	}
	for _, id := range []string{"p1", "p2", "p4"} {
		rabbitmqtest.WaitFor(t, "dead letter "+id, func() bool {
			dl, err := f.db.DeadLetterByMessage(context.Background(), id)
			return err == nil && dl.Reason != ""
		})
	}
	rabbitmqtest.WaitFor(t, "dead-letter queue drained", func() bool { return rabbitmqtest.Depth(t, f.topo.DeadQueue) == 0 })
	rabbitmqtest.WaitFor(t, "runoff_dead_lettered_total = 4", func() bool {
		return testutil.ToFloat64(f.metrics.DeadLettered.WithLabelValues(f.topo.Votes))+testutil.ToFloat64(f.metrics.DeadLettered.WithLabelValues(f.topo.Elections)) == 4
	})
}

// A vote for an election that did not exist yet is dead-lettered; once the
// election exists, its organizer requeues it and it is counted. Someone
// else's request to requeue it is refused.
func TestRequeueDeadLetter(t *testing.T) {
	f := newFixture(t)
	f.startWorker(t)
	m := runoff.ElectionCreate{ElectionID: uuid.Must(uuid.NewV7()), OwnerID: f.owner.ID, Title: "Late", Seats: 1, RequestedAt: time.Now(),
		Candidates: []runoff.Candidate{{ID: uuid.Must(uuid.NewV7()), Name: "A"}, {ID: uuid.Must(uuid.NewV7()), Name: "B", Position: 1}}}
	early := runoff.VoteSubmit{BallotID: uuid.Must(uuid.NewV7()), ElectionID: m.ElectionID, Ranking: []uuid.UUID{m.Candidates[1].ID}}
	f.publish(t, runoff.KeyVoteSubmit, early.BallotID.String(), early)
	var dl *runoff.DeadLetter
	rabbitmqtest.WaitFor(t, "early vote dead-lettered", func() bool {
		var err error
		dl, err = f.db.DeadLetterByMessage(context.Background(), early.BallotID.String())
		return err == nil
	})
	f.publish(t, runoff.KeyElectionCreate, m.ElectionID.String(), m)
	rabbitmqtest.WaitFor(t, "election stored", func() bool { _, err := f.db.Election(context.Background(), m.ElectionID); return err == nil })

	stranger := runoff.DeadLetterRequeue{DeadLetterID: dl.ID, ElectionID: m.ElectionID, OrganizerID: uuid.Must(uuid.NewV7())}
	strangerMsg := uuid.NewString()
	f.publish(t, runoff.KeyDeadLetterRequeue, strangerMsg, stranger)
	rabbitmqtest.WaitFor(t, "stranger's requeue refused", func() bool {
		d, err := f.db.DeadLetterByMessage(context.Background(), strangerMsg)
		return err == nil && strings.Contains(d.Reason, "does not own")
	})
	// The refused request was the stranger's action, not the owner's: it is
	// not among the election's held messages.
	if n, _ := f.db.CountDeadLetters(context.Background(), m.ElectionID); n != 1 {
		t.Fatalf("%d dead letters open, want the vote alone", n)
	}

	req := runoff.DeadLetterRequeue{DeadLetterID: dl.ID, ElectionID: m.ElectionID, OrganizerID: f.owner.ID}
	f.publish(t, runoff.KeyDeadLetterRequeue, uuid.NewString(), req)
	f.publish(t, runoff.KeyDeadLetterRequeue, uuid.NewString(), req) // asked twice: counted once
	rabbitmqtest.WaitFor(t, "requeued vote counted", func() bool {
		b, err := f.db.Ballot(context.Background(), early.BallotID)
		return err == nil && b.Status == runoff.BallotCounted
	})
	rabbitmqtest.WaitFor(t, "queues drained", func() bool {
		return rabbitmqtest.Depth(t, f.topo.Votes) == 0 && rabbitmqtest.Depth(t, f.topo.Elections) == 0
	})
	tally, err := f.db.Tally(context.Background(), m.ElectionID)
	if err != nil || tally.Election.BallotsCounted != 1 {
		t.Fatalf("counted %d, %v; want 1", tally.Election.BallotsCounted, err)
	}
	got, _ := f.db.DeadLetter(context.Background(), dl.ID)
	if got.RequeuedAt == nil {
		t.Fatal("dead letter not marked requeued")
	}
}

// Ballots that arrive in one bundle are each decided on their own: the
// good ones stored, a ballot whose ID is not its message's and a second
// ballot under a stored ballot's ID each dead-lettered alone, under its
// own message ID.
func TestBundledBallotsDecidedEachOnTheirOwn(t *testing.T) {
	f := newFixture(t)
	f.startWorker(t)
	e := f.createElection(t, "A", "B")
	first := vote(e, 0, 1)
	f.publish(t, runoff.KeyVoteSubmit, first.BallotID.String(), first)
	rabbitmqtest.WaitFor(t, "the first ballot stored", func() bool {
		_, err := f.db.Ballot(context.Background(), first.BallotID)
		return err == nil
	})
	j := func(v runoff.VoteSubmit) string { b, _ := json.Marshal(v); return string(b) }
	good1, good2 := vote(e, 1), vote(e, 0)
	other := first
	other.Ranking = []uuid.UUID{e.Candidates[1].ID} // another ballot under a stored ballot's ID
	mislabelled := vote(e, 1)
	rabbitmqtest.PublishRaw(t, f.topo.Direct, "bundle."+runoff.KeyVoteSubmit, good1.BallotID.String(), rabbitmqtest.Bundle(runoff.KeyVoteSubmit,
		good1.BallotID.String(), j(good1),
		other.BallotID.String(), j(other),
		"not-"+mislabelled.BallotID.String(), j(mislabelled),
		good2.BallotID.String(), j(good2),
		first.BallotID.String(), j(first), // a redelivery of the first: nothing changes
	))
	for _, v := range []runoff.VoteSubmit{good1, good2} {
		rabbitmqtest.WaitFor(t, "a good ballot of the bundle stored", func() bool {
			b, err := f.db.Ballot(context.Background(), v.BallotID)
			return err == nil && b.Status == runoff.BallotCounted
		})
	}
	for id, want := range map[string]string{
		other.BallotID.String():                "A different ballot was already stored under receipt number",
		"not-" + mislabelled.BallotID.String(): "is not the ID its body names",
	} {
		rabbitmqtest.WaitFor(t, "dead letter "+id, func() bool {
			dl, err := f.db.DeadLetterByMessage(context.Background(), id)
			return err == nil && strings.Contains(dl.Reason, want) && dl.RoutingKey == runoff.KeyVoteSubmit
		})
	}
	if _, err := f.db.Ballot(context.Background(), mislabelled.BallotID); err == nil {
		t.Error("the mislabelled ballot was stored")
	}
	if b, err := f.db.Ballot(context.Background(), first.BallotID); err != nil || len(b.Ranking) != 2 {
		t.Errorf("the first ballot: %+v, %v", b, err)
	}
	rabbitmqtest.WaitFor(t, "votes queue drained, three ballots counted", func() bool {
		e, err := f.db.Election(context.Background(), e.ID)
		return rabbitmqtest.Depth(t, f.topo.Bundles) == 0 && err == nil && e.BallotsCounted == 3
	})
}
