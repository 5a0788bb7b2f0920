package runoff

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// ResetTokenHash is how a one-time password link is kept: by its hash, so
// the table cannot be used to take over an account.
func ResetTokenHash(token string) string {
	sum := sha256.Sum256([]byte("runoff reset:" + token))
	return hex.EncodeToString(sum[:])
}

// ResetLinkLife is how long a one-time password link works.
const ResetLinkLife = time.Hour

// KeyAccountReset asks the worker to email an organizer a one-time link
// to set a new password. The worker makes the link, so no live link
// travels through the broker.
const KeyAccountReset = "account.reset"

// AccountReset is the body of an account.reset message. Site is the
// address the organizer asked from, which the link points to.
type AccountReset struct {
	RequestID   string    `json:"request_id"`
	Email       string    `json:"email"`
	Site        string    `json:"site"`
	RequestedAt time.Time `json:"requested_at"`
}
