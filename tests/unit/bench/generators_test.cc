#include "tools/bench/generators.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

namespace sb::bench {
namespace {

std::vector<uint64_t> Counts(KeyChooser& c, Rng& rng, uint64_t records,
                             int samples) {
  std::vector<uint64_t> counts(records, 0);
  for (int i = 0; i < samples; ++i) {
    const uint64_t k = c.Next(rng, records);
    EXPECT_LT(k, records);
    if (k < records) ++counts[k];
  }
  return counts;
}

TEST(GeneratorsTest, UniformIsFlat) {
  Rng rng(1);
  auto c = MakeKeyChooser(Distribution::kUniform, 10);
  const auto counts = Counts(*c, rng, 10, 100000);
  // Expected 10000 each, standard deviation about 95.
  for (uint64_t n : counts) {
    EXPECT_GT(n, 9500u);
    EXPECT_LT(n, 10500u);
  }
}

TEST(GeneratorsTest, ZipfianRankFrequenciesFollowTheLaw) {
  Rng rng(2);
  const uint64_t items = 1000;
  const double theta = ZipfianGenerator::kYcsbTheta;
  ZipfianGenerator z(items, theta);
  const int samples = 200000;
  std::vector<uint64_t> counts(items, 0);
  for (int i = 0; i < samples; ++i) {
    const uint64_t r = z.Next(rng);
    ASSERT_LT(r, items);
    ++counts[r];
  }
  const double zeta = Zeta(items, theta);
  // Rank 0 and 1 are exact in Gray's method: 1/zeta and 1/(2^theta zeta).
  EXPECT_NEAR(counts[0] / double(samples), 1 / zeta, 0.1 / zeta);
  EXPECT_NEAR(counts[1] / double(samples), 1 / (std::pow(2, theta) * zeta),
              0.1 / zeta);
  for (int r = 0; r < 4; ++r) EXPECT_GT(counts[r], counts[r + 1]) << r;
  // The tail is light: the upper half of the ranks gets a small share
  // (about 8% by the law; uniform would give 50%).
  uint64_t upper = 0;
  for (uint64_t r = items / 2; r < items; ++r) upper += counts[r];
  EXPECT_LT(upper / double(samples), 0.15);
}

TEST(GeneratorsTest, ZetaIsExtendedIncrementally) {
  Rng rng(3);
  ZipfianGenerator z(100, 0.99);
  EXPECT_NEAR(z.zeta_n(), Zeta(100, 0.99), 1e-9);
  z.Next(rng, 250);
  EXPECT_EQ(z.items(), 250u);
  EXPECT_NEAR(z.zeta_n(), Zeta(250, 0.99), 1e-9);
  z.Next(rng, 50);
  EXPECT_NEAR(z.zeta_n(), Zeta(50, 0.99), 1e-9);
}

TEST(GeneratorsTest, ScrambledZipfianIsSkewedButSpread) {
  Rng rng(4);
  const uint64_t records = 1000;
  auto c = MakeKeyChooser(Distribution::kZipfian, records);
  const int samples = 200000;
  auto counts = Counts(*c, rng, records, samples);
  std::vector<std::pair<uint64_t, uint64_t>> by_count;  // (count, key)
  for (uint64_t k = 0; k < records; ++k) by_count.push_back({counts[k], k});
  std::sort(by_count.rbegin(), by_count.rend());
  // The hottest key gets at least rank 0's share, 1/zeta(10^10) = 3.8%
  // (other ranks may hash onto it); uniform would give 0.1%.
  EXPECT_GT(by_count[0].first / double(samples), 0.03);
  EXPECT_LT(by_count[0].first / double(samples), 0.10);
  uint64_t top10 = 0, top10_max_key = 0;
  for (int i = 0; i < 10; ++i) {
    top10 += by_count[i].first;
    top10_max_key = std::max(top10_max_key, by_count[i].second);
  }
  EXPECT_GT(top10 / double(samples), 0.10);
  // Scrambled: hot keys are not the lowest indices.
  EXPECT_GT(top10_max_key, 100u);
}

TEST(GeneratorsTest, LatestFavoursTheNewestRecord) {
  Rng rng(5);
  auto c = MakeKeyChooser(Distribution::kLatest, 1000);
  const int samples = 100000;
  for (uint64_t records : {1000u, 2000u}) {
    auto counts = Counts(*c, rng, records, samples);
    const uint64_t hottest =
        std::max_element(counts.begin(), counts.end()) - counts.begin();
    EXPECT_EQ(hottest, records - 1);
    EXPECT_GT(counts[records - 1], counts[records - 2]);
    EXPECT_NEAR(counts[records - 1] / double(samples), 1 / Zeta(records, 0.99),
                0.1 / Zeta(records, 0.99));
  }
}

TEST(GeneratorsTest, SameSeedSameSequence) {
  for (Distribution d : {Distribution::kUniform, Distribution::kZipfian,
                         Distribution::kLatest}) {
    Rng a(9), b(9);
    auto ca = MakeKeyChooser(d, 500), cb = MakeKeyChooser(d, 500);
    for (int i = 0; i < 1000; ++i) {
      ASSERT_EQ(ca->Next(a, 500), cb->Next(b, 500)) << DistributionName(d);
    }
  }
}

TEST(GeneratorsTest, ParseDistributionNames) {
  Distribution d;
  EXPECT_TRUE(ParseDistribution("latest", &d));
  EXPECT_EQ(d, Distribution::kLatest);
  EXPECT_FALSE(ParseDistribution("hotspot", &d));
  // FNV-1a 64 of eight zero bytes.
  EXPECT_EQ(FnvHash64(0), 0xa8c7f832281a39c5ull);
}

}  // namespace
}  // namespace sb::bench
