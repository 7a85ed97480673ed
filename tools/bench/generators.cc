#include "tools/bench/generators.h"

#include <algorithm>
#include <cmath>

namespace sb::bench {

double NextUnit(Rng& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

double Zeta(uint64_t n, double theta) {
  double sum = 0;
  for (uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(double(i), theta);
  return sum;
}

uint64_t FnvHash64(uint64_t v) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (int i = 0; i < 8; ++i) {
    h ^= v & 0xff;
    h *= 1099511628211ull;
    v >>= 8;
  }
  return h;
}

ZipfianGenerator::ZipfianGenerator(uint64_t items, double theta, double zeta_n)
    : items_(std::max<uint64_t>(items, 1)),
      theta_(theta),
      alpha_(1.0 / (1.0 - theta)),
      zeta2_(Zeta(2, theta)),
      zeta_n_(zeta_n > 0 ? zeta_n : Zeta(std::max<uint64_t>(items, 1), theta)) {
  eta_ =
      (1 - std::pow(2.0 / double(items_), 1 - theta_)) / (1 - zeta2_ / zeta_n_);
}

void ZipfianGenerator::SetItems(uint64_t items) {
  items = std::max<uint64_t>(items, 1);
  if (items == items_) return;
  if (items > items_) {
    // Extend the sum with the new terms only (workload D grows by inserts).
    for (uint64_t i = items_ + 1; i <= items; ++i) {
      zeta_n_ += 1.0 / std::pow(double(i), theta_);
    }
  } else {
    zeta_n_ = Zeta(items, theta_);
  }
  items_ = items;
  eta_ =
      (1 - std::pow(2.0 / double(items_), 1 - theta_)) / (1 - zeta2_ / zeta_n_);
}

uint64_t ZipfianGenerator::Next(Rng& rng, uint64_t items) {
  SetItems(items);
  return Next(rng);
}

uint64_t ZipfianGenerator::Next(Rng& rng) {
  // Gray et al.: the first two ranks are resolved exactly, the rest by the
  // closed-form approximation of the inverse CDF.
  const double u = NextUnit(rng);
  const double uz = u * zeta_n_;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + std::pow(0.5, theta_))
    return std::min<uint64_t>(1, items_ - 1);
  const double r = double(items_) * std::pow(eta_ * u - eta_ + 1, alpha_);
  return std::min<uint64_t>(static_cast<uint64_t>(r), items_ - 1);
}

const char* DistributionName(Distribution d) {
  switch (d) {
    case Distribution::kUniform:
      return "uniform";
    case Distribution::kZipfian:
      return "zipfian";
    case Distribution::kLatest:
      return "latest";
  }
  return "?";
}

bool ParseDistribution(const std::string& name, Distribution* out) {
  for (Distribution d : {Distribution::kUniform, Distribution::kZipfian,
                         Distribution::kLatest}) {
    if (name == DistributionName(d)) {
      *out = d;
      return true;
    }
  }
  return false;
}

namespace {

class UniformChooser : public KeyChooser {
 public:
  uint64_t Next(Rng& rng, uint64_t record_count) override {
    return std::uniform_int_distribution<uint64_t>(0, record_count - 1)(rng);
  }
};

// YCSB's ScrambledZipfianGenerator: the item space is fixed at 10^10 with its
// zeta precomputed (the constant YCSB uses for theta 0.99), so no O(n) sum is
// ever needed.
class ScrambledZipfianChooser : public KeyChooser {
 public:
  static constexpr uint64_t kItemCount = 10000000000ull;
  static constexpr double kZetaItemCount = 26.46902820178302;

  ScrambledZipfianChooser()
      : zipf_(kItemCount, ZipfianGenerator::kYcsbTheta, kZetaItemCount) {}

  uint64_t Next(Rng& rng, uint64_t record_count) override {
    return FnvHash64(zipf_.Next(rng)) % record_count;
  }

 private:
  ZipfianGenerator zipf_;
};

// YCSB's SkewedLatestGenerator: age = zipfian rank over the current count,
// record = newest - age.
class LatestChooser : public KeyChooser {
 public:
  LatestChooser(uint64_t initial, double zeta)
      : zipf_(std::max<uint64_t>(initial, 1), ZipfianGenerator::kYcsbTheta,
              zeta) {}

  uint64_t Next(Rng& rng, uint64_t record_count) override {
    const uint64_t age = zipf_.Next(rng, record_count);
    return record_count - 1 - age;
  }

 private:
  ZipfianGenerator zipf_;
};

}  // namespace

std::unique_ptr<KeyChooser> MakeKeyChooser(Distribution d,
                                           uint64_t initial_records,
                                           double latest_zeta) {
  switch (d) {
    case Distribution::kUniform:
      return std::make_unique<UniformChooser>();
    case Distribution::kZipfian:
      return std::make_unique<ScrambledZipfianChooser>();
    case Distribution::kLatest:
      return std::make_unique<LatestChooser>(initial_records, latest_zeta);
  }
  return nullptr;
}

}  // namespace sb::bench
