// Package worker carries out what the web acknowledged before it was done:
// what each routing key means (votes.go, elections.go, keys.go, requeue.go,
// deadletters.go) and keeping each election's results fresh (tally.go,
// results.go). Each part depends on the small interface of the store, or
// of a publisher, that it uses, so its outcomes are tested without a
// broker; the transport that delivers batches is package rabbitmq, wired in
// by cmd/runoff.
package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// HandlerFunc carries out a batch of messages: for each, "" when it was
// carried out (or had been: any message may arrive twice) or the reason it
// never can be. An error means none of the batch is done; one wrapping
// runoff.ErrInvalid blames the batch's data, any other is transient. This
// is the shape of rabbitmq.Handler.
type HandlerFunc func(ctx context.Context, batch []runoff.Message) (dead []string, err error)

// ByKey carries out a batch that mixes routing keys (one queue takes
// several) by handing each key's messages to its own handler, in order.
// A message with a key nobody handles is dead.
func ByKey(handlers map[string]HandlerFunc) HandlerFunc {
	return func(ctx context.Context, batch []runoff.Message) ([]string, error) {
		dead := make([]string, len(batch))
		groups := map[string][]int{}
		var keys []string
		for i, m := range batch {
			if _, ok := handlers[m.RoutingKey]; !ok {
				dead[i] = fmt.Sprintf("Runoff has no action for messages of kind %q.", m.RoutingKey)
				continue
			}
			if groups[m.RoutingKey] == nil {
				keys = append(keys, m.RoutingKey)
			}
			groups[m.RoutingKey] = append(groups[m.RoutingKey], i)
		}
		for _, k := range keys {
			idx := groups[k]
			sub := make([]runoff.Message, len(idx))
			for j, i := range idx {
				sub[j] = batch[i]
			}
			d, err := handlers[k](ctx, sub)
			if err != nil {
				return nil, err
			}
			for j, i := range idx {
				dead[i] = d[j]
			}
		}
		return dead, nil
	}
}

// decode parses a message's JSON body into v, and checks that its message
// ID is the ID the body names (when it has one), so a message cannot be
// receipted under one ID and stored under another.
func decode(m runoff.Message, v any, id func() string) (dead string) {
	if err := json.Unmarshal(m.Body, v); err != nil {
		return fmt.Sprintf("The %s message is not valid JSON of the expected shape (%v).", m.RoutingKey, err)
	}
	if id != nil && m.ID != "" && m.ID != id() {
		return fmt.Sprintf("The %s message's ID %q is not the ID its body names (%s).", m.RoutingKey, m.ID, id())
	}
	return ""
}

// Store is everything the worker's parts need of the store.
type Store interface {
	ResetStore
	InviteStore
	VoteStore
	ElectionStore
	ChangeStore
	SealStore
	KeyStore
	ImportStore
	RequeueStore
	DeadLetterStore
}

// Announcer broadcasts a message to whoever listens, without waiting for
// it to arrive: the worker tells the web processes' election caches what
// it changed. rabbitmq.Publisher is one.
type Announcer interface {
	Announce(ctx context.Context, key string, body []byte) error
}

// Queues are the worker's lines of work, one per queue: ballots, the
// organizers' actions (election.* and deadletter.*), and dead letters.
type Queues struct {
	Votes       HandlerFunc
	Organizers  HandlerFunc
	DeadLetters HandlerFunc
}

// NewQueues wires the worker's parts to the store and a publisher (for
// requeues); counted is told which elections must be counted again.
// mailer, if not nil, sends the emails that organizers ask for (password
// links); without it, such requests are held with the reason.
func NewQueues(s Store, pub Publisher, counted func(ids []uuid.UUID), mailer Mailer, keysSecret []byte, log *slog.Logger) Queues {
	votes := &Votes{Store: s, Counted: counted}
	elections := &Elections{Store: s}
	changes := &Changes{Store: s, Recount: counted}
	if a, ok := pub.(Announcer); ok {
		changes.Changed = func(ctx context.Context, id uuid.UUID) {
			body, _ := json.Marshal(runoff.ElectionChanged{ElectionID: id})
			if err := a.Announce(ctx, runoff.KeyElectionChanged+"."+id.String(), body); err != nil {
				log.Warn("election change not announced; web caches keep the old row until their TTL", "election_id", id, "err", err)
			}
		}
	}
	sealer := NewSealer(s, pub, log)
	keys := &Keys{Store: s}
	imports := &Imports{Store: s, Counted: counted}
	resets := func(ctx context.Context, batch []runoff.Message) ([]string, error) {
		dead := make([]string, len(batch))
		for i := range dead {
			dead[i] = "This Runoff sends no email (SMTP_URL is not set on the worker)."
		}
		return dead, nil
	}
	invites := resets // the same refusal without a mailer
	if mailer != nil {
		resets = (&Resets{Store: s, Mailer: mailer, Hash: runoff.ResetTokenHash, Life: runoff.ResetLinkLife}).Handle
		invites = (&Invites{Store: s, Mailer: mailer, Secret: keysSecret}).Handle
	}
	requeues := &Requeues{Store: s, Publisher: pub, Log: log}
	dead := &DeadLetters{Store: s}
	return Queues{
		Votes: ByKey(map[string]HandlerFunc{runoff.KeyVoteSubmit: votes.Handle, runoff.KeyVoteSeal: sealer.Handle}),
		Organizers: ByKey(map[string]HandlerFunc{
			runoff.KeyElectionCreate:    elections.Handle,
			runoff.KeyElectionUpdate:    changes.Update,
			runoff.KeyElectionOpen:      changes.Act,
			runoff.KeyElectionClose:     changes.Act,
			runoff.KeyElectionReopen:    changes.Act,
			runoff.KeyElectionDelete:    changes.Act,
			runoff.KeyElectionTiebreak:  changes.Tiebreak,
			runoff.KeyElectionKeys:      keys.Handle,
			runoff.KeyElectionImport:    imports.Handle,
			runoff.KeyDeadLetterRequeue: requeues.Handle,
			runoff.KeyAccountReset:      resets,
			runoff.KeyElectionInvite:    invites,
		}),
		DeadLetters: dead.Handle,
	}
}
