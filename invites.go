package runoff

import (
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
)

// KeyElectionInvite asks the worker to email voters their keys. It names
// each key by its batch and index, never the key: the worker derives it
// again from the server's secret, so no key travels through the broker.
const KeyElectionInvite = "election.invite"

// MaxInvitesPerMessage bounds one election.invite message.
const MaxInvitesPerMessage = 200

// Invitee is a voter to invite: the key's batch and index, and the email
// the organizer gave for it.
type Invitee struct {
	Batch uuid.UUID `json:"batch"`
	Index int       `json:"index"`
	Email string    `json:"email"`
}

// ElectionInvite is the body of an election.invite message. Site is the
// address the ballot links point to.
type ElectionInvite struct {
	ChangeID    uuid.UUID `json:"change_id"`
	ElectionID  uuid.UUID `json:"election_id"`
	OrganizerID uuid.UUID `json:"organizer_id"`
	Site        string    `json:"site"`
	Invitees    []Invitee `json:"invitees"`
	RequestedAt time.Time `json:"requested_at"`
}

// DecideInvite decides an election.invite against its election (nil when
// there is none) at now: only its organizer invites, to an election that
// takes keys and has not closed, with a link to a web site.
func DecideInvite(e *Election, m ElectionInvite, now time.Time) (dead string) {
	u, err := url.Parse(m.Site)
	switch {
	case e == nil:
		return fmt.Sprintf("There is no election %s.", m.ElectionID)
	case e.OwnerID != m.OrganizerID:
		return fmt.Sprintf("Organizer %s does not own election %s, so its voters are not theirs to invite.", m.OrganizerID, e.ID)
	case e.Access != AccessKeys:
		return "This election takes no voter keys, so there is nothing to invite with."
	case e.StateAt(now) == StatusClosed:
		return "The election has closed; invitations to vote would come too late."
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Sprintf("The invitation names no site to link to (%q).", m.Site)
	}
	return ""
}
