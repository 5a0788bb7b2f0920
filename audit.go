package runoff

import "time"

// AuditEntry is one organizer action on an election, as carried out.
type AuditEntry struct {
	Action      string    `db:"action"` // the routing key
	Detail      string    `db:"detail"`
	By          string    `db:"email"` // the organizer's email ("" if the account is gone)
	RequestedAt time.Time `db:"requested_at"`
	AppliedAt   time.Time `db:"applied_at"`
}

// ActionWords says what an action did, for the audit log.
func ActionWords(key string) string {
	switch key {
	case KeyElectionCreate:
		return "Created the election"
	case KeyElectionUpdate:
		return "Edited the election"
	case KeyElectionOpen:
		return "Opened voting"
	case KeyElectionClose:
		return "Closed voting"
	case KeyElectionReopen:
		return "Reopened voting"
	case KeyElectionTiebreak:
		return "Broke a tie"
	case KeyElectionKeys:
		return "Issued voter keys"
	case KeyElectionImport:
		return "Imported paper ballots"
	case KeyDeadLetterRequeue:
		return "Requeued a held message"
	}
	return key
}
