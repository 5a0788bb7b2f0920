package runoff

// Message is one message as the worker receives it, whatever carried it:
// the routing key names the action, ID is the message ID the web gave it
// (the ballot's or election's ID where there is one), Body is its JSON.
type Message struct {
	RoutingKey string
	ID         string
	Body       []byte
	// DeadLetter is set on messages read back from the dead-letter queue:
	// why, where and when the message died, as far as the transport knows.
	DeadLetter *DeadLetter
}
