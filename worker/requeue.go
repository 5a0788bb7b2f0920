package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// RequeueStore reads what a requeue request names and marks it done.
type RequeueStore interface {
	DeadLetter(ctx context.Context, id uuid.UUID) (*runoff.DeadLetter, error)
	Election(ctx context.Context, id uuid.UUID) (*runoff.Election, error)
	MarkRequeued(ctx context.Context, dl *runoff.DeadLetter, by uuid.UUID, at time.Time) error
}

// Publisher publishes a message and returns once the broker confirmed it.
type Publisher interface {
	Publish(ctx context.Context, key, id string, body []byte) error
}

// Requeues carries out deadletter.requeue: it publishes a held message
// again, as the organizer of its election asked, after checking again that
// they own it. Publishing twice is harmless (every message is carried out
// idempotently), so a redelivered request needs no more care than the
// requeued_at mark.
type Requeues struct {
	Store     RequeueStore
	Publisher Publisher
	Log       *slog.Logger
}

// Handle carries out each request in turn.
func (h *Requeues) Handle(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	for i, msg := range batch {
		var err error
		if dead[i], err = h.requeue(ctx, msg); err != nil {
			return nil, err
		}
	}
	return dead, nil
}

func (h *Requeues) requeue(ctx context.Context, msg runoff.Message) (string, error) {
	var m runoff.DeadLetterRequeue
	if dead := decode(msg, &m, nil); dead != "" {
		return dead, nil
	}
	dl, err := h.Store.DeadLetter(ctx, m.DeadLetterID)
	if errors.Is(err, runoff.ErrNotFound) {
		dl, err = nil, nil
	}
	if err != nil {
		return "", err
	}
	var e *runoff.Election
	if dl != nil && dl.ElectionID != nil && *dl.ElectionID == m.ElectionID {
		e, err = h.Store.Election(ctx, m.ElectionID)
		if errors.Is(err, runoff.ErrNotFound) {
			e, err = nil, nil
		}
		if err != nil {
			return "", err
		}
	}
	if refused := runoff.DecideRequeue(m, dl, e); refused != "" {
		return refused, nil
	}
	if dl.RequeuedAt != nil {
		return "", nil
	}
	if err := h.Publisher.Publish(ctx, dl.RoutingKey, dl.MessageID, dl.Body); err != nil {
		return "", err
	}
	h.Log.Info("dead letter requeued", "dead_letter_id", dl.ID, "message_id", dl.MessageID, "election_id", e.ID)
	return "", h.Store.MarkRequeued(ctx, dl, m.OrganizerID, time.Now())
}
