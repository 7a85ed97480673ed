// tests/simulation/rng.h — the simulation's one source of randomness.
//
// SplitMix64: tiny, fast, and identical on every platform and standard
// library (std::uniform_int_distribution is not), so a seed replays the
// same run everywhere. Thread safety: none (one per simulation).
#pragma once

#include <cstdint>

namespace sb::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  uint64_t Uniform(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi].
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Uniform(hi - lo + 1); }
  // True with probability p.
  bool Chance(double p) {
    return p > 0 && static_cast<double>(Next() >> 11) * 0x1.0p-53 < p;
  }

 private:
  uint64_t state_;
};

}  // namespace sb::sim
