//go:build faults

package rabbitmq_test

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

// rabbitmqctl runs the broker's control tool; the faults suite runs as root
// on the machine that runs the broker.
func rabbitmqctl(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("rabbitmqctl", args...).CombinedOutput(); err != nil {
		t.Fatalf("rabbitmqctl %v: %v\n%s", args, err, out)
	}
}

// A broker that raises a memory alarm blocks publishers. A publish then
// fails at once with ErrUnavailable (the web's 503) instead of hanging, and
// publishing resumes by itself when the alarm clears.
func TestFaultBrokerBlocked(t *testing.T) {
	topo := rabbitmqtest.Topology(t)
	pub := rabbitmq.NewPublisher(rabbitmqtest.URL(), topo, quiet())
	defer pub.Close()
	ctx := context.Background()
	if err := pub.Publish(ctx, runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}")); err != nil {
		t.Fatalf("publish before the alarm: %v", err)
	}

	t.Cleanup(func() { rabbitmqctl(t, "set_vm_memory_high_watermark", "0.4") })
	rabbitmqctl(t, "set_vm_memory_high_watermark", "0.000001")
	// RabbitMQ tells a connection it is blocked when it next publishes: that
	// publish waits out the publisher's bounded timeout; once the notice has
	// arrived, publishes fail at once.
	pub.Timeout = 2 * time.Second
	var failures int
	rabbitmqtest.WaitFor(t, "the publisher hears that the broker blocks it", func() bool {
		if pub.Ping(ctx) != nil {
			return true
		}
		err := pub.Publish(ctx, runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}"))
		if !errors.Is(err, runoff.ErrUnavailable) {
			t.Fatalf("publish during a memory alarm: %v, want ErrUnavailable", err)
		}
		failures++
		return false
	})
	start := time.Now()
	err := pub.Publish(ctx, runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}"))
	if !errors.Is(err, runoff.ErrUnavailable) {
		t.Fatalf("publish while blocked: %v, want ErrUnavailable", err)
	}
	t.Logf("%d publish(es) timed out before the blocked notice; then failed fast (%v): %v", failures, time.Since(start), err)

	rabbitmqctl(t, "set_vm_memory_high_watermark", "0.4")
	var last string
	rabbitmqtest.WaitFor(t, "publishing resumes after the alarm cleared", func() bool {
		err := pub.Publish(ctx, runoff.KeyVoteSubmit, uuid.NewString(), []byte("{}"))
		if err != nil && err.Error() != last {
			last = err.Error()
			t.Logf("publish after the alarm cleared: %v", err)
		}
		return err == nil
	})
}
