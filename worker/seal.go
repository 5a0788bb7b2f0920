package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/runoff-vote/runoff"
)

// SealStore finds closed elections to seal and marks their counts final.
type SealStore interface {
	ToSeal(ctx context.Context, settled, resend time.Time) ([]runoff.VoteSeal, error)
	Seal(ctx context.Context, seal runoff.VoteSeal) error
}

// Sealer marks counts final. Some time after an election closes (Settle:
// longer than a web process waits for the broker to confirm a ballot), it
// sends a seal through the votes queue behind every ballot received before
// the close; when the seal comes out, those ballots have been carried out,
// and the count is final. A count that grows after all loses the mark
// (the store sees to it) and is sealed again.
type Sealer struct {
	Store     SealStore
	Publisher Publisher
	Log       *slog.Logger
	Settle    time.Duration // after the close, before sealing
	Resend    time.Duration // a seal not through by then is sent again
	Poll      time.Duration
}

// NewSealer makes a sealer with production defaults.
func NewSealer(s SealStore, pub Publisher, log *slog.Logger) *Sealer {
	return &Sealer{Store: s, Publisher: pub, Log: log, Settle: 15 * time.Second, Resend: time.Minute, Poll: 5 * time.Second}
}

// Run sends seals until ctx is cancelled.
func (s *Sealer) Run(ctx context.Context) error {
	t := time.NewTicker(s.Poll)
	defer t.Stop()
	for {
		if !s.myTurn(ctx) {
			// Another worker looks this time.
		} else if err := s.Once(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("sealing failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// myTurn reports whether this worker looks for seals to send now: always
// alone; among several, one per Poll takes the turn (and the store's
// ToSeal keeps two that look at once from sealing the same election).
func (s *Sealer) myTurn(ctx context.Context) bool {
	tt, ok := s.Store.(TurnTaker)
	if !ok {
		return true
	}
	mine, err := tt.ClaimTurn(ctx, "seal-scan", s.Poll*4/5)
	if err != nil {
		s.Log.Warn("sealing: taking the turn failed; looking anyway", "err", err)
		return true
	}
	return mine
}

// Once sends the seals due now.
func (s *Sealer) Once(ctx context.Context) error {
	now := time.Now()
	seals, err := s.Store.ToSeal(ctx, now.Add(-s.Settle), now.Add(-s.Resend))
	if err != nil {
		return err
	}
	for _, seal := range seals {
		body, err := json.Marshal(seal)
		if err != nil {
			return err
		}
		if err := s.Publisher.Publish(ctx, runoff.KeyVoteSeal, "seal-"+seal.ElectionID.String(), body); err != nil {
			return err // sent again after Resend
		}
	}
	return nil
}

// Handle marks the counts of the seals that came through final.
func (s *Sealer) Handle(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dead := make([]string, len(batch))
	for i, msg := range batch {
		var seal runoff.VoteSeal
		if dead[i] = decode(msg, &seal, nil); dead[i] != "" {
			continue
		}
		if err := s.Store.Seal(ctx, seal); err != nil {
			return nil, err
		}
	}
	return dead, nil
}
