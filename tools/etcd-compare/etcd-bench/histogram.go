package main

// A log-linear latency histogram with the layout of tools/bench/histogram.h:
// values below 2^subBits exact, each power-of-two range above split into
// 2^subBits buckets (0.8% relative error). Not safe for concurrent use: one
// per goroutine, merged at the end.

import (
	"math"
	"math/bits"
)

const subBits = 7
const subBuckets = 1 << subBits

type histogram struct {
	counts []uint64
	count  uint64
	min    uint64
	max    uint64
	sum    float64
}

func newHistogram() *histogram {
	return &histogram{counts: make([]uint64, (64-subBits+1)*subBuckets), min: math.MaxUint64}
}

func bucketIndex(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	msb := 63 - bits.LeadingZeros64(v)
	group := msb - subBits + 1
	mantissa := v >> (group - 1)
	return group*subBuckets + int(mantissa-subBuckets)
}

func bucketHighest(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	group := i / subBuckets
	mantissa := uint64(i%subBuckets + subBuckets)
	return (mantissa << (group - 1)) + (uint64(1) << (group - 1)) - 1
}

func (h *histogram) record(v uint64) {
	h.counts[bucketIndex(v)]++
	h.count++
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.sum += float64(v)
}

func (h *histogram) merge(o *histogram) {
	if o.count == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.count += o.count
	if o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.sum += o.sum
}

func (h *histogram) percentile(p float64) uint64 {
	if h.count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.count)))
	if rank < 1 {
		rank = 1
	}
	if rank > h.count {
		rank = h.count
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := bucketHighest(i)
			if v < h.min {
				v = h.min
			}
			if v > h.max {
				v = h.max
			}
			return v
		}
	}
	return h.max
}

type latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func (h *histogram) latencyUs() latency {
	us := func(ns uint64) float64 { return round3(float64(ns) / 1000) }
	l := latency{P50: us(h.percentile(50)), P95: us(h.percentile(95)),
		P99: us(h.percentile(99)), P999: us(h.percentile(99.9)), Max: us(h.max)}
	if h.count > 0 {
		l.Min = us(h.min)
		l.Mean = round3(h.sum / float64(h.count) / 1000)
	}
	return l
}
