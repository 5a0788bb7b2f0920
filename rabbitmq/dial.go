package rabbitmq

import (
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// dial connects to the broker with a short heartbeat (a dead peer is noticed
// within seconds) and a name that the management UI shows.
func dial(url, name string, timeout time.Duration) (*amqp.Connection, error) {
	return amqp.DialConfig(url, amqp.Config{
		Heartbeat:  10 * time.Second,
		Locale:     "en_US",
		Dial:       amqp.DefaultDial(timeout),
		Properties: amqp.Table{"connection_name": name},
	})
}
