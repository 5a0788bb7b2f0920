package worker

import (
	"context"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// ChangeStore carries out an organizer's changes to an election; the
// root package's DecideUpdate and DecideAction decide each, inside the
// store's transaction, against the election's owner.
type ChangeStore interface {
	UpdateElection(ctx context.Context, m runoff.ElectionUpdate) (store.Outcome, error)
	ActOnElection(ctx context.Context, key string, m runoff.ElectionAction) (store.Outcome, error)
	DecideTie(ctx context.Context, m runoff.TieDecision) (store.Outcome, error)
}

// Changes carries out election.update, .open, .close, .reopen, .delete and
// .tiebreak, one at a time: they are few, and each locks its election.
type Changes struct {
	Store ChangeStore
	// Recount, if set, is told of elections whose count must be made again.
	Recount func(ids []uuid.UUID)
	// Changed, if set, is told of each election a change was carried out
	// on, after its commit (the web processes' caches forget it).
	Changed func(ctx context.Context, id uuid.UUID)
}

// changed tells Changed, if set.
func (h *Changes) changed(ctx context.Context, id uuid.UUID) {
	if h.Changed != nil {
		h.Changed(ctx, id)
	}
}

// Tiebreak records the organizer's choice in a tie; the count resumes.
func (h *Changes) Tiebreak(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	for i, msg := range batch {
		var m runoff.TieDecision
		if dead[i] = decode(msg, &m, func() string { return m.ID.String() }); dead[i] != "" {
			continue
		}
		out, err := h.Store.DecideTie(ctx, m)
		if err != nil {
			return nil, err
		}
		if dead[i] = out.Dead; dead[i] == "" && h.Recount != nil {
			h.Recount([]uuid.UUID{m.Election})
		}
		h.changed(ctx, m.Election)
	}
	return dead, nil
}

// Update carries out election.update.
func (h *Changes) Update(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	for i, msg := range batch {
		var m runoff.ElectionUpdate
		if dead[i] = decode(msg, &m, func() string { return m.ChangeID.String() }); dead[i] != "" {
			continue
		}
		out, err := h.Store.UpdateElection(ctx, m)
		if err != nil {
			return nil, err
		}
		dead[i] = out.Dead
		h.changed(ctx, m.ElectionID)
	}
	return dead, nil
}

// Act carries out the lifecycle action its routing key names.
func (h *Changes) Act(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	for i, msg := range batch {
		var m runoff.ElectionAction
		if dead[i] = decode(msg, &m, func() string { return m.ChangeID.String() }); dead[i] != "" {
			continue
		}
		out, err := h.Store.ActOnElection(ctx, msg.RoutingKey, m)
		if err != nil {
			return nil, err
		}
		dead[i] = out.Dead
		h.changed(ctx, m.ElectionID)
	}
	return dead, nil
}
