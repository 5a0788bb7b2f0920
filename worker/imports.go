package worker

import (
	"context"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// ImportStore stores imported paper ballots.
type ImportStore interface {
	StoreImport(ctx context.Context, m runoff.ElectionImport) (out store.Outcome, counted bool, err error)
}

// Imports carries out election.import: a batch of paper ballots, checked
// against the owner, stored like online ones.
type Imports struct {
	Store ImportStore
	// Counted, if set, is told which elections have new ballots counted.
	Counted func(ids []uuid.UUID)
}

// Handle stores each batch in its own transaction.
func (h *Imports) Handle(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	for i, msg := range batch {
		var m runoff.ElectionImport
		if dead[i] = decode(msg, &m, func() string { return m.BatchID.String() }); dead[i] != "" {
			continue
		}
		out, counted, err := h.Store.StoreImport(ctx, m)
		if err != nil {
			return nil, err
		}
		dead[i] = out.Dead
		if counted && h.Counted != nil {
			h.Counted([]uuid.UUID{m.ElectionID})
		}
	}
	return dead, nil
}
