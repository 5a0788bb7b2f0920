package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff/rabbitmq"
	"github.com/runoff-vote/runoff/store"
)

// runLoad is Runoff's load generator: it casts ballots through the real
// HTTP endpoint from several concurrent voters — as fast as they can, or
// at a fixed rate — and reports, in one run: the broker's ceiling measured
// just before (so a busy machine is seen moving both), receipts per second
// and their ratio to it, the latency of each submission, how long a sample
// of receipts took to say "counted", and whether every receipted ballot was
// stored and counted once. A run that loses or duplicates a ballot fails.
// It is bounded in count and time, and only targets this machine.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the web's address (loopback only)")
	election := fs.String("election", "", "the election to vote in (its ID); required")
	ballots := fs.Int("ballots", 2000, "ballots to cast")
	concurrency := fs.Int("concurrency", 16, "voters casting at once (with --rate: at most this many in flight)")
	rate := fs.Float64("rate", 0, "ballots per second offered at fixed intervals, latency measured from when each was due (0: as fast as the voters can)")
	limit := fs.Duration("max-duration", 5*time.Minute, "stop casting after this long")
	amqpURL := fs.String("amqp", "", "the broker, to measure its ceiling first (loopback only); empty: skip")
	ceilingN := fs.Int("ceiling", 20000, "messages for the ceiling measurement")
	dbURL := fs.String("database", "", "Postgres, to check every receipted ballot is stored (loopback only); empty: check the results' count only")
	sampleEvery := fs.Int("sample", 0, "follow every Nth receipt until it says counted, at most 400 (0: about 200 over the run)")
	poll := fs.Duration("poll", 100*time.Millisecond, "how often each followed receipt is asked for")
	watch := fs.String("watch", "", "name=PID,... of processes whose CPU per ballot and peak memory to report (Linux); rabbitmq and postgres are found by name")
	get := fs.String("get", "", "instead of casting, ask for this page (a path such as /e/ID or /e/ID/results) --ballots times, and report requests/s and latency")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *election == "" && *get == "" || *ballots < 1 || *concurrency < 1 || *rate < 0 {
		fmt.Fprintln(stderr, "usage: runoff load --election ID [--url URL] [--ballots N] [--concurrency C] [--rate R] [--amqp URL] [--database URL] [--watch web=PID,worker=PID]")
		return errUsage
	}
	for name, raw := range map[string]string{"--url": *base, "--amqp": *amqpURL, "--database": *dbURL} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("load: %s: %w", name, err)
		}
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("load: %s %s: only loopback addresses (127.0.0.1, localhost, [::1]) may be loaded", name, u.Redacted())
		}
	}
	if *get != "" {
		if !strings.HasPrefix(*get, "/") || *ballots < 1 || *concurrency < 1 {
			fmt.Fprintln(stderr, "usage: runoff load --get /PATH [--url URL] [--ballots N] [--concurrency C] [--watch web=PID]")
			return errUsage
		}
		return loadPages(*base, *get, *ballots, *concurrency, *watch, stdout)
	}
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: *concurrency + 4}}

	ids, err := loadCandidates(ctx, client, *base, *election)
	if err != nil {
		return err
	}
	before, _ := loadCounted(ctx, client, *base, *election)

	var ceiling rabbitmq.Ceiling
	if *amqpURL != "" && *ceilingN > 0 {
		if ceiling, err = rabbitmq.MeasureCeiling(ctx, *amqpURL, *ceilingN, 256, 200); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		fmt.Fprintf(stdout, "broker ceiling: %.0f msg/s (%d persistent confirmed publishes into a quorum queue, 256 in flight, in %v)\n",
			ceiling.PerSecond(), ceiling.Messages, ceiling.Took.Round(time.Millisecond))
	}

	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		receipts  []uuid.UUID
		refused   int // 503: the broker did not confirm
		failed    int // anything else
		next      = make(chan time.Time, *concurrency)
	)
	if *sampleEvery == 0 {
		// Following costs the stack it measures: a receipt page, with its
		// reads, every poll. About 200 receipts, each asked every 100 ms,
		// give the p95 within 100 ms at about 1 % of the requests; 400
		// every 50 ms took a tenth of the web's and Postgres's CPU.
		*sampleEvery = max(1, *ballots/200)
	}
	follow := newFollower(client, *base, *poll)
	cpu0 := readCPU(*watch)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			voter, err := newPoster(*base, "/e/"+*election+"/ballots", 30*time.Second)
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
				for range next {
				}
				return
			}
			defer voter.close()
			order := slices.Clone(ids)
			var form []byte
			for due := range next {
				rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				form = appendForm(form[:0], order[:1+rng.IntN(len(order))])
				if *rate == 0 {
					due = time.Now()
				}
				status, location, err := voter.post(form)
				done := time.Now()
				var id uuid.UUID
				if err == nil && status == http.StatusSeeOther {
					id, err = uuid.Parse(strings.TrimPrefix(location, "/b/"))
				}
				mu.Lock()
				switch {
				case err != nil:
					failed++
				case status == http.StatusSeeOther:
					latencies = append(latencies, done.Sub(due))
					receipts = append(receipts, id)
					if n := len(receipts); n%*sampleEvery == 0 && n / *sampleEvery <= 400 {
						follow.add(id, done)
					}
				case status == http.StatusServiceUnavailable:
					refused++
				default:
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	followDone := make(chan struct{})
	followCtx, stopFollowing := context.WithTimeout(context.Background(), *limit+2*time.Minute)
	defer stopFollowing()
	go func() { defer close(followDone); follow.run(followCtx) }()
feed:
	for i := 0; i < *ballots; i++ {
		due := time.Now()
		if *rate > 0 {
			due = start.Add(time.Duration(float64(i) / *rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		select {
		case next <- due:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	casting := time.Since(start)
	receipted := int64(len(latencies))

	// Wait until the worker has counted every receipted ballot (bounded).
	var counted int64
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if counted, _ = loadCounted(context.Background(), client, *base, *election); counted-before >= receipted {
			break
		}
	}
	all := time.Since(start)
	cpu1 := readCPU(*watch)
	follow.finish()
	<-followDone

	slices.Sort(latencies)
	offered := "as fast as possible"
	if *rate > 0 {
		offered = fmt.Sprintf("%.0f/s offered", *rate)
	}
	perSec := float64(receipted) / casting.Seconds()
	fmt.Fprintf(stdout, "ballots=%d concurrency=%d (%s) receipted=%d refused503=%d failed=%d\n", *ballots, *concurrency, offered, receipted, refused, failed)
	fmt.Fprintf(stdout, "receipts: %.0f/s over %v; latency p50=%v p95=%v p99=%v max=%v\n",
		perSec, casting.Round(time.Millisecond), pct(latencies, 0.50), pct(latencies, 0.95), pct(latencies, 0.99), pct(latencies, 1))
	if ceiling.Messages > 0 {
		fmt.Fprintf(stdout, "ratio: %.3f of the broker ceiling\n", perSec/ceiling.PerSecond())
	}
	fmt.Fprintf(stdout, "counted: %d of %d receipted ballots in the results %v after the first was cast (%.0f ballots/s end to end; the results caught up %v after the last receipt)\n",
		counted-before, receipted, all.Round(time.Millisecond), float64(counted-before)/all.Seconds(), (all - casting).Round(time.Millisecond))
	lag, pending := follow.result()
	fmt.Fprintf(stdout, "receipt to counted (%d sampled, %d never counted): p50=%v p95=%v max=%v\n",
		len(lag), pending, pct(lag, 0.50), pct(lag, 0.95), pct(lag, 1))
	if line := cpuPerBallot(cpu0, cpu1, receipted); line != "" {
		fmt.Fprintln(stdout, line)
	}
	if line := peakMemory(*watch); line != "" {
		fmt.Fprintln(stdout, line)
	}

	var problems []string
	if counted-before < receipted {
		problems = append(problems, "not every receipted ballot was counted within 2 minutes")
	}
	if dup := counted - before - receipted; dup > 0 {
		problems = append(problems, fmt.Sprintf("the results count %d more ballots than were receipted (duplicates, or another voter)", dup))
	}
	if *dbURL != "" {
		db, err := store.Open(context.Background(), *dbURL)
		if err != nil {
			return fmt.Errorf("load: --database: %w", err)
		}
		defer db.Close()
		stored, countedStored, err := db.BallotsStored(context.Background(), receipts)
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		fmt.Fprintf(stdout, "stored: %d of %d receipted (%d counted); duplicated: %d\n", stored, receipted, countedStored, max(0, counted-before-int64(countedStored)))
		if int64(stored) < receipted {
			problems = append(problems, fmt.Sprintf("%d receipted ballots were not stored", receipted-int64(stored)))
		}
	}
	if len(problems) > 0 {
		return errors.New("load: " + strings.Join(problems, "; "))
	}
	return nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(100 * time.Microsecond)
}

// follower polls a sample of receipts until each says counted (or
// rejected), to measure the time from receipt to counted as a voter sees
// it. Each is asked at most every poll, by one goroutine, so the sample
// adds little load.
type follower struct {
	client *http.Client
	base   string
	poll   time.Duration

	mu      sync.Mutex
	pending map[uuid.UUID]time.Time
	lags    []time.Duration
	last    bool
}

func newFollower(c *http.Client, base string, poll time.Duration) *follower {
	return &follower{client: c, base: base, poll: poll, pending: map[uuid.UUID]time.Time{}}
}

func (f *follower) add(id uuid.UUID, receipted time.Time) {
	f.mu.Lock()
	f.pending[id] = receipted
	f.mu.Unlock()
}

// finish says no more will be added: run returns when the rest are done.
func (f *follower) finish() {
	f.mu.Lock()
	f.last = true
	f.mu.Unlock()
}

var receiptStateRE = regexp.MustCompile(`class="badge (counted|rejected|replaced)"`)

func (f *follower) run(ctx context.Context) {
	for ctx.Err() == nil {
		f.mu.Lock()
		ids := make([]uuid.UUID, 0, len(f.pending))
		for id := range f.pending {
			ids = append(ids, id)
		}
		last := f.last
		f.mu.Unlock()
		if len(ids) == 0 && last {
			return
		}
		for _, id := range ids {
			req, _ := http.NewRequestWithContext(ctx, "GET", f.base+"/b/"+id.String(), nil)
			resp, err := f.client.Do(req)
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && receiptStateRE.Match(body) {
				now := time.Now()
				f.mu.Lock()
				f.lags = append(f.lags, now.Sub(f.pending[id]))
				delete(f.pending, id)
				f.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(f.poll):
		}
	}
}

func (f *follower) result() (lags []time.Duration, pending int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.lags), len(f.pending)
}

// readCPU reads the CPU time (user+system) of the processes named in
// watch (name=PID,...), and of every rabbitmq (beam.smp) and postgres
// process on the machine, from /proc. Missing ones read as nothing.
func readCPU(watch string) map[string]time.Duration {
	if watch == "" {
		return nil
	}
	out := map[string]time.Duration{}
	for _, kv := range strings.Split(watch, ",") {
		name, pid, ok := strings.Cut(kv, "=")
		if ok {
			out[name] += procCPU(pid)
		}
	}
	// The load generator's own CPU is reported apart from the total: it
	// shares the machine, so it bounds what the rest can reach.
	out[selfCPU] = procCPU("self")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
		switch strings.TrimSpace(string(comm)) {
		case "beam.smp":
			out["rabbitmq"] += procCPU(e.Name())
		case "postgres":
			out["postgres"] += procCPU(e.Name())
		}
	}
	return out
}

// procCPU is a process's utime+stime, assuming the usual 100 ticks a second.
func procCPU(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// cpuPerBallot says how much CPU each watched process spent per receipted
// ballot over the run. Postgres and RabbitMQ are every such process on the
// machine, so whatever else uses them is counted too; a Postgres backend
// that exited during the run is not.
func cpuPerBallot(before, after map[string]time.Duration, n int64) string {
	if after == nil || n == 0 {
		return ""
	}
	names := make([]string, 0, len(after))
	for name := range after {
		names = append(names, name)
	}
	slices.Sort(names)
	var parts []string
	var total time.Duration
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	for _, name := range names {
		if name == selfCPU {
			continue
		}
		d := max(0, after[name]-before[name])
		total += d
		parts = append(parts, fmt.Sprintf("%s %.0f µs", name, per(d)))
	}
	return fmt.Sprintf("CPU per ballot: %s; total %.0f µs (the load generator itself: %.0f µs)",
		strings.Join(parts, ", "), per(total), per(max(0, after[selfCPU]-before[selfCPU])))
}

// selfCPU names the load generator's own CPU in readCPU's figures.
const selfCPU = "load generator"

var loadOptionRE = regexp.MustCompile(`name="rank1" value="([0-9a-f-]{36})"`)

func loadCandidates(ctx context.Context, c *http.Client, base, election string) ([]string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/e/"+election, nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load: ballot page: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("load: ballot page: %s", resp.Status)
	}
	var ids []string
	for _, m := range loadOptionRE.FindAllStringSubmatch(string(body), -1) {
		ids = append(ids, m[1])
	}
	if len(ids) == 0 {
		return nil, errors.New("load: the ballot page lists no candidates")
	}
	return ids, nil
}

// loadCounted reads how many ballots the results count.
func loadCounted(ctx context.Context, c *http.Client, base, election string) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/e/"+election+"/results.json", nil)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, nil
	}
	var rep struct {
		Summary struct {
			TotalNumBallots json.Number `json:"totalNumBallots"`
		} `json:"summary"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return 0, err
	}
	n, err := rep.Summary.TotalNumBallots.Int64()
	return n, err
}
