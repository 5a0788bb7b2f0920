//go:build faults

package faults

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
	"github.com/runoff-vote/runoff/store/storetest"
)

// runoffBin is the real binary, built once by TestMain, so that web and
// worker run as processes of their own that a test can kill -9.
var runoffBin string

// cluster is one test's Runoff: its own database and queues, and web and
// worker processes running the real binary against the real services.
type cluster struct {
	t       *testing.T
	env     []string
	dbURL   string
	topo    rabbitmq.Topology
	db      *sql.DB
	web     *proc
	webs    []*proc // every web started, c.web the last
	webPort int
	base    atomic.Value // string: where the web listens now
	// voteBases, when set, are several webs' base URLs: the load driver
	// sends ballot i to voteBases[i % len], as a load balancer would.
	voteBases []string
	workers   []*proc
	nextProc  atomic.Int64

	amqpMu   sync.Mutex
	amqpConn *amqp.Connection // for watching queue depths; redialled as needed
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	return newClusterOn(t, rabbitmqtest.URL(), false)
}

// newClusterOn is newCluster with AMQP_URL set to amqpURL: a RabbitMQ
// cluster's nodes, comma-separated. With ownUsers, the web and the worker
// (and migrate) each use a broker user of their own with only the
// permissions it needs (scripts/broker-users.sh), as in production.
func newClusterOn(t *testing.T, amqpURL string, ownUsers bool) *cluster {
	t.Helper()
	dbURL := storetest.NewURL(t)
	prefix := rabbitmqtest.Prefix(t)
	c := &cluster{t: t, dbURL: dbURL, topo: rabbitmq.DefaultTopology().WithPrefix(prefix)}
	var users []string
	if ownUsers {
		web, worker := brokerUsers(t, prefix, amqpURL)
		users = []string{"WEB_AMQP_URL=" + web, "WORKER_AMQP_URL=" + worker}
	}
	// Later entries win, so whatever the caller's shell has set is overridden;
	// CLOUDAMQP_URL would take precedence over AMQP_URL, so it is emptied.
	c.env = append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"AMQP_URL="+amqpURL,
		"CLOUDAMQP_URL=",
		"RUNOFF_QUEUE_PREFIX="+prefix,
		"SESSION_KEY=faults-session-key-0123456789abcdef0123456789",
		"LOG_FORMAT=text",
		"DYNO=",
		"LOG_LEVEL=info",
		"WEB_AMQP_URL=",
		"WORKER_AMQP_URL=",
	)
	c.env = append(c.env, users...)
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.db = db
	t.Cleanup(func() {
		c.amqpMu.Lock()
		defer c.amqpMu.Unlock()
		if c.amqpConn != nil {
			c.amqpConn.Close()
		}
	})
	m := c.start("migrate")
	select {
	case <-m.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("runoff migrate did not finish")
	}
	if m.exitErr != nil {
		t.Fatalf("runoff migrate: %v\n%s", m.exitErr, m.tail(30))
	}
	return c
}

// proc is one runoff process; its stderr (the log) goes to a file that is
// shown, in part, when the test fails, and kept in $RUNOFF_FAULTS_LOGS if
// that is set.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	lines   *lineWatcher
	done    chan struct{} // closed when the process has exited
	exitErr error
	metrics string // a worker's /metrics URL (METRICS_PORT)
}

func (c *cluster) start(args ...string) *proc { return c.startEnv(nil, args...) }

// startEnv starts the binary with extra environment on top of the cluster's.
func (c *cluster) startEnv(extra []string, args ...string) *proc {
	c.t.Helper()
	n := c.nextProc.Add(1)
	name := fmt.Sprintf("%s-%d", args[0], n)
	p := &proc{name: name, logPath: filepath.Join(c.t.TempDir(), name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.logPath)
	if err != nil {
		c.t.Fatal(err)
	}
	p.lines = newLineWatcher(f)
	p.cmd = exec.Command(runoffBin, args...)
	p.cmd.Env = append(append([]string(nil), c.env...), extra...)
	p.cmd.Stdout = p.lines
	p.cmd.Stderr = p.lines
	// If the test binary itself dies, take the children with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		c.t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.exitErr = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	c.t.Cleanup(func() {
		if p.alive() {
			p.cmd.Process.Kill()
		}
		<-p.done
		if dir := os.Getenv("RUNOFF_FAULTS_LOGS"); dir != "" {
			if b, err := os.ReadFile(p.logPath); err == nil {
				os.WriteFile(filepath.Join(dir, c.t.Name()+"-"+p.name+".log"), b, 0o644)
			}
		}
		if c.t.Failed() {
			c.t.Logf("--- last lines of %s (pid %d, %v) ---\n%s", p.name, p.cmd.Process.Pid, p.exitErr, p.tail(25))
		}
	})
	return p
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill9 kills the process with SIGKILL, as a crash or the OOM killer would,
// and waits until it is gone.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && p.alive() {
		t.Fatalf("kill -9 %s: %v", p.name, err)
	}
	<-p.done
}

// terminate sends SIGTERM, as a platform does on deploy or scale-down, and
// reports how the process ended.
func (p *proc) terminate(t *testing.T) error {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.exitErr
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit within 60s of SIGTERM", p.name)
	}
}

func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// metric reads one series of the worker's /metrics, such as
// runoff_consumed_total{queue="…"}: 0 while it has no sample yet.
func (p *proc) metric(series string) (float64, error) {
	resp, err := http.Get(p.metrics)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", p.metrics, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 || line[:i] != series {
			continue
		}
		return strconv.ParseFloat(line[i+1:], 64)
	}
	return 0, sc.Err()
}

// mustMetric is metric for a worker that must answer.
func (p *proc) mustMetric(t *testing.T, series string) float64 {
	t.Helper()
	v, err := p.metric(series)
	if err != nil {
		t.Fatalf("%s /metrics: %v", p.name, err)
	}
	return v
}

// perQueue names a series of a metric labelled by queue.
func perQueue(metric, queue string) string { return metric + `{queue="` + queue + `"}` }

// lineWatcher writes a process's output to a file and lets a test wait for
// a line that matches a pattern.
type lineWatcher struct {
	mu      sync.Mutex
	w       *os.File
	partial []byte
	lines   []string
	changed chan struct{}
}

func newLineWatcher(w *os.File) *lineWatcher {
	return &lineWatcher{w: w, changed: make(chan struct{})}
}

func (l *lineWatcher) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(b)
	l.partial = append(l.partial, b...)
	consumed := 0
	for {
		i := bytes.IndexByte(l.partial[consumed:], '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.partial[consumed:consumed+i]))
		consumed += i + 1
	}
	if consumed > 0 {
		l.partial = append(l.partial[:0], l.partial[consumed:]...)
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return len(b), nil
}

// wait returns the first submatch of the first line matching re, waiting
// until one is written, the process exits, or the deadline passes.
func (l *lineWatcher) wait(re *regexp.Regexp, exited <-chan struct{}, within time.Duration) (string, error) {
	deadline := time.After(within)
	seen := 0
	for {
		l.mu.Lock()
		for ; seen < len(l.lines); seen++ {
			if m := re.FindStringSubmatch(l.lines[seen]); m != nil {
				l.mu.Unlock()
				if len(m) > 1 {
					return m[1], nil
				}
				return m[0], nil
			}
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-exited:
			return "", errors.New("process exited")
		case <-deadline:
			return "", fmt.Errorf("no line matching %q within %v", re, within)
		}
	}
}

// listeningRE reads the port off the web's "listening" log line: with
// PORT=0 that line is the only place it is told.
var listeningRE = regexp.MustCompile(`msg=listening .*addr=\S*:(\d+)`)

// startWeb starts a web process on port (0: any) and waits until it
// listens and answers; the load driver follows c.baseURL.
func (c *cluster) startWeb(port int) *proc {
	c.t.Helper()
	p, err := c.tryStartWeb(port)
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cluster) tryStartWeb(port int) (*proc, error) {
	c.t.Helper()
	p := c.startEnv([]string{"PORT=" + strconv.Itoa(port)}, "web")
	got, err := p.lines.wait(listeningRE, p.done, 60*time.Second)
	if err != nil {
		p.kill9(c.t)
		return nil, fmt.Errorf("web did not start on port %d: %v\n%s", port, err, p.tail(30))
	}
	c.webPort, _ = strconv.Atoi(got)
	c.web = p
	c.webs = append(c.webs, p)
	c.base.Store("http://127.0.0.1:" + got)
	p.metrics = "http://127.0.0.1:" + got + "/metrics"
	rabbitmqtest.WaitFor(c.t, "the web is ready (/readyz: Postgres and RabbitMQ answer)", func() bool {
		if !p.alive() {
			c.t.Fatalf("web exited:\n%s", p.tail(30))
		}
		resp, err := http.Get(c.baseURL() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p, nil
}

func (c *cluster) baseURL() string { return c.base.Load().(string) }

// voteURL is where ballot i is sent: the web, or one of several in turn.
func (c *cluster) voteURL(i int64) string {
	if len(c.voteBases) > 0 {
		return c.voteBases[i%int64(len(c.voteBases))]
	}
	return c.baseURL()
}

// startWorker starts a worker process, serving its /metrics on a port of
// its own, and waits until the broker counts it among the consumers of
// every queue.
func (c *cluster) startWorker(extra ...string) *proc {
	c.t.Helper()
	for attempt := 1; ; attempt++ {
		// METRICS_PORT cannot be 0, so the test picks a free port; a client
		// may take it before the worker binds it, and then the worker exits
		// at once and is started again on another.
		port := freePort(c.t)
		p := c.startEnv(append([]string{"METRICS_PORT=" + port}, extra...), "worker")
		p.metrics = "http://127.0.0.1:" + port + "/metrics"
		want := c.liveWorkers() + 1
		rabbitmqtest.WaitFor(c.t, fmt.Sprintf("%s consumes: /metrics answers and every queue has %d consumer(s)", p.name, want), func() bool {
			return !p.alive() || c.consuming(p, want)
		})
		if p.alive() {
			c.workers = append(c.workers, p)
			return p
		}
		if attempt == 3 || !strings.Contains(p.tail(5), "address already in use") {
			c.t.Fatalf("worker did not start: %v\n%s", p.exitErr, p.tail(30))
		}
	}
}

func (c *cluster) liveWorkers() int {
	n := 0
	for _, w := range c.workers {
		if w.alive() {
			n++
		}
	}
	return n
}

// consuming reports whether p serves its metrics and the broker counts want
// consumers on each of the worker's queues (a killed worker's consumers go
// when the broker sees its connection close).
func (c *cluster) consuming(p *proc, want int) bool {
	if _, err := p.metric("runoff_consumed_total"); err != nil {
		return false
	}
	for _, q := range append(c.topo.VoteQueues(), c.topo.Elections, c.topo.DeadQueue) {
		if st, err := c.queue(q); err != nil || st.Consumers != want {
			return false
		}
	}
	return true
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// stopAll stops the web and every live worker with SIGTERM, and checks that
// each shut down cleanly: a worker finishes and acks the batch in hand.
func (c *cluster) stopAll() {
	c.t.Helper()
	for _, p := range append(append([]*proc(nil), c.webs...), c.workers...) {
		if p == nil || !p.alive() {
			continue
		}
		if err := p.terminate(c.t); err != nil {
			c.t.Errorf("%s after SIGTERM: %v\n%s", p.name, err, p.tail(20))
		}
	}
}

// depth is the number of ready messages in a queue.
func (c *cluster) depth(queue string) (int, error) {
	q, err := c.queue(queue)
	return q.Messages, err
}

// queue is what the broker says of a queue (ready messages, consumers), on
// one long-lived connection (rabbitmqtest.Depth opens one per call, fine for
// a final check but not for polling).
func (c *cluster) queue(name string) (amqp.Queue, error) {
	c.amqpMu.Lock()
	defer c.amqpMu.Unlock()
	if c.amqpConn == nil || c.amqpConn.IsClosed() {
		conn, err := amqp.Dial(rabbitmqtest.URL())
		if err != nil {
			return amqp.Queue{}, err
		}
		c.amqpConn = conn
	}
	ch, err := c.amqpConn.Channel()
	if err != nil {
		c.amqpConn.Close()
		return amqp.Queue{}, err
	}
	defer ch.Close()
	return ch.QueueDeclarePassive(name, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum})
}

// ---- the shared services ----
//
// A test that stops a service registers, before it stops it, a cleanup that
// starts it again and waits until it answers, so the next tests (and
// whoever else uses this machine's services) find it as it was, even when
// the test fails half-way.

func command(ctx context.Context, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// brokerUsers makes the web's and the worker's broker users for a prefix
// with scripts/broker-users.sh, deletes them at cleanup, and returns urls
// (comma-separated) with each user's credentials.
func brokerUsers(t *testing.T, prefix, urls string) (web, worker string) {
	t.Helper()
	requireCommand(t, "rabbitmqctl")
	script := filepath.Join("..", "..", "..", "scripts", "broker-users.sh")
	if err := command(context.Background(), script, prefix); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := command(context.Background(), script, "--delete", prefix); err != nil {
			t.Errorf("deleting the test's broker users: %v", err)
		}
	})
	as := func(user string) string {
		var out []string
		for _, s := range strings.Split(urls, ",") {
			u, err := url.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			u.User = url.UserPassword(prefix+user, prefix+user)
			out = append(out, u.String())
		}
		return strings.Join(out, ",")
	}
	return as("runoff_web"), as("runoff_worker")
}

func requireCommand(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("this fault test needs %s on PATH (and root): %v", name, err)
	}
}

// stopRabbitMQ stops the broker application (the Erlang node stays up).
func stopRabbitMQ(t *testing.T) {
	t.Helper()
	requireCommand(t, "rabbitmqctl")
	t.Cleanup(func() {
		if err := startRabbitMQ(); err != nil {
			t.Errorf("restoring RabbitMQ: %v", err)
		}
	})
	if err := command(context.Background(), "rabbitmqctl", "stop_app"); err != nil {
		t.Fatal(err)
	}
}

// startRabbitMQ starts the broker application (a no-op when it runs) and
// waits until it accepts AMQP connections.
func startRabbitMQ() error {
	if err := command(context.Background(), "rabbitmqctl", "start_app"); err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		conn, err := amqp.Dial(rabbitmqtest.URL())
		if err == nil {
			_, err = conn.Channel()
			conn.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("RabbitMQ does not answer at %s: %w", rabbitmqtest.URL(), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pgCluster finds the Debian cluster (version, name) listening on the port
// of the test server.
func pgCluster(t *testing.T) (version, name string) {
	t.Helper()
	requireCommand(t, "pg_lsclusters")
	requireCommand(t, "pg_ctlcluster")
	port := "5432"
	if u, err := url.Parse(storetest.AdminURL()); err == nil && u.Port() != "" {
		port = u.Port()
	}
	out, err := exec.Command("pg_lsclusters", "--no-header").Output()
	if err != nil {
		t.Fatalf("pg_lsclusters: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == port {
			return f[0], f[1]
		}
	}
	t.Fatalf("no local PostgreSQL cluster on port %s in pg_lsclusters:\n%s", port, out)
	return "", ""
}

// stopPostgres stops the server in fast mode: sessions are disconnected,
// transactions in flight roll back, as in a restart or a failover.
func stopPostgres(t *testing.T, version, name string) {
	t.Helper()
	t.Cleanup(func() {
		if err := startPostgres(version, name); err != nil {
			t.Errorf("restoring PostgreSQL: %v", err)
		}
	})
	if err := command(context.Background(), "pg_ctlcluster", "--skip-systemctl-redirect", version, name, "stop", "-m", "fast"); err != nil {
		t.Fatal(err)
	}
}

// startPostgres starts the server unless it runs, and waits until it
// answers queries.
func startPostgres(version, name string) error {
	if exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "status").Run() != nil {
		if err := command(context.Background(), "pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"); err != nil {
			return err
		}
	}
	db, err := sql.Open("postgres", storetest.AdminURL())
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = db.ExecContext(ctx, "SELECT 1")
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL does not answer at %s: %w", storetest.AdminURL(), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
