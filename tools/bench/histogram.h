// histogram.h — a log-linear latency histogram (HDR-style) for benchmarks.
//
// Values are non-negative integers (the benchmark records nanoseconds). Values
// below 2^kSubBucketBits are counted exactly; above, every power-of-two range
// [2^m, 2^(m+1)) is split into 2^kSubBucketBits equal buckets, so a recorded
// value is known to within a relative error of 2^-kSubBucketBits (0.8%).
// The whole uint64 range fits in a fixed array (about 58 KiB), so Record()
// never allocates and never saturates.
//
// Percentile(p) returns the largest value equivalent to the bucket holding
// the value of rank ceil(p/100 * count) (1-based), clamped to the recorded
// [min, max]: the result r for a true value v satisfies
// v <= r <= v + v * 2^-kSubBucketBits.
//
// Thread safety: none. Each thread records into its own histogram; Merge()
// combines them after the threads stop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sb::bench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;

  Histogram();

  void Record(uint64_t value);
  // Adds every value recorded in `other`.
  void Merge(const Histogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  // 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;
  // p in [0, 100]; 0 when empty.
  uint64_t Percentile(double p) const;

  // Bucket arithmetic, exposed for tests.
  static size_t BucketIndex(uint64_t value);
  static uint64_t BucketLowest(size_t index);
  static uint64_t BucketHighest(size_t index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  // Sum in long double: 2^64 ns values times many records would overflow.
  long double sum_ = 0;
};

}  // namespace sb::bench
