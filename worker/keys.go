package worker

import (
	"context"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// KeyStore records batches of voter keys; runoff.DecideKeys decides each
// against the election's owner, inside the store's transaction.
type KeyStore interface {
	IssueKeys(ctx context.Context, m runoff.ElectionKeys) (store.Outcome, error)
}

// Keys carries out election.keys, one batch at a time: each locks its
// election.
type Keys struct {
	Store KeyStore
}

// Handle records each batch of key hashes.
func (h *Keys) Handle(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	for i, msg := range batch {
		var m runoff.ElectionKeys
		if dead[i] = decode(msg, &m, func() string { return m.ChangeID.String() }); dead[i] != "" {
			continue
		}
		out, err := h.Store.IssueKeys(ctx, m)
		if err != nil {
			return nil, err
		}
		dead[i] = out.Dead
	}
	return dead, nil
}
