package rabbitmq_test

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

// amqps:// works, as hosted brokers require: a publish confirmed and a
// message consumed through the cluster's TLS listener, and a publisher
// that does not trust the certificate's CA refused.
func TestClusterAMQPS(t *testing.T) {
	cl := rabbitmqtest.ClusterOrSkip(t)
	topo := rabbitmqtest.Topology(t)
	pub := rabbitmq.NewPublisher(cl.AMQPSURL, topo, quiet())
	pub.TLS = cl.TLS(t)
	defer pub.Close()
	if err := pub.Publish(context.Background(), runoff.KeyVoteSubmit, uuid.NewString(), []byte("tls")); err != nil {
		t.Fatalf("publish over amqps: %v", err)
	}
	r := &recorder{}
	c := rabbitmq.NewConsumer(cl.AMQPSURL, topo, map[string]rabbitmq.Handler{topo.Votes: r.handle}, quiet())
	c.TLS = cl.TLS(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	rabbitmqtest.WaitFor(t, "the message consumed over amqps", func() bool { d, _ := r.snapshot(); return len(d) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	untrusting := rabbitmq.NewPublisher(cl.AMQPSURL, topo, quiet())
	untrusting.TLS = &tls.Config{MinVersion: tls.VersionTLS12} // the system's roots
	defer untrusting.Close()
	err := untrusting.Publish(context.Background(), runoff.KeyVoteSubmit, uuid.NewString(), []byte("x"))
	if !errors.Is(err, runoff.ErrUnavailable) {
		t.Fatalf("publish to a broker whose certificate is not trusted: %v", err)
	}
}
