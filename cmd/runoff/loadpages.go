package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadPages asks for one page (a ballot, results) requests times from
// concurrency keep-alive connections as fast as they are answered, and
// reports requests per second and latency: the page targets of
// docs/performance.md, measured by the repository's own tool.
func loadPages(base, path string, requests, concurrency int, watch string, out io.Writer) error {
	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, requests)
		bad       = map[string]int{}
	)
	next := make(chan struct{}, concurrency)
	cpu0 := readCPU(watch)
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := newPoster(base, path, 30*time.Second)
			if err != nil {
				mu.Lock()
				bad[err.Error()]++
				mu.Unlock()
				for range next {
				}
				return
			}
			defer c.close()
			for range next {
				t0 := time.Now()
				status, _, err := c.get()
				d := time.Since(t0)
				mu.Lock()
				switch {
				case err != nil:
					bad[err.Error()]++
				case status != http.StatusOK:
					bad["status "+strconv.Itoa(status)]++
				default:
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	for range requests {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	took := time.Since(start)
	cpu1 := readCPU(watch)
	slices.Sort(latencies)
	fmt.Fprintf(out, "GET %s: %d answered 200 in %v: %.0f requests/s at %d connections; latency p50=%v p99=%v max=%v\n",
		path, len(latencies), took.Round(time.Millisecond), float64(len(latencies))/took.Seconds(), concurrency,
		pct(latencies, 0.50), pct(latencies, 0.99), pct(latencies, 1))
	if line := cpuPerBallot(cpu0, cpu1, int64(len(latencies))); line != "" {
		fmt.Fprintln(out, strings.Replace(line, "CPU per ballot", "CPU per request", 1))
	}
	if len(bad) > 0 {
		return fmt.Errorf("load: %s: answers other than 200: %v", path, bad)
	}
	return nil
}

// peakMemory reports the watched processes' peak resident memory (VmHWM).
func peakMemory(watch string) string {
	var parts []string
	for _, kv := range strings.Split(watch, ",") {
		name, pid, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		b, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
				kb, _ := strconv.Atoi(f[1])
				parts = append(parts, fmt.Sprintf("%s %.0f MB", name, float64(kb)/1024))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "peak memory (VmHWM, since each process started): " + strings.Join(parts, ", ")
}
