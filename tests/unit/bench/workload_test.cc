#include "tools/bench/workload.h"

#include <gtest/gtest.h>

#include <array>

namespace sb::bench {
namespace {

TEST(WorkloadTest, MixProportionsMatchTheWorkload) {
  for (const char* name : {"a", "b", "c", "d", "f", "write"}) {
    Workload w;
    std::string error;
    ASSERT_TRUE(LookupWorkload(name, &w, &error)) << error;
    EXPECT_NEAR(w.read + w.update + w.insert + w.read_modify_write, 1.0, 1e-12);
    const OpChooser chooser(w);
    Rng rng(42);
    std::array<int, kOpTypeCount> counts{};
    const int samples = 100000;
    for (int i = 0; i < samples; ++i) ++counts[int(chooser.Next(rng))];
    const double want[kOpTypeCount] = {w.read, w.update, w.insert,
                                       w.read_modify_write};
    for (int t = 0; t < kOpTypeCount; ++t) {
      // Binomial standard deviation is at most 0.0016 here.
      EXPECT_NEAR(counts[t] / double(samples), want[t], 0.01)
          << name << " " << OpTypeName(OpType(t));
      if (want[t] == 0) {
        EXPECT_EQ(counts[t], 0) << name;
      }
    }
  }
}

TEST(WorkloadTest, KnownMixes) {
  Workload w;
  std::string error;
  ASSERT_TRUE(LookupWorkload("b", &w, &error));
  EXPECT_DOUBLE_EQ(w.read, 0.95);
  EXPECT_DOUBLE_EQ(w.update, 0.05);
  EXPECT_EQ(w.default_distribution, Distribution::kZipfian);
  ASSERT_TRUE(LookupWorkload("d", &w, &error));
  EXPECT_DOUBLE_EQ(w.insert, 0.05);
  EXPECT_EQ(w.default_distribution, Distribution::kLatest);
  const OpChooser a([] {
    Workload x;
    std::string e;
    LookupWorkload("a", &x, &e);
    return x;
  }());
  EXPECT_EQ(a.Pick(0.0), OpType::kRead);
  EXPECT_EQ(a.Pick(0.4999), OpType::kRead);
  EXPECT_EQ(a.Pick(0.5), OpType::kUpdate);
  EXPECT_EQ(a.Pick(0.999999), OpType::kUpdate);
}

TEST(WorkloadTest, ScanWorkloadIsRefusedWithTheReason) {
  Workload w;
  std::string error;
  EXPECT_FALSE(LookupWorkload("e", &w, &error));
  EXPECT_NE(error.find("scan"), std::string::npos) << error;
  EXPECT_FALSE(LookupWorkload("z", &w, &error));
  EXPECT_NE(error.find("unknown workload"), std::string::npos) << error;
}

TEST(WorkloadTest, KeysHaveTheRequestedSize) {
  std::string key;
  ASSERT_TRUE(FormatKey(42, 16, &key));
  EXPECT_EQ(key, "user000000000042");
  ASSERT_TRUE(FormatKey(0, 5, &key));
  EXPECT_EQ(key, "user0");
  EXPECT_FALSE(FormatKey(123, 6, &key));
  EXPECT_EQ(MinKeySize(1000), 7u);  // "user999"
  EXPECT_EQ(MinKeySize(1001), 8u);
}

TEST(WorkloadTest, ValuesArePrintableAndSized) {
  Rng rng(1);
  for (size_t size : {1u, 9u, 10u, 11u, 256u, 4096u}) {
    const std::string v = RandomValue(rng, size);
    ASSERT_EQ(v.size(), size);
    for (char c : v) ASSERT_TRUE(std::isalnum(c) || c == '-' || c == '_');
  }
  EXPECT_NE(RandomValue(rng, 32), RandomValue(rng, 32));
}

}  // namespace
}  // namespace sb::bench
