//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
)

// 7. On a three-node RabbitMQ cluster (`go tool task cluster`), the node
// holding the queues' leaders is stopped under a steady stream of ballots,
// then started again; then a second node, the first one back. Web and
// worker move to another node by themselves; every receipted ballot is
// stored once, no ballot whose confirm was lost gets a receipt, and the
// counts equal a recount. Only the nodes the cluster script started are
// stopped, never the machine's own; each is started again even if the test
// fails. (A network partition of one node cannot be made on one machine
// without namespaces of its own, and is not tested.)
func TestClusterNodeStopped(t *testing.T) {
	cl := rabbitmqtest.ClusterOrSkip(t)
	requireCommand(t, "rabbitmqctl")
	// The script's nodes first: migrate declares the queues through the
	// first, and their leaders are placed on the node of the declaring
	// connection, so they sit on a node this test may stop.
	urls := append(cl.URLs[1:], cl.URLs[0])
	// Web and worker use broker users of their own, as in production.
	c := newClusterOn(t, strings.Join(urls, ","), true)
	queues := append(c.topo.VoteQueues(), c.topo.Elections, c.topo.DeadQueue)
	for _, q := range queues {
		st := queueState(t, q)
		if len(st.Members) != 3 {
			t.Fatalf("queue %s has members %v, want three (one per node)", q, st.Members)
		}
	}
	web, worker := c.startWeb(0), c.startWorker()
	for p, user := range map[*proc]string{web: "runoff_web", worker: "runoff_worker"} {
		if !strings.Contains(p.tail(40), "connected") || !strings.Contains(p.tail(40), user+":xxxxx@") {
			t.Fatalf("%s did not connect as its own broker user %s:\n%s", p.name, user, p.tail(40))
		}
	}
	e := c.setUpElection()
	// The stream must last through two stops and restarts of a node, each
	// of which can take a minute: the cap (300/s for over 8 minutes) only
	// bounds a test gone wrong, and must not end the stream before the last
	// restart, as 30,000 once did when the restarts were slow.
	d := c.drive(e, loadOptions{clients: 4, perSecond: 300, maxSent: 150000})
	d.waitReceipts("the stream starts", 0, 300)

	// Each stop is of the node holding the leaders of the test's queues,
	// moved there first if the election after the last stop put them
	// elsewhere (on the machine's node, which is never stopped).
	for i, node := range rabbitmqtest.Nodes {
		moveLeaders(t, queues, node)
		stopped := time.Now()
		stopNode(t, node)
		after := waitLeader(t, c.topo.Votes, node)
		d.waitReceipts(fmt.Sprintf("receipts go on with %s stopped", node), d.receipted(), 600)
		answered, receipted, refused := d.sentSince(stopped)
		t.Logf("stop %d: %s, the leaders' node, stopped; votes leader now %s; since: %d answered, %d receipted, %d refused (503)",
			i+1, node, after, answered, receipted, refused)
		if err := startNode(node); err != nil {
			t.Fatal(err)
		}
		waitOnline(t, queues, node)
		d.waitReceipts(fmt.Sprintf("receipts go on with %s back", node), d.receipted(), 600)
	}
	c.check("cluster_node_stopped", d, checkOptions{})
}

// queueStatus is what rabbitmqctl says of a quorum queue.
type queueStatus struct {
	Name    string   `json:"name"`
	Leader  string   `json:"leader"`
	Members []string `json:"members"`
	Online  []string `json:"online"`
}

func queueState(t *testing.T, name string) queueStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rabbitmqctl", "-q", "list_queues", "name", "leader", "members", "online", "--formatter", "json").Output()
	if err != nil {
		t.Fatalf("rabbitmqctl list_queues: %v", err)
	}
	// Other queues may be classic ones (each web's own, auto-delete), for
	// which members and online are empty strings: decode only this one.
	var all []json.RawMessage
	if err := json.Unmarshal(out, &all); err != nil {
		t.Fatalf("rabbitmqctl list_queues: %v\n%s", err, out)
	}
	for _, raw := range all {
		var named struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &named); err != nil || named.Name != name {
			continue
		}
		var q queueStatus
		if err := json.Unmarshal(raw, &q); err != nil {
			t.Fatalf("rabbitmqctl list_queues: %s: %v\n%s", name, err, raw)
		}
		return q
	}
	t.Fatalf("rabbitmqctl does not list queue %s", name)
	return queueStatus{}
}

// moveLeaders makes node the leader of each queue (evaluated on that node,
// one of the script's: nothing is run on the machine's own).
func moveLeaders(t *testing.T, queues []string, node string) {
	t.Helper()
	for _, q := range queues {
		expr := fmt.Sprintf(`{ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<%q>>)), rabbit_quorum_queue:transfer_leadership(Q, '%s').`, q, node)
		if err := command(context.Background(), "rabbitmqctl", "-n", node, "eval", expr); err != nil {
			t.Fatalf("moving %s's leader to %s: %v", q, node, err)
		}
	}
	rabbitmqtest.WaitFor(t, "the queues' leaders on "+node, func() bool {
		for _, q := range queues {
			if queueState(t, q).Leader != node {
				return false
			}
		}
		return true
	})
}

// waitLeader waits until the queue has a leader other than the node gone.
func waitLeader(t *testing.T, queue, gone string) string {
	t.Helper()
	var leader string
	rabbitmqtest.WaitFor(t, queue+" elects a leader on a running node", func() bool {
		st := queueState(t, queue)
		leader = st.Leader
		return leader != gone && slices.Contains(st.Online, leader)
	})
	return leader
}

// waitOnline waits until every queue counts node among its online members.
func waitOnline(t *testing.T, queues []string, node string) {
	t.Helper()
	rabbitmqtest.WaitFor(t, node+" is back in every queue", func() bool {
		for _, q := range queues {
			if !slices.Contains(queueState(t, q).Online, node) {
				return false
			}
		}
		return true
	})
}

// stopNode stops a cluster node's broker application (its Erlang VM stays
// up), and starts it again when the test ends, whatever happened. It
// refuses any node but the cluster script's own.
func stopNode(t *testing.T, node string) {
	t.Helper()
	if !slices.Contains(rabbitmqtest.Nodes, node) {
		t.Fatalf("refusing to stop %s: only the cluster script's nodes (%v) may be stopped", node, rabbitmqtest.Nodes)
	}
	t.Cleanup(func() {
		if err := startNode(node); err != nil {
			t.Errorf("restoring %s: %v (go tool task cluster-down takes it out)", node, err)
		}
	})
	if err := command(context.Background(), "rabbitmqctl", "-n", node, "stop_app"); err != nil {
		t.Fatal(err)
	}
}

// startNode starts a node's application (a no-op when it runs) and waits
// for it.
func startNode(node string) error {
	if err := command(context.Background(), "rabbitmqctl", "-n", node, "start_app"); err != nil {
		return err
	}
	return command(context.Background(), "rabbitmqctl", "-n", node, "await_startup", "--timeout", "90")
}
