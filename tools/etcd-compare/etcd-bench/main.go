// etcd-bench: the etcd side of tools/etcd-compare. A YCSB-style load
// generator that drives an etcd cluster with etcd's own Go client and writes
// the same JSON ("format": "shardbearer-bench/1") as shardbearer-bench, so
// one script compares both (docs/performance.md).
//
// Workloads: a (50% read / 50% update), b (95/5), c (read only), write
// (100% update). Reads are linearizable (etcd's default) unless
// -serializable. Distributions: uniform, zipfian (YCSB's scrambled zipfian,
// theta 0.99). Every client goroutine has its own client (own gRPC
// connection). The measured part stops after -duration seconds or -ops
// requests, whichever comes first; -warmup seconds before it are not
// measured. Latency is recorded in a log-linear histogram (7 sub-bucket bits,
// 0.8% relative error, the same layout as tools/bench/histogram.h).
//
// Built in GOPATH mode against Debian's etcd client sources:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o etcd-bench .
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ---- errors ----------------------------------------------------------------

var errorKinds = []string{"not_ready", "wrong_leader", "wrong_group", "timeout",
	"too_large", "invalid_argument", "connection", "other"}

// classify maps an etcd client error to the shared error kinds. A deadline
// means the outcome is unknown (timeout), as in the Kv contract.
func classify(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, rpctypes.ErrTimeout), errors.Is(err, rpctypes.ErrTimeoutDueToLeaderFail),
		errors.Is(err, rpctypes.ErrTimeoutDueToConnectionLost):
		return "timeout"
	case errors.Is(err, rpctypes.ErrNoLeader), errors.Is(err, rpctypes.ErrNotCapable),
		errors.Is(err, rpctypes.ErrStopped):
		return "not_ready"
	case errors.Is(err, rpctypes.ErrLeaderChanged):
		return "wrong_leader"
	case errors.Is(err, rpctypes.ErrRequestTooLarge), errors.Is(err, rpctypes.ErrTooManyOps):
		return "too_large"
	case errors.Is(err, rpctypes.ErrEmptyKey), errors.Is(err, rpctypes.ErrKeyNotFound):
		return "invalid_argument"
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable:
			return "connection"
		case codes.DeadlineExceeded:
			return "timeout"
		case codes.InvalidArgument:
			return "invalid_argument"
		case codes.ResourceExhausted:
			return "too_large"
		}
	}
	return "other"
}

// ---- runner ----------------------------------------------------------------

type opStats struct {
	Ops        uint64  `json:"ops"`
	Throughput float64 `json:"throughput_ops_s"`
	Latency    latency `json:"latency_us"`
}

type phase struct {
	Phase        string             `json:"phase"`
	ElapsedS     float64            `json:"elapsed_s"`
	StoppedBy    string             `json:"stopped_by"`
	Ops          uint64             `json:"ops"`
	Throughput   float64            `json:"throughput_ops_s"`
	Latency      latency            `json:"latency_us"`
	Operations   map[string]opStats `json:"operations"`
	Errors       map[string]uint64  `json:"errors"`
	ErrorsTotal  uint64             `json:"errors_total"`
	ReadMisses   uint64             `json:"read_misses"`
	CasConflicts uint64             `json:"cas_conflicts"`
}

type report struct {
	Format       string   `json:"format"`
	Tool         string   `json:"tool"`
	Target       string   `json:"target"`
	Endpoints    []string `json:"endpoints"`
	Workload     string   `json:"workload"`
	Distribution string   `json:"distribution"`
	Records      uint64   `json:"records"`
	KeySize      int      `json:"key_size"`
	ValueSize    int      `json:"value_size"`
	Clients      int      `json:"clients"`
	DurationS    float64  `json:"duration_s"`
	MaxOps       uint64   `json:"max_ops"`
	WarmupS      float64  `json:"warmup_s"`
	Seed         int64    `json:"seed"`
	Phases       []phase  `json:"phases"`
}

type threadStats struct {
	read, update *histogram
	errors       map[string]uint64
	firstError   map[string]string
	readMisses   uint64
	finished     time.Time
}

type config struct {
	endpoints             []string
	workload, dist        string
	readShare             float64
	records               uint64
	keySize, valueSize    int
	clients               int
	duration, warmup      time.Duration
	loadTimeout           time.Duration
	maxOps                uint64
	seed                  int64
	timeout, errorBackoff time.Duration
	serializable          bool
}

func newStats() *threadStats {
	return &threadStats{read: newHistogram(), update: newHistogram(),
		errors: map[string]uint64{}, firstError: map[string]string{}}
}

func (s *threadStats) fail(c *config, err error) {
	k := classify(err)
	if s.errors[k] == 0 {
		s.firstError[k] = err.Error()
	}
	s.errors[k]++
	time.Sleep(c.errorBackoff)
}

func summarize(name string, stats []*threadStats, start time.Time, stoppedBy string, ops []string) phase {
	all, read, update := newHistogram(), newHistogram(), newHistogram()
	p := phase{Phase: name, StoppedBy: stoppedBy, Errors: map[string]uint64{},
		Operations: map[string]opStats{}}
	for _, k := range errorKinds {
		p.Errors[k] = 0
	}
	end := start
	first := map[string]string{}
	for _, s := range stats {
		read.merge(s.read)
		update.merge(s.update)
		for k, n := range s.errors {
			p.Errors[k] += n
			p.ErrorsTotal += n
			if _, ok := first[k]; !ok {
				first[k] = s.firstError[k]
			}
		}
		p.ReadMisses += s.readMisses
		if s.finished.After(end) {
			end = s.finished
		}
	}
	all.merge(read)
	all.merge(update)
	p.ElapsedS = round3(end.Sub(start).Seconds())
	elapsed := end.Sub(start).Seconds()
	tput := func(n uint64) float64 {
		if elapsed <= 0 {
			return 0
		}
		return round3(float64(n) / elapsed)
	}
	p.Ops = all.count
	p.Throughput = tput(all.count)
	p.Latency = all.latencyUs()
	for _, op := range ops {
		h := read
		if op != "read" {
			h = update
		}
		p.Operations[op] = opStats{Ops: h.count, Throughput: tput(h.count), Latency: h.latencyUs()}
	}
	fmt.Printf("[%s] %.2f s, %d ops, %.1f ops/s, stopped by %s\n", name, elapsed, p.Ops, p.Throughput, stoppedBy)
	for _, op := range append([]string{"all"}, ops...) {
		h := all
		if op == "read" {
			h = read
		} else if op != "all" {
			h = update
		}
		fmt.Printf("  %-18s %10d ops  p50 %9.1f  p95 %9.1f  p99 %9.1f  p99.9 %9.1f  max %9.1f us\n",
			op, h.count, float64(h.percentile(50))/1e3, float64(h.percentile(95))/1e3,
			float64(h.percentile(99))/1e3, float64(h.percentile(99.9))/1e3, float64(h.max)/1e3)
	}
	if p.ErrorsTotal == 0 {
		fmt.Println("  errors: none")
	} else {
		for _, k := range errorKinds {
			if p.Errors[k] > 0 {
				fmt.Printf("  errors %s=%d (first: %s)\n", k, p.Errors[k], first[k])
			}
		}
	}
	return p
}

func newClient(c *config) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: c.endpoints, DialTimeout: c.timeout})
}

func runLoad(c *config, clis []*clientv3.Client) phase {
	stats := make([]*threadStats, c.clients)
	var next uint64
	start := time.Now()
	deadline := start.Add(c.loadTimeout)
	var timedOut int32
	var wg sync.WaitGroup
	for t := 0; t < c.clients; t++ {
		stats[t] = newStats()
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			s := stats[t]
			r := rand.New(rand.NewSource(c.seed*1000003 + int64(t)))
			for {
				if time.Now().After(deadline) {
					atomic.StoreInt32(&timedOut, 1)
					break
				}
				i := atomic.AddUint64(&next, 1) - 1
				if i >= c.records {
					break
				}
				v := randomValue(r, c.valueSize)
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
				_, err := clis[t].Put(ctx, formatKey(i, c.keySize), v)
				cancel()
				if err != nil {
					s.fail(c, err)
					continue
				}
				s.update.record(uint64(time.Since(t0).Nanoseconds()))
			}
			s.finished = time.Now()
		}(t)
	}
	wg.Wait()
	stopped := "completed"
	if timedOut != 0 {
		stopped = "duration"
	}
	return summarize("load", stats, start, stopped, []string{"insert"})
}

func runWorkload(c *config, clis []*clientv3.Client) phase {
	stats := make([]*threadStats, c.clients)
	start := time.Now()
	measureStart := start.Add(c.warmup)
	end := measureStart.Add(c.duration)
	var measured uint64
	var hitMax int32
	var wg sync.WaitGroup
	for t := 0; t < c.clients; t++ {
		stats[t] = newStats()
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			s := stats[t]
			r := rand.New(rand.NewSource(c.seed*7919 + 104729*int64(t+1)))
			choose, _ := makeChooser(c.dist, c.records)
			var getOpts []clientv3.OpOption
			if c.serializable {
				getOpts = append(getOpts, clientv3.WithSerializable())
			}
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				measuring := !t0.Before(measureStart)
				if measuring && c.maxOps > 0 && atomic.AddUint64(&measured, 1) > c.maxOps {
					atomic.StoreInt32(&hitMax, 1)
					break
				}
				isRead := r.Float64() < c.readShare
				key := formatKey(choose(r), c.keySize)
				ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
				var err error
				found := true
				if isRead {
					var resp *clientv3.GetResponse
					resp, err = clis[t].Get(ctx, key, getOpts...)
					if err == nil {
						found = len(resp.Kvs) > 0
					}
				} else {
					_, err = clis[t].Put(ctx, key, randomValue(r, c.valueSize))
				}
				cancel()
				elapsed := uint64(time.Since(t0).Nanoseconds())
				if err != nil {
					if measuring {
						s.fail(c, err)
					} else {
						time.Sleep(c.errorBackoff)
					}
					continue
				}
				if !measuring {
					continue
				}
				if isRead {
					s.read.record(elapsed)
					if !found {
						s.readMisses++
					}
				} else {
					s.update.record(elapsed)
				}
			}
			s.finished = time.Now()
		}(t)
	}
	wg.Wait()
	stopped := "duration"
	if hitMax != 0 {
		stopped = "max_ops"
	}
	var ops []string
	if c.readShare > 0 {
		ops = append(ops, "read")
	}
	if c.readShare < 1 {
		ops = append(ops, "update")
	}
	return summarize("run", stats, measureStart, stopped, ops)
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "etcd-bench: "+format+"\n", a...)
	flag.Usage()
	os.Exit(2)
}

func main() {
	endpoints := flag.String("endpoints", "", "etcd client URLs, comma-separated (required)")
	workload := flag.String("workload", "a", "a | b | c | write")
	dist := flag.String("distribution", "zipfian", "uniform | zipfian")
	records := flag.Uint64("records", 1000, "records loaded and chosen from")
	keySize := flag.Int("key-size", 16, "key bytes (\"user\" + zero-padded index)")
	valueSize := flag.Int("value-size", 256, "value bytes")
	clients := flag.Int("clients", 1, "client goroutines, one client connection each")
	duration := flag.Float64("duration", 10, "measured seconds")
	maxOps := flag.Uint64("ops", 0, "stop after N measured requests (0: none)")
	warmup := flag.Float64("warmup", 1, "unmeasured seconds first")
	phaseFlag := flag.String("phase", "both", "load | run | both")
	seed := flag.Int64("seed", 1, "random seed")
	timeoutMs := flag.Int("timeout-ms", 10000, "per-request timeout (outcome unknown after it)")
	backoffMs := flag.Int("error-backoff-ms", 10, "pause of a client after a failed request")
	serializable := flag.Bool("serializable", false, "serializable (local, possibly stale) reads instead of linearizable")
	jsonPath := flag.String("json", "", "also write the results as JSON")
	flag.Parse()

	c := &config{workload: *workload, dist: *dist, records: *records, keySize: *keySize,
		valueSize: *valueSize, clients: *clients, maxOps: *maxOps, seed: *seed,
		serializable: *serializable, loadTimeout: 600 * time.Second}
	for _, e := range strings.Split(*endpoints, ",") {
		if e != "" {
			c.endpoints = append(c.endpoints, e)
		}
	}
	if len(c.endpoints) == 0 {
		fail("-endpoints is required")
	}
	switch *workload {
	case "a":
		c.readShare = 0.5
	case "b":
		c.readShare = 0.95
	case "c":
		c.readShare = 1
	case "write":
		c.readShare = 0
	default:
		fail("workload must be a, b, c or write (d and f are measured only by shardbearer-bench)")
	}
	if _, err := makeChooser(*dist, 1); err != nil {
		fail("%v", err)
	}
	if c.records == 0 || c.clients < 1 || c.clients > 4096 || c.valueSize < 1 ||
		*duration <= 0 || *duration > 86400 || *warmup < 0 || *timeoutMs < 1 || *backoffMs < 0 {
		fail("records, clients, value size, duration, warmup or timeouts out of range")
	}
	if c.keySize < 4+len(fmt.Sprint(c.records-1)) {
		fail("key size %d cannot hold %d records", c.keySize, c.records)
	}
	if *phaseFlag != "load" && *phaseFlag != "run" && *phaseFlag != "both" {
		fail("-phase must be load, run or both")
	}
	c.duration = time.Duration(*duration * float64(time.Second))
	c.warmup = time.Duration(*warmup * float64(time.Second))
	c.timeout = time.Duration(*timeoutMs) * time.Millisecond
	c.errorBackoff = time.Duration(*backoffMs) * time.Millisecond

	clis := make([]*clientv3.Client, c.clients)
	for i := range clis {
		cli, err := newClient(c)
		if err != nil {
			fmt.Fprintf(os.Stderr, "etcd-bench: client %d: %v\n", i, err)
			os.Exit(1)
		}
		defer cli.Close()
		clis[i] = cli
	}
	readKind := "linearizable"
	if c.serializable {
		readKind = "serializable"
	}
	fmt.Printf("etcd-bench: workload %s (%s, %s reads), %d records, %d+%d bytes, %d clients, %s\n",
		c.workload, c.dist, readKind, c.records, c.keySize, c.valueSize, c.clients, *endpoints)
	rep := report{Format: "shardbearer-bench/1", Tool: "etcd-bench", Target: "etcd",
		Endpoints: c.endpoints, Workload: c.workload, Distribution: c.dist, Records: c.records,
		KeySize: c.keySize, ValueSize: c.valueSize, Clients: c.clients, DurationS: *duration,
		MaxOps: c.maxOps, WarmupS: *warmup, Seed: c.seed}
	if *phaseFlag != "run" {
		rep.Phases = append(rep.Phases, runLoad(c, clis))
	}
	if *phaseFlag != "load" {
		rep.Phases = append(rep.Phases, runWorkload(c, clis))
	}
	if *jsonPath != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonPath, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "etcd-bench: %v\n", err)
			os.Exit(1)
		}
	}
}
