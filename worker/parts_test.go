package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// The worker's parts, tested without a broker or a database: each depends
// only on the small interface it declares, faked here.

func msg(t *testing.T, key, id string, v any) runoff.Message {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return runoff.Message{RoutingKey: key, ID: id, Body: body}
}

type fakeVotes struct {
	got     []runoff.VoteSubmit
	dead    map[uuid.UUID]string
	touched []uuid.UUID
	err     error
}

func (f *fakeVotes) StoreVotes(_ context.Context, votes []runoff.VoteSubmit) ([]store.Outcome, []uuid.UUID, error) {
	if f.err != nil {
		return nil, nil, f.err
	}
	f.got = append(f.got, votes...)
	out := make([]store.Outcome, len(votes))
	for i, v := range votes {
		out[i].Dead = f.dead[v.BallotID]
	}
	return out, f.touched, nil
}

func TestVotesOutcomes(t *testing.T) {
	good := runoff.VoteSubmit{BallotID: uuid.New(), ElectionID: uuid.New(), Ranking: []uuid.UUID{uuid.New()}}
	refused := runoff.VoteSubmit{BallotID: uuid.New(), ElectionID: uuid.New()}
	fs := &fakeVotes{dead: map[uuid.UUID]string{refused.BallotID: "There is no election"}, touched: []uuid.UUID{good.ElectionID}}
	var counted []uuid.UUID
	h := &Votes{Store: fs, Counted: func(ids []uuid.UUID) { counted = append(counted, ids...) }}
	batch := []runoff.Message{
		msg(t, runoff.KeyVoteSubmit, good.BallotID.String(), good),
		{RoutingKey: runoff.KeyVoteSubmit, ID: "x", Body: []byte("{not json")},
		msg(t, runoff.KeyVoteSubmit, uuid.NewString(), good), // receipted under one ID, naming another
		msg(t, runoff.KeyVoteSubmit, refused.BallotID.String(), refused),
	}
	dead, err := h.Handle(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"",
		"The vote.submit message is not valid JSON of the expected shape (invalid character 'n' looking for beginning of object key string).",
		fmt.Sprintf("The vote.submit message's ID %q is not the ID its body names (%s).", batch[2].ID, good.BallotID),
		"There is no election",
	}
	if !slices.Equal(dead, want) {
		t.Errorf("dead reasons:\n got %q\nwant %q", dead, want)
	}
	if len(fs.got) != 2 || !slices.Equal(counted, []uuid.UUID{good.ElectionID}) {
		t.Errorf("stored %d, told of %v", len(fs.got), counted)
	}

	fs.err = fmt.Errorf("store: %w", runoff.ErrUnavailable)
	if _, err := h.Handle(context.Background(), batch[:1]); !errors.Is(err, runoff.ErrUnavailable) {
		t.Errorf("store down: %v", err)
	}
}

func TestByKey(t *testing.T) {
	var seen []string
	record := func(tag string) HandlerFunc {
		return func(_ context.Context, b []runoff.Message) ([]string, error) {
			dead := make([]string, len(b))
			for i, m := range b {
				seen = append(seen, tag+":"+m.ID)
				dead[i] = m.ID + " done by " + tag
			}
			return dead, nil
		}
	}
	h := ByKey(map[string]HandlerFunc{"a.x": record("a"), "b.x": record("b")})
	dead, err := h(context.Background(), []runoff.Message{{RoutingKey: "a.x", ID: "1"}, {RoutingKey: "b.x", ID: "2"}, {RoutingKey: "c.x", ID: "3"}, {RoutingKey: "a.x", ID: "4"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1 done by a", "2 done by b", `Runoff has no action for messages of kind "c.x".`, "4 done by a"}
	if !slices.Equal(dead, want) || !slices.Equal(seen, []string{"a:1", "a:4", "b:2"}) {
		t.Errorf("dead %q, seen %q", dead, seen)
	}
}

type fakeRequeueStore struct {
	dls       map[uuid.UUID]*runoff.DeadLetter
	elections map[uuid.UUID]*runoff.Election
	marked    []uuid.UUID
}

func (f *fakeRequeueStore) DeadLetter(_ context.Context, id uuid.UUID) (*runoff.DeadLetter, error) {
	if dl, ok := f.dls[id]; ok {
		return dl, nil
	}
	return nil, runoff.ErrNotFound
}

func (f *fakeRequeueStore) Election(_ context.Context, id uuid.UUID) (*runoff.Election, error) {
	if e, ok := f.elections[id]; ok {
		return e, nil
	}
	return nil, runoff.ErrNotFound
}

func (f *fakeRequeueStore) MarkRequeued(_ context.Context, dl *runoff.DeadLetter, _ uuid.UUID, at time.Time) error {
	f.marked = append(f.marked, dl.ID)
	f.dls[dl.ID].RequeuedAt = &at
	return nil
}

type fakePublisher struct{ sent []runoff.Message }

func (p *fakePublisher) Publish(_ context.Context, key, id string, body []byte) error {
	p.sent = append(p.sent, runoff.Message{RoutingKey: key, ID: id, Body: body})
	return nil
}

func TestRequeue(t *testing.T) {
	owner := uuid.New()
	e := &runoff.Election{ID: uuid.New(), OwnerID: owner}
	dl := &runoff.DeadLetter{ID: uuid.New(), ElectionID: &e.ID, RoutingKey: runoff.KeyVoteSubmit, MessageID: "ballot-1", Body: []byte(`{"ballot_id":"b"}`)}
	fs := &fakeRequeueStore{dls: map[uuid.UUID]*runoff.DeadLetter{dl.ID: dl}, elections: map[uuid.UUID]*runoff.Election{e.ID: e}}
	pub := &fakePublisher{}
	h := &Requeues{Store: fs, Publisher: pub, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	req := func(organizer uuid.UUID) runoff.Message {
		return msg(t, runoff.KeyDeadLetterRequeue, uuid.NewString(), runoff.DeadLetterRequeue{DeadLetterID: dl.ID, ElectionID: e.ID, OrganizerID: organizer})
	}

	stranger := uuid.New()
	dead, err := h.Handle(context.Background(), []runoff.Message{req(stranger)})
	if err != nil || dead[0] != fmt.Sprintf("Organizer %s does not own election %s, so its held messages are not theirs to requeue.", stranger, e.ID) {
		t.Fatalf("forged request: %q, %v", dead, err)
	}
	if len(pub.sent) != 0 {
		t.Fatal("a forged request published the message")
	}

	// The owner asks twice (or the request is redelivered): published once.
	dead, err = h.Handle(context.Background(), []runoff.Message{req(owner), req(owner)})
	if err != nil || dead[0] != "" || dead[1] != "" {
		t.Fatalf("owner's request: %q, %v", dead, err)
	}
	if len(pub.sent) != 1 || pub.sent[0].RoutingKey != dl.RoutingKey || pub.sent[0].ID != dl.MessageID || string(pub.sent[0].Body) != string(dl.Body) {
		t.Fatalf("published %+v", pub.sent)
	}
	if !slices.Equal(fs.marked, []uuid.UUID{dl.ID}) {
		t.Fatalf("marked %v", fs.marked)
	}
}

type fakeDeadStore struct{ saved []runoff.DeadLetter }

func (f *fakeDeadStore) SaveDeadLetters(_ context.Context, dls []runoff.DeadLetter) error {
	f.saved = append(f.saved, dls...)
	return nil
}

// A dead letter is filed under the election its body names, and under the
// organizer whose action it was, so only they see it.
func TestDeadLettersFiled(t *testing.T) {
	election, owner := uuid.New(), uuid.New()
	transport := func(m runoff.Message) runoff.Message {
		m.DeadLetter = &runoff.DeadLetter{ID: uuid.New(), MessageID: m.ID, RoutingKey: m.RoutingKey, Body: m.Body, Reason: "why", DeadAt: time.Now()}
		return m
	}
	fs := &fakeDeadStore{}
	h := &DeadLetters{Store: fs}
	dead, err := h.Handle(context.Background(), []runoff.Message{
		transport(msg(t, runoff.KeyVoteSubmit, "v", runoff.VoteSubmit{BallotID: uuid.New(), ElectionID: election})),
		transport(msg(t, runoff.KeyElectionCreate, "e", runoff.ElectionCreate{ElectionID: election, OwnerID: owner})),
		transport(runoff.Message{RoutingKey: runoff.KeyVoteSubmit, ID: "junk", Body: []byte("\x00not json")}),
	})
	if err != nil || !slices.Equal(dead, []string{"", "", ""}) {
		t.Fatalf("%q, %v", dead, err)
	}
	ballot, create, junk := fs.saved[0], fs.saved[1], fs.saved[2]
	if *ballot.ElectionID != election || ballot.OrganizerID != nil {
		t.Errorf("ballot filed under %v, organizer %v", ballot.ElectionID, ballot.OrganizerID)
	}
	if *create.ElectionID != election || *create.OrganizerID != owner {
		t.Errorf("election.create filed under %v, organizer %v", create.ElectionID, create.OrganizerID)
	}
	if junk.ElectionID != nil || junk.Reason != "why" || string(junk.Body) != "\x00not json" {
		t.Errorf("unreadable dead letter: %+v", junk)
	}
}
