package rabbitmqtest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Cluster is the three-node cluster that `go tool task cluster` starts
// (scripts/cluster.sh): the machine's node and two more.
type Cluster struct {
	URLs     []string // amqp:// URLs of the three nodes, the machine's first
	AMQPSURL string   // one node's TLS listener
	CA       string   // the file of the CA that signed its certificate
}

// Nodes lists the nodes that scripts/cluster.sh starts and stops (the
// machine's own node is not among them: tests never stop it).
var Nodes = []string{"rabbit2@localhost", "rabbit3@localhost"}

// ClusterOrSkip returns the cluster that scripts/cluster.sh started, as
// written to its env file (or given as RUNOFF_CLUSTER_* variables), and
// skips the test, saying so, when no cluster is up.
func ClusterOrSkip(tb testing.TB) Cluster {
	tb.Helper()
	vars := map[string]string{}
	dir := os.Getenv("RUNOFF_CLUSTER_DIR")
	if dir == "" {
		dir = "/var/lib/rabbitmq/runoff-cluster"
	}
	if f, err := os.Open(filepath.Join(dir, "env")); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), "="); ok {
				vars[k] = v
			}
		}
		f.Close()
	}
	for _, k := range []string{"RUNOFF_CLUSTER_AMQP_URLS", "RUNOFF_CLUSTER_AMQPS_URL", "RUNOFF_CLUSTER_CA"} {
		if v := os.Getenv(k); v != "" {
			vars[k] = v
		}
	}
	c := Cluster{AMQPSURL: vars["RUNOFF_CLUSTER_AMQPS_URL"], CA: vars["RUNOFF_CLUSTER_CA"]}
	for _, u := range strings.Split(vars["RUNOFF_CLUSTER_AMQP_URLS"], ",") {
		if u != "" {
			c.URLs = append(c.URLs, u)
		}
	}
	if len(c.URLs) < 3 || c.AMQPSURL == "" {
		tb.Skip("no RabbitMQ cluster is up: `go tool task cluster` starts one (`go tool task faults` does, and runs this)")
	}
	for _, u := range append(c.URLs, c.AMQPSURL) {
		p, err := url.Parse(u)
		if err != nil {
			tb.Fatalf("rabbitmqtest: cluster URL: %v", err)
		}
		conn, err := net.DialTimeout("tcp", p.Host, time.Second)
		if err != nil {
			tb.Skipf("the RabbitMQ cluster is not up (%s does not answer): `go tool task cluster` starts it", p.Redacted())
		}
		conn.Close()
	}
	return c
}

// TLS trusts the cluster's CA.
func (c Cluster) TLS(tb testing.TB) *tls.Config {
	tb.Helper()
	pem, err := os.ReadFile(c.CA)
	if err != nil {
		tb.Fatalf("rabbitmqtest: cluster CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		tb.Fatalf("rabbitmqtest: cluster CA %s: no certificate", c.CA)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
