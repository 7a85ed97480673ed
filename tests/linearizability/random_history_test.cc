// Randomized histories: linearizable by construction (random_history.h), so
// the checker must accept every one; with one read mutated to an impossible
// value it must reject them.
//
// Seeds are printed on failure along with the history in the text form, which
// `sb-lincheck` re-checks once saved to a file. Environment:
//   SB_LINCHECK_SEEDS=N  number of seeds per test (default 30)
//   SB_LINCHECK_SEED=S   run only seed S (to replay a failure)
#include "tests/linearizability/random_history.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/linearizability/checker.h"
#include "tests/linearizability/history_text.h"

namespace sb::lincheck {
namespace {

using testing::RandomHistoryOptions;
using testing::RandomLinearizableHistory;

std::vector<uint64_t> Seeds() {
  if (const char* one = std::getenv("SB_LINCHECK_SEED")) {
    std::printf("seed %s\n", one);
    return {std::strtoull(one, nullptr, 10)};
  }
  uint64_t n = 30;
  if (const char* count = std::getenv("SB_LINCHECK_SEEDS")) {
    n = std::strtoull(count, nullptr, 10);
  }
  std::vector<uint64_t> seeds;
  for (uint64_t s = 1; s <= n; ++s) seeds.push_back(s);
  std::printf("seeds 1..%llu (SB_LINCHECK_SEED=S replays one)\n",
              static_cast<unsigned long long>(n));
  return seeds;
}

// A mix of concurrency levels and key counts, keyed off the seed.
RandomHistoryOptions OptionsFor(uint64_t seed) {
  RandomHistoryOptions o;
  o.max_stretch = 10 + static_cast<int64_t>(seed % 4) * 20;  // 10..70
  o.keys = 1 + static_cast<int>(seed % 3);
  return o;
}

// Proving a history not linearizable means exhausting every configuration
// up to the bad read, which grows steeply with concurrency and with pending
// unknown writes. These settings stay well inside the default budget.
RandomHistoryOptions MutationOptionsFor(uint64_t seed) {
  RandomHistoryOptions o;
  o.max_stretch = 10 + static_cast<int64_t>(seed % 3) * 15;  // 10..40
  o.keys = 2 + static_cast<int>(seed % 2);
  return o;
}

std::string Context(uint64_t seed, const History& h, const CheckResult& r) {
  return "seed " + std::to_string(seed) +
         " (replay with SB_LINCHECK_SEED=" + std::to_string(seed) + ")\n" +
         r.Report() + "history:\n" + DumpHistory(h);
}

TEST(RandomHistoryTest, ValidHistoriesAreLinearizable) {
  for (uint64_t seed : Seeds()) {
    const History h = RandomLinearizableHistory(seed, OptionsFor(seed));
    const CheckResult r = CheckHistory(h);
    ASSERT_EQ(r.verdict, Verdict::kLinearizable) << Context(seed, h, r);
  }
}

TEST(RandomHistoryTest, ReadOfUnwrittenValueIsCaught) {
  for (uint64_t seed : Seeds()) {
    History h = RandomLinearizableHistory(seed, MutationOptionsFor(seed));
    ASSERT_TRUE(testing::MutateReadToUnwrittenValue(seed, &h))
        << "seed " << seed;
    const CheckResult r = CheckHistory(h);
    ASSERT_EQ(r.verdict, Verdict::kNotLinearizable) << Context(seed, h, r);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_FALSE(r.problems[0].report.empty());
  }
}

TEST(RandomHistoryTest, ReadOfFutureValueIsCaught) {
  int mutated = 0;
  for (uint64_t seed : Seeds()) {
    History h = RandomLinearizableHistory(seed, MutationOptionsFor(seed));
    if (!testing::MutateReadToFutureValue(seed, &h)) continue;
    ++mutated;
    const CheckResult r = CheckHistory(h);
    ASSERT_EQ(r.verdict, Verdict::kNotLinearizable) << Context(seed, h, r);
  }
  // Histories of 200 operations always have such a pair; guard against a
  // generator change silently emptying this test.
  EXPECT_GT(mutated, 0);
}

// One busy key with many pending unknown writes: some of these exceed a
// small budget. Whatever happens, a mutated history is never called
// linearizable, and an exhausted budget says unknown.
TEST(RandomHistoryTest, HardMutatedHistoriesAreNeverLinearizable) {
  CheckOptions options;
  options.max_steps_per_key = 100'000;
  int decided = 0;
  int unknown = 0;
  for (uint64_t seed : Seeds()) {
    RandomHistoryOptions o;
    o.keys = 1;
    o.max_stretch = 70;
    o.unknown_write_percent = 15;
    History h = RandomLinearizableHistory(seed, o);
    ASSERT_TRUE(testing::MutateReadToUnwrittenValue(seed, &h));
    const CheckResult r = CheckHistory(h, options);
    ASSERT_NE(r.verdict, Verdict::kLinearizable) << Context(seed, h, r);
    if (r.verdict == Verdict::kUnknown) {
      ++unknown;
      ASSERT_EQ(r.problems.size(), 1u);
      EXPECT_EQ(r.problems[0].steps, options.max_steps_per_key);
    } else {
      ASSERT_EQ(r.verdict, Verdict::kNotLinearizable) << Context(seed, h, r);
      ++decided;
    }
  }
  std::printf("%d decided, %d unknown within %llu steps\n", decided, unknown,
              static_cast<unsigned long long>(options.max_steps_per_key));
}

TEST(RandomHistoryTest, TextFormRoundTripsAndChecksTheSame) {
  for (uint64_t seed : Seeds()) {
    History h = RandomLinearizableHistory(seed, OptionsFor(seed));
    if (seed % 2 == 0) testing::MutateReadToUnwrittenValue(seed, &h);
    History back;
    std::string error;
    ASSERT_TRUE(ParseHistory(DumpHistory(h), &back, &error))
        << "seed " << seed << ": " << error;
    EXPECT_EQ(DumpHistory(back), DumpHistory(h)) << "seed " << seed;
    EXPECT_EQ(CheckHistory(back).verdict, CheckHistory(h).verdict)
        << "seed " << seed;
  }
}

}  // namespace
}  // namespace sb::lincheck
