// generators.h — request distributions of the YCSB core workloads.
//
// A KeyChooser picks the index of the record an operation touches, given the
// number of records that exist now (indices 0..record_count-1; workload D's
// inserts make the count grow while the run goes on):
//   - uniform: every record equally likely;
//   - zipfian: YCSB's scrambled zipfian: a zipfian rank (theta 0.99) over a
//     fixed space of 10^10 items, hashed with FNV-1a 64 and reduced modulo
//     the record count, so popular records are spread over the key space
//     instead of being the lowest indices;
//   - latest: YCSB's skewed-latest: the most recently inserted record is the
//     most popular, the one before next, and so on (zipfian over the age).
// The zipfian sampler is Gray et al., "Quickly generating billion-record
// synthetic databases" (SIGMOD 1994), as in YCSB's ZipfianGenerator.
//
// Thread safety: none. Each client thread owns its choosers and its random
// engine; the record count is passed in by the caller.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>

namespace sb::bench {

using Rng = std::mt19937_64;

// Uniform double in [0, 1) from the top 53 bits of one draw.
double NextUnit(Rng& rng);

// sum_{i=1..n} 1 / i^theta.
double Zeta(uint64_t n, double theta);

// Zipfian ranks in [0, items): rank 0 is the most popular.
class ZipfianGenerator {
 public:
  static constexpr double kYcsbTheta = 0.99;

  // `zeta_n` may be passed when already known (Zeta(items, theta)); a value
  // <= 0 computes it here, which costs O(items).
  ZipfianGenerator(uint64_t items, double theta, double zeta_n = 0);

  uint64_t Next(Rng& rng);
  // Next over a different item count: the zeta sum is extended (or
  // recomputed when shrinking) incrementally, as YCSB does.
  uint64_t Next(Rng& rng, uint64_t items);

  uint64_t items() const { return items_; }
  double zeta_n() const { return zeta_n_; }

 private:
  void SetItems(uint64_t items);

  uint64_t items_;
  double theta_;
  double alpha_;
  double zeta2_;
  double zeta_n_;
  double eta_;
};

enum class Distribution { kUniform, kZipfian, kLatest };

const char* DistributionName(Distribution d);
// "uniform", "zipfian" or "latest"; false for anything else.
bool ParseDistribution(const std::string& name, Distribution* out);

class KeyChooser {
 public:
  virtual ~KeyChooser() = default;
  // record_count >= 1. Returns an index in [0, record_count).
  virtual uint64_t Next(Rng& rng, uint64_t record_count) = 0;
};

// `initial_records` sizes the zipfian of the latest distribution up front;
// `latest_zeta`, when > 0, is Zeta(initial_records, 0.99), which callers
// making many choosers compute once (it costs O(initial_records)).
std::unique_ptr<KeyChooser> MakeKeyChooser(Distribution d,
                                           uint64_t initial_records,
                                           double latest_zeta = 0);

// FNV-1a 64 over the eight little-endian bytes of v (YCSB's fnvhash64
// without the sign fold).
uint64_t FnvHash64(uint64_t v);

}  // namespace sb::bench
