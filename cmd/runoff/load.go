package main

import (
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
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// runLoad is Runoff's load generator: it casts ballots through the real
// HTTP endpoint from several concurrent voters, measures how fast receipts
// come back, then how long until the worker has counted every receipted
// ballot. It is bounded in count and time, and only targets this machine.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the web's address (loopback only)")
	election := fs.String("election", "", "the election to vote in (its ID); required")
	ballots := fs.Int("ballots", 2000, "ballots to cast")
	concurrency := fs.Int("concurrency", 16, "voters casting at once")
	limit := fs.Duration("max-duration", 5*time.Minute, "stop casting after this long")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *election == "" || *ballots < 1 || *concurrency < 1 {
		fmt.Fprintln(stderr, "usage: runoff load --election ID [--url URL] [--ballots N] [--concurrency C]")
		return errUsage
	}
	u, err := url.Parse(*base)
	if err != nil {
		return fmt.Errorf("load: --url: %w", err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("load: --url %s: only loopback addresses (127.0.0.1, localhost, [::1]) may be loaded", *base)
	}
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: *concurrency}}

	ids, err := loadCandidates(ctx, client, *base, *election)
	if err != nil {
		return err
	}
	before, _ := loadCounted(ctx, client, *base, *election)

	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		refused   int // 503: the broker did not confirm
		failed    int // anything else
		next      = make(chan int)
	)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range next {
				form := url.Values{}
				for i, p := range rng.Perm(len(ids))[:1+rng.IntN(len(ids))] {
					form.Set(fmt.Sprintf("rank%d", i+1), ids[p])
				}
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "POST", *base+"/e/"+*election+"/ballots", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				d := time.Since(t0)
				mu.Lock()
				switch {
				case err != nil:
					failed++
				case resp.StatusCode == http.StatusSeeOther:
					latencies = append(latencies, d)
				case resp.StatusCode == http.StatusServiceUnavailable:
					refused++
				default:
					failed++
				}
				mu.Unlock()
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
feed:
	for i := 0; i < *ballots; i++ {
		select {
		case next <- i:
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
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Round(100 * time.Microsecond)
	}
	fmt.Fprintf(stdout, "ballots=%d concurrency=%d receipted=%d refused503=%d failed=%d\n", *ballots, *concurrency, receipted, refused, failed)
	fmt.Fprintf(stdout, "receipts: %.0f/s over %v; latency p50=%v p95=%v p99=%v max=%v\n",
		float64(receipted)/casting.Seconds(), casting.Round(time.Millisecond), pct(0.50), pct(0.95), pct(0.99), pct(1))
	fmt.Fprintf(stdout, "counted: %d of %d receipted ballots in the results %v after the first was cast (%.0f ballots/s end to end)\n",
		counted-before, receipted, all.Round(time.Millisecond), float64(counted-before)/all.Seconds())
	if counted-before < receipted {
		return errors.New("load: not every receipted ballot was counted within 2 minutes")
	}
	return nil
}

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
