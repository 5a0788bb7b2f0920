package worker

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
)

// DeadLetterStore keeps dead letters where organizers see them.
type DeadLetterStore interface {
	SaveDeadLetters(ctx context.Context, dls []runoff.DeadLetter) error
}

// DeadLetters stores messages read back from the dead-letter queue. It
// never dead-letters: a dead letter whose body it cannot read is stored as
// it is, with whatever reason it carries.
type DeadLetters struct {
	Store DeadLetterStore
}

// Handle stores a batch of dead letters.
func (h *DeadLetters) Handle(ctx context.Context, batch []runoff.Message) ([]string, error) {
	dls := make([]runoff.DeadLetter, len(batch))
	for i, m := range batch {
		dls[i] = deadLetterOf(m)
	}
	if err := h.Store.SaveDeadLetters(ctx, dls); err != nil {
		return nil, err
	}
	return make([]string, len(batch)), nil
}

// deadLetterOf completes what the transport knows of a dead message with
// what its body says: the election it names and whose action it was.
func deadLetterOf(m runoff.Message) runoff.DeadLetter {
	var dl runoff.DeadLetter
	if m.DeadLetter != nil {
		dl = *m.DeadLetter
	} else {
		// Not from the dead-letter queue's transport: name it by content,
		// so a redelivery is stored once.
		dl = runoff.DeadLetter{MessageID: m.ID, RoutingKey: m.RoutingKey, Body: m.Body, Reason: "unknown", DeadAt: time.Now().UTC(),
			ID: uuid.NewSHA1(uuid.NameSpaceOID, append([]byte(m.RoutingKey+"|"+m.ID+"|"), m.Body...))}
	}
	var ref struct {
		ElectionID  uuid.UUID `json:"election_id"`
		OwnerID     uuid.UUID `json:"owner_id"`     // election.create
		OrganizerID uuid.UUID `json:"organizer_id"` // deadletter.requeue
	}
	if json.Unmarshal(dl.Body, &ref) != nil {
		return dl
	}
	if ref.ElectionID != uuid.Nil {
		dl.ElectionID = &ref.ElectionID
	}
	switch {
	case ref.OwnerID != uuid.Nil:
		dl.OrganizerID = &ref.OwnerID
	case ref.OrganizerID != uuid.Nil:
		dl.OrganizerID = &ref.OrganizerID
	}
	return dl
}
