#include "tools/bench/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace sb::bench {
namespace {

// The value of rank ceil(p/100 * n) (1-based) of sorted data.
uint64_t Reference(const std::vector<uint64_t>& sorted, double p) {
  uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * sorted.size()));
  rank = std::clamp<uint64_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// Log-uniform values over [1, 10^10): latencies from 1 ns to 10 s.
std::vector<uint64_t> RandomValues(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exp10(0, 10);
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = static_cast<uint64_t>(std::pow(10.0, exp10(rng)));
  return v;
}

TEST(HistogramTest, BucketsCoverValueWithinRelativeError) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const size_t idx = Histogram::BucketIndex(v);
    ASSERT_LE(Histogram::BucketLowest(idx), v);
    ASSERT_GE(Histogram::BucketHighest(idx), v);
    const uint64_t width =
        Histogram::BucketHighest(idx) - Histogram::BucketLowest(idx);
    ASSERT_LE(width, v >> Histogram::kSubBucketBits) << v;
  }
  // Exact below kSubBuckets, contiguous across the first group boundary.
  for (uint64_t v = 0; v < 4 * Histogram::kSubBuckets; ++v) {
    const size_t idx = Histogram::BucketIndex(v);
    if (v < Histogram::kSubBuckets) {
      EXPECT_EQ(idx, v);
    }
    if (v > 0) {
      EXPECT_LE(idx - Histogram::BucketIndex(v - 1), 1u);
    }
  }
  EXPECT_GE(Histogram::BucketHighest(Histogram::BucketIndex(UINT64_MAX)),
            UINT64_MAX - 1);
}

TEST(HistogramTest, PercentilesMatchSortedReference) {
  for (uint64_t seed : {1, 2, 3}) {
    std::vector<uint64_t> values = RandomValues(seed, 20000 + seed * 777);
    Histogram h;
    for (uint64_t v : values) h.Record(v);
    std::sort(values.begin(), values.end());
    ASSERT_EQ(h.count(), values.size());
    EXPECT_EQ(h.min(), values.front());
    EXPECT_EQ(h.max(), values.back());
    for (double p : {0.0, 1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0}) {
      const uint64_t ref = Reference(values, p);
      const uint64_t got = h.Percentile(p);
      EXPECT_GE(got, ref) << "p" << p;
      EXPECT_LE(got, ref + (ref >> Histogram::kSubBucketBits)) << "p" << p;
    }
    long double sum = 0;
    for (uint64_t v : values) sum += v;
    EXPECT_NEAR(h.mean(), static_cast<double>(sum / values.size()),
                1e-6 * h.mean());
  }
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  const std::vector<uint64_t> a = RandomValues(11, 5000);
  const std::vector<uint64_t> b = RandomValues(12, 9000);
  Histogram ha, hb, all;
  for (uint64_t v : a) ha.Record(v), all.Record(v);
  for (uint64_t v : b) hb.Record(v), all.Record(v);
  Histogram merged;
  merged.Merge(ha);
  merged.Merge(hb);
  merged.Merge(Histogram());  // merging an empty one changes nothing
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double p = 0; p <= 100; p += 0.5) {
    EXPECT_EQ(merged.Percentile(p), all.Percentile(p)) << p;
  }
}

TEST(HistogramTest, EmptyAndReset) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.Percentile(99), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  h.Record(5);
  h.Record(UINT64_MAX);
  EXPECT_EQ(h.Percentile(50), 5u);
  EXPECT_EQ(h.Percentile(100), UINT64_MAX);
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
}

}  // namespace
}  // namespace sb::bench
