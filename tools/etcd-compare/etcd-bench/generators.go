package main

// YCSB's request distributions (as tools/bench/generators.h), key names and
// values.

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
)

const theta = 0.99

// Gray et al.'s zipfian over a fixed item count with a known zeta.
type zipfian struct {
	items                    float64
	alpha, zeta2, zetaN, eta float64
}

func newZipfian(items uint64, zetaN float64) *zipfian {
	z := &zipfian{items: float64(items), alpha: 1 / (1 - theta), zetaN: zetaN}
	z.zeta2 = 1 + 1/math.Pow(2, theta)
	z.eta = (1 - math.Pow(2/z.items, 1-theta)) / (1 - z.zeta2/z.zetaN)
	return z
}

func (z *zipfian) next(r *rand.Rand) uint64 {
	u := r.Float64()
	uz := u * z.zetaN
	if uz < 1 {
		return 0
	}
	if uz < 1+math.Pow(0.5, theta) {
		return 1
	}
	v := uint64(z.items * math.Pow(z.eta*u-z.eta+1, z.alpha))
	if v >= uint64(z.items) {
		v = uint64(z.items) - 1
	}
	return v
}

func fnv64(v uint64) uint64 {
	h := uint64(0xCBF29CE484222325)
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= 1099511628211
		v >>= 8
	}
	return h
}

type keyChooser func(r *rand.Rand) uint64

func makeChooser(dist string, records uint64) (keyChooser, error) {
	switch dist {
	case "uniform":
		return func(r *rand.Rand) uint64 { return uint64(r.Int63n(int64(records))) }, nil
	case "zipfian":
		// YCSB's scrambled zipfian: 10^10 items, zeta precomputed.
		z := newZipfian(10000000000, 26.46902820178302)
		return func(r *rand.Rand) uint64 { return fnv64(z.next(r)) % records }, nil
	}
	return nil, fmt.Errorf("distribution must be uniform or zipfian (latest needs inserts: workload d is not offered here)")
}

func formatKey(i uint64, size int) string {
	d := fmt.Sprint(i)
	return "user" + strings.Repeat("0", size-4-len(d)) + d
}

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

func randomValue(r *rand.Rand, size int) string {
	b := make([]byte, size)
	for i := range b {
		b[i] = alphabet[r.Intn(64)]
	}
	return string(b)
}
