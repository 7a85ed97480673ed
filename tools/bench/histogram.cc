#include "tools/bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sb::bench {
namespace {

// Values < kSubBuckets map to themselves. A value with its highest set bit at
// position m >= kSubBucketBits belongs to group g = m - kSubBucketBits + 1;
// its top kSubBucketBits + 1 bits (the "mantissa", in [kSubBuckets,
// 2*kSubBuckets)) select the bucket inside the group. Group g starts at index
// g * kSubBuckets, so the exact and log-linear ranges join without a gap.
constexpr int kGroups = 64 - Histogram::kSubBucketBits + 1;
constexpr size_t kBucketCount = kGroups * Histogram::kSubBuckets;

}  // namespace

Histogram::Histogram() : counts_(kBucketCount, 0) {}

size_t Histogram::BucketIndex(uint64_t value) {
  if (value < kSubBuckets) return static_cast<size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int group = msb - kSubBucketBits + 1;
  const uint64_t mantissa = value >> (group - 1);  // in [kSub, 2*kSub)
  return static_cast<size_t>(group) * kSubBuckets + (mantissa - kSubBuckets);
}

uint64_t Histogram::BucketLowest(size_t index) {
  if (index < kSubBuckets) return index;
  const size_t group = index / kSubBuckets;
  const uint64_t mantissa = index % kSubBuckets + kSubBuckets;
  return mantissa << (group - 1);
}

uint64_t Histogram::BucketHighest(size_t index) {
  if (index < kSubBuckets) return index;
  const size_t group = index / kSubBuckets;
  return BucketLowest(index) + ((uint64_t{1} << (group - 1)) - 1);
}

void Histogram::Record(uint64_t value) {
  ++counts_[BucketIndex(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value);
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / count_);
}

uint64_t Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // Rank of the wanted value, 1-based: the smallest rank whose share of the
  // count reaches p. p = 0 means the minimum.
  uint64_t rank =
      static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::clamp(BucketHighest(i), min_, max_);
    }
  }
  return max_;
}

}  // namespace sb::bench
