package runoff

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Voter keys: an election with Access "keys" takes one ballot per key the
// organizer issued. A key is derived from a server secret, so the
// organizer can download the same keys again; Postgres and the broker only
// ever hold a key's hash.

// AccessKeys lets only holders of a voter key vote; ChangesAllowed (keys
// only) lets a voter replace their ballot with a later one until close.
const (
	AccessKeys     = "keys"
	ChangesAllowed = "allowed"
)

// KeyElectionKeys asks the worker to record a batch of voter keys.
const KeyElectionKeys = "election.keys"

// BallotReplaced is the state of a ballot that a later ballot cast with
// the same voter key replaced.
const BallotReplaced = "replaced"

// Limits on a batch of voter keys.
const (
	MaxKeysPerBatch = 5000
	MaxVoterLabel   = 200
)

// keyChars is how many base32 characters a key has: 16 × 5 = 80 bits.
const keyChars = 16

// ElectionKeys is the body of an election.keys message: a batch of keys,
// as hashes in the order they were made, with the voter each is for
// (Labels, empty or one per hash). ChangeID is also the batch's ID, which
// with each key's index derives the key again.
type ElectionKeys struct {
	ChangeID    uuid.UUID `json:"change_id"`
	ElectionID  uuid.UUID `json:"election_id"`
	OrganizerID uuid.UUID `json:"organizer_id"`
	Hashes      []string  `json:"hashes"`
	Labels      []string  `json:"labels,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
}

// IssuedKey is a key as stored: where it comes from, and the voter it is
// for, if the organizer named one. The key itself is derived again from
// Batch and Index.
type IssuedKey struct {
	Hash     string    `db:"key_hash"`
	Batch    uuid.UUID `db:"batch_id"`
	Index    int       `db:"idx"`
	Label    string    `db:"label"`
	IssuedAt time.Time `db:"issued_at"`
}

// DeriveKey makes the index-th key of a batch for an election from the
// server's secret, grouped in fours for reading aloud or typing:
// ABCD-EFGH-IJKL-MNOP.
func DeriveKey(secret []byte, election, batch uuid.UUID, index int) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("runoff voter key v1|"))
	mac.Write(election[:])
	mac.Write(batch[:])
	binary.Write(mac, binary.BigEndian, uint32(index))
	raw := base32.StdEncoding.EncodeToString(mac.Sum(nil))[:keyChars]
	return raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
}

// NormalizeKey reads a key as a voter typed or scanned it: case, spaces
// and dashes do not matter, and the digits 0, 1 and 8, which keys never
// hold, are read as the letters O, I and B they are mistaken for. It
// returns "" for anything that cannot be a key.
func NormalizeKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r == '0':
			r = 'O'
		case r == '1':
			r = 'I'
		case r == '8':
			r = 'B'
		}
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return ""
		}
		b.WriteRune(r)
	}
	if b.Len() != keyChars {
		return ""
	}
	return b.String()
}

// HashKey is what Runoff stores and sends of a key: SHA-256 of the
// election and the normalized key, in hex. Keys carry 80 random bits, so
// the hash cannot be reversed by guessing; the election in it keeps one
// election's hashes from matching another's. "" for no key.
func HashKey(election uuid.UUID, key string) string {
	k := NormalizeKey(key)
	if k == "" {
		return ""
	}
	h := sha256.New()
	h.Write([]byte("runoff voter key hash v1|"))
	h.Write(election[:])
	h.Write([]byte(k))
	return hex.EncodeToString(h.Sum(nil))
}

// SplitVoters reads the organizer's list of voters, one per line,
// trimming space and dropping blank lines.
func SplitVoters(text string) []string { return SplitCandidates(text) }

// DecideKeys decides an election.keys against the election as stored
// (nil when there is none): "" to record the batch, or why it cannot be.
func DecideKeys(e *Election, m ElectionKeys) (dead string) {
	switch {
	case e == nil:
		return fmt.Sprintf("There is no election %s.", m.ElectionID)
	case e.OwnerID != m.OrganizerID:
		return fmt.Sprintf("Organizer %s does not own election %s, so it is not theirs to issue keys for.", m.OrganizerID, e.ID)
	case e.Access != AccessKeys:
		return "This election is open to anyone with the link; voter keys are for elections set to vote with keys."
	case e.StateAt(m.RequestedAt) == StatusClosed:
		return "The election has closed, so no more voter keys can be issued."
	}
	return Reason(ValidateKeys(m))
}

// ValidateKeys checks a batch of keys: the web before publishing, the
// worker before storing.
func ValidateKeys(m ElectionKeys) error {
	switch {
	case m.ChangeID == uuid.Nil:
		return Invalid("This batch of keys has no ID.", nil)
	case len(m.Hashes) == 0 || len(m.Hashes) > MaxKeysPerBatch:
		return Invalid(fmt.Sprintf("Issue between 1 and %d keys at a time.", MaxKeysPerBatch), nil)
	case len(m.Labels) != 0 && len(m.Labels) != len(m.Hashes):
		return Invalid("Each key needs its voter, or none does.", nil)
	}
	seen := make(map[string]bool, len(m.Hashes))
	for i, h := range m.Hashes {
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size || h != strings.ToLower(h) {
			return Invalid(fmt.Sprintf("Key %d is not a key's hash.", i+1), nil)
		}
		if seen[h] {
			return Invalid(fmt.Sprintf("Key %d is listed twice.", i+1), nil)
		}
		seen[h] = true
	}
	for i, l := range m.Labels {
		if l == "" || utf8.RuneCountInString(l) > MaxVoterLabel || !isText(l) || strings.ContainsAny(l, "\r\n") {
			return Invalid(fmt.Sprintf("Voter %d must be one line of at most %d characters.", i+1, MaxVoterLabel), nil)
		}
	}
	return nil
}

// KeyUse is what is stored of a voter key when a ballot comes with it.
type KeyUse struct {
	Issued bool // the key was issued for this election
	Used   bool // a ballot counted with it
	// Ballot and SubmittedAt are the key's current ballot and when the web
	// received it; kept only when the election allows changing a vote.
	Ballot      uuid.UUID
	SubmittedAt time.Time
}

// KeyDecision is what becomes of a ballot cast with a key, beyond
// DecideBallot's verdict: its status and reason, and whether it replaces
// the key's current ballot (which then becomes "replaced").
type KeyDecision struct {
	Status   string
	Reason   string
	Replaces bool
}

// Reasons a keyed ballot is not counted, as its receipt says them.
const (
	ReasonNoKey      = "This election takes ballots only with a voter key, and this ballot came without one."
	ReasonUnknownKey = "This ballot's voter key was not issued for this election."
	ReasonKeyUsed    = "This voter key had already been used: only the first ballot cast with it counts."
	ReasonReplaced   = "A later ballot cast with the same voter key replaced this one."
)

// DecideKeyedBallot decides a ballot for an election that takes keys,
// once DecideBallot has counted it: d is DecideBallot's verdict, k what is
// stored of its key. Without changes, the first ballot with a key counts
// and any other is rejected. With changes, the ballot the web received
// last counts: a later one replaces the current one, an earlier one
// arriving late is itself marked replaced.
func DecideKeyedBallot(e *Election, v VoteSubmit, d BallotDecision, k KeyUse) KeyDecision {
	if d.Status != BallotCounted || e.Access != AccessKeys {
		return KeyDecision{Status: d.Status, Reason: d.Reason}
	}
	switch {
	case v.KeyHash == "":
		return KeyDecision{Status: BallotRejected, Reason: ReasonNoKey}
	case !k.Issued:
		return KeyDecision{Status: BallotRejected, Reason: ReasonUnknownKey}
	case !k.Used:
		return KeyDecision{Status: BallotCounted}
	case e.Changes != ChangesAllowed:
		return KeyDecision{Status: BallotRejected, Reason: ReasonKeyUsed}
	case v.SubmittedAt.After(k.SubmittedAt) || v.SubmittedAt.Equal(k.SubmittedAt) && v.BallotID.String() > k.Ballot.String():
		return KeyDecision{Status: BallotCounted, Replaces: true}
	}
	return KeyDecision{Status: BallotReplaced, Reason: ReasonReplaced}
}
