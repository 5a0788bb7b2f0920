package worker

import (
	"context"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// ElectionStore creates elections; runoff.DecideElectionCreate decides
// each, inside the store's transaction.
type ElectionStore interface {
	CreateElections(ctx context.Context, ms []runoff.ElectionCreate) ([]store.Outcome, error)
}

// Elections carries out election.create.
type Elections struct {
	Store ElectionStore
}

// Handle creates a batch of elections in one transaction.
func (h *Elections) Handle(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	ms := make([]runoff.ElectionCreate, 0, len(batch))
	index := make([]int, 0, len(batch))
	for i, msg := range batch {
		var m runoff.ElectionCreate
		if dead[i] = decode(msg, &m, func() string { return m.ElectionID.String() }); dead[i] != "" {
			continue
		}
		ms, index = append(ms, m), append(index, i)
	}
	if len(ms) == 0 {
		return dead, nil
	}
	out, err := h.Store.CreateElections(ctx, ms)
	if err != nil {
		return nil, err
	}
	for j, o := range out {
		dead[index[j]] = o.Dead
	}
	return dead, nil
}
