package worker

import (
	"context"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// VoteStore stores ballots; runoff.DecideBallot decides each, inside the
// store's transaction.
type VoteStore interface {
	StoreVotes(ctx context.Context, votes []runoff.VoteSubmit) (out []store.Outcome, touched []uuid.UUID, err error)
}

// Votes carries out vote.submit.
type Votes struct {
	Store VoteStore
	// Counted, if set, is told which elections have new ballots counted.
	Counted func(ids []uuid.UUID)
}

// Handle stores a batch of ballots in one transaction.
func (h *Votes) Handle(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	votes := make([]runoff.VoteSubmit, 0, len(batch))
	index := make([]int, 0, len(batch))
	for i, m := range batch {
		var v runoff.VoteSubmit
		if dead[i] = decode(m, &v, func() string { return v.BallotID.String() }); dead[i] != "" {
			continue
		}
		votes, index = append(votes, v), append(index, i)
	}
	if len(votes) == 0 {
		return dead, nil
	}
	out, touched, err := h.Store.StoreVotes(ctx, votes)
	if err != nil {
		return nil, err
	}
	for j, o := range out {
		dead[index[j]] = o.Dead
	}
	if len(touched) > 0 && h.Counted != nil {
		h.Counted(touched)
	}
	return dead, nil
}
