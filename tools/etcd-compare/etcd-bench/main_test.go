package main

import (
	"context"
	"math"
	"math/rand"
	"sort"
	"testing"

	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

// The same layout and guarantees as tools/bench/histogram.h: a percentile r
// of a true value v satisfies v <= r <= v + v/2^subBits.
func TestHistogramPercentilesMatchSortedReference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	vals := make([]uint64, 30000)
	h := newHistogram()
	for i := range vals {
		vals[i] = uint64(math.Pow(10, r.Float64()*10))
		h.record(vals[i])
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, p := range []float64{0, 1, 50, 95, 99, 99.9, 100} {
		rank := int(math.Ceil(p / 100 * float64(len(vals))))
		if rank < 1 {
			rank = 1
		}
		ref := vals[rank-1]
		got := h.percentile(p)
		if got < ref || got > ref+ref>>subBits {
			t.Errorf("p%v: got %d, reference %d", p, got, ref)
		}
	}
}

func TestHistogramMerge(t *testing.T) {
	a, b, all := newHistogram(), newHistogram(), newHistogram()
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 5000; i++ {
		v := uint64(r.Int63n(1 << 40))
		if i%3 == 0 {
			a.record(v)
		} else {
			b.record(v)
		}
		all.record(v)
	}
	a.merge(b)
	if a.count != all.count || a.min != all.min || a.max != all.max {
		t.Fatalf("merged count/min/max differ")
	}
	for p := 0.0; p <= 100; p += 0.5 {
		if a.percentile(p) != all.percentile(p) {
			t.Fatalf("p%v differs", p)
		}
	}
}

func TestBucketsCoverValues(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 100000; i++ {
		v := r.Uint64() >> uint(r.Intn(64))
		idx := bucketIndex(v)
		hi := bucketHighest(idx)
		if hi < v || hi-v > v>>subBits {
			t.Fatalf("value %d: bucket %d highest %d", v, idx, hi)
		}
	}
}

func TestZipfianAndHash(t *testing.T) {
	// FNV-1a 64 of eight zero bytes, as in tools/bench/generators.cc.
	if fnv64(0) != 0xa8c7f832281a39c5 {
		t.Fatalf("fnv64(0) = %x", fnv64(0))
	}
	const items = 1000
	zeta := 0.0
	for i := 1; i <= items; i++ {
		zeta += 1 / math.Pow(float64(i), theta)
	}
	z := newZipfian(items, zeta)
	r := rand.New(rand.NewSource(4))
	counts := make([]int, items)
	const n = 200000
	for i := 0; i < n; i++ {
		counts[z.next(r)]++
	}
	if share := float64(counts[0]) / n; math.Abs(share-1/zeta) > 0.1/zeta {
		t.Errorf("rank 0 share %v, want about %v", share, 1/zeta)
	}
	choose, err := makeChooser("zipfian", 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10000; i++ {
		if k := choose(r); k >= 100 {
			t.Fatalf("key %d out of range", k)
		}
	}
	if _, err := makeChooser("latest", 100); err == nil {
		t.Errorf("latest should be refused")
	}
}

func TestKeysAndErrorKinds(t *testing.T) {
	if k := formatKey(42, 16); k != "user000000000042" {
		t.Errorf("formatKey = %q", k)
	}
	cases := map[error]string{
		context.DeadlineExceeded:    "timeout",
		rpctypes.ErrNoLeader:        "not_ready",
		rpctypes.ErrLeaderChanged:   "wrong_leader",
		rpctypes.ErrRequestTooLarge: "too_large",
		rpctypes.ErrTimeout:         "timeout",
		context.Canceled:            "other",
	}
	for err, want := range cases {
		if got := classify(err); got != want {
			t.Errorf("classify(%v) = %s, want %s", err, got, want)
		}
	}
}
