// Cross-checks the search against a brute-force definition of
// linearizability on many small random histories (random outputs, so most are
// not linearizable). The search prunes with a cache and several reductions;
// this test is what shows the pruning never changes an answer.
//
// SB_LINCHECK_BRUTE_HISTORIES=N checks N histories instead of 3000 (about
// 0.1 ms each), SB_LINCHECK_BRUTE_SEED=S starts from another seed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tests/linearizability/checker.h"
#include "tests/linearizability/history_text.h"
#include "tests/linearizability/model.h"

namespace sb::lincheck {
namespace {

// Straight from the definition: some order of the operations that took effect
// respects real time (a before b whenever a returned before b was invoked)
// and the model. Failed operations never took effect; unknown ones may or may
// not have, so each may be left out.
class BruteForce {
 public:
  explicit BruteForce(const History& h) {
    for (const Operation& op : h) {
      if (op.outcome != Outcome::kFailed) ops_.push_back(op);
    }
    used_.assign(ops_.size(), false);
  }

  bool Linearizable() { return Extend(model_.Init()); }

 private:
  bool Extend(const ModelState& state) {
    bool done = true;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (!used_[i] && ops_[i].outcome != Outcome::kUnknown) done = false;
    }
    if (done) return true;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (used_[i] || !Minimal(i)) continue;
      ModelState next;
      if (!model_.Step(state, ops_[i], &next)) continue;
      used_[i] = true;
      const bool ok = Extend(next);
      used_[i] = false;
      if (ok) return true;
    }
    return false;
  }
  // No pending operation returned before ops_[i] was invoked.
  bool Minimal(size_t i) const {
    for (size_t j = 0; j < ops_.size(); ++j) {
      if (!used_[j] && j != i && ops_[j].ret < ops_[i].invoke) return false;
    }
    return true;
  }

  RegisterModel model_;
  std::vector<Operation> ops_;
  std::vector<bool> used_;
};

History RandomSmallHistory(std::mt19937_64& rng) {
  auto pick = [&](uint64_t n) { return rng() % n; };
  const char* const kValues[] = {"a", "b", "ab"};
  auto value = [&] { return std::string(kValues[pick(2)]); };
  auto maybe = [&]() -> std::optional<std::string> {
    if (pick(3) == 0) return std::nullopt;
    return std::string(kValues[pick(3)]);
  };
  History h;
  const int n = 3 + static_cast<int>(pick(6));  // 3..8 operations
  for (int i = 0; i < n; ++i) {
    const int64_t invoke = static_cast<int64_t>(pick(20));
    const int64_t ret = invoke + static_cast<int64_t>(pick(8));
    const uint64_t r = pick(100);
    const Outcome outcome = r < 70   ? Outcome::kOk
                            : r < 85 ? Outcome::kUnknown
                                     : Outcome::kFailed;
    switch (pick(5)) {
      case 0:
        h.push_back(MakeGet(i, "k", maybe(), invoke, ret, outcome));
        break;
      case 1:
        h.push_back(MakePut(i, "k", value(), invoke, ret, outcome));
        break;
      case 2:
        h.push_back(MakeAppend(i, "k", "b", invoke, ret, outcome));
        break;
      case 3:
        h.push_back(MakeDelete(i, "k", invoke, ret, outcome));
        break;
      default:
        h.push_back(MakeCas(i, "k", maybe(), value(), pick(2) == 0, invoke, ret,
                            outcome));
        break;
    }
  }
  return h;
}

TEST(BruteForceTest, SearchAgreesWithDefinition) {
  uint64_t seed = 20240601;
  if (const char* s = std::getenv("SB_LINCHECK_BRUTE_SEED")) {
    seed = std::strtoull(s, nullptr, 10);
  }
  int histories = 3000;
  if (const char* n = std::getenv("SB_LINCHECK_BRUTE_HISTORIES")) {
    histories = std::atoi(n);
  }
  std::mt19937_64 rng(seed);
  int linearizable = 0;
  for (int i = 0; i < histories; ++i) {
    const History h = RandomSmallHistory(rng);
    const bool expected = BruteForce(h).Linearizable();
    const CheckResult r = CheckHistory(h);
    ASSERT_NE(r.verdict, Verdict::kUnknown);
    ASSERT_EQ(r.verdict == Verdict::kLinearizable, expected)
        << "seed " << seed << ", history " << i << "\n"
        << r.Report() << DumpHistory(h);
    linearizable += expected;
  }
  // Both answers must be well represented for the comparison to mean much.
  EXPECT_GT(linearizable, histories / 10);
  EXPECT_LT(linearizable, histories * 9 / 10);
  std::printf("%d of %d histories linearizable (seed %llu)\n", linearizable,
              histories, static_cast<unsigned long long>(seed));
}

}  // namespace
}  // namespace sb::lincheck
