// Hand-written histories with a known answer: linearizable ones the checker
// must accept and non-linearizable ones it must reject with a useful report.
#include "tests/linearizability/checker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>

#include "tests/linearizability/history.h"

namespace sb::lincheck {
namespace {

constexpr Outcome kUnknown = Outcome::kUnknown;
constexpr Outcome kFailed = Outcome::kFailed;

CheckResult Check(const History& h) { return CheckHistory(h); }

void ExpectLinearizable(const History& h) {
  const CheckResult r = Check(h);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.Report();
}

// Expects a failure and returns the failing key's result.
KeyResult ExpectNotLinearizable(const History& h) {
  const CheckResult r = Check(h);
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable) << r.Report();
  if (r.problems.empty()) return {};
  EXPECT_EQ(r.problems[0].verdict, Verdict::kNotLinearizable);
  EXPECT_TRUE(r.problems[0].first_unlinearizable.has_value());
  return r.problems[0];
}

// ---- linearizable -------------------------------------------------------

TEST(CheckerTest, EmptyHistory) { ExpectLinearizable({}); }

TEST(CheckerTest, SequentialOperations) {
  ExpectLinearizable({
      MakeGet(1, "k", std::nullopt, 0, 1),
      MakePut(1, "k", "a", 2, 3),
      MakeGet(2, "k", "a", 4, 5),
      MakeAppend(1, "k", "b", 6, 7),
      MakeGet(2, "k", "ab", 8, 9),
      MakeDelete(1, "k", 10, 11),
      MakeGet(2, "k", std::nullopt, 12, 13),
  });
}

TEST(CheckerTest, ConcurrentWritesReadsSeeEither) {
  // Two overlapping puts; concurrent reads may see them in either order as
  // long as all readers agree with one order.
  ExpectLinearizable({
      MakePut(1, "k", "x", 0, 100),
      MakePut(2, "k", "y", 0, 100),
      MakeGet(3, "k", "y", 10, 20),
      MakeGet(3, "k", "x", 30, 40),
      MakeGet(4, "k", "x", 50, 60),
  });
  ExpectLinearizable({
      MakePut(1, "k", "x", 0, 100),
      MakePut(2, "k", "y", 0, 100),
      MakeGet(3, "k", "x", 10, 20),
      MakeGet(3, "k", "y", 30, 40),
  });
}

TEST(CheckerTest, TouchingIntervalsOverlap) {
  // The read starts at the instant the write returns: closed intervals
  // overlap, so the read may come first.
  ExpectLinearizable({
      MakePut(1, "k", "x", 0, 10),
      MakeGet(2, "k", std::nullopt, 10, 20),
  });
}

TEST(CheckerTest, UnknownWriteThatTookEffect) {
  ExpectLinearizable({
      MakePut(1, "k", "x", 0, 0, kUnknown),
      MakeGet(2, "k", "x", 50, 60),
  });
}

TEST(CheckerTest, UnknownWriteThatDidNotTakeEffect) {
  ExpectLinearizable({
      MakePut(1, "k", "a", 0, 5),
      MakePut(1, "k", "x", 10, 0, kUnknown),
      MakeGet(2, "k", "a", 50, 60),
      MakeGet(2, "k", "a", 70, 80),
  });
}

TEST(CheckerTest, UnknownWriteTakingEffectLate) {
  // Not seen at first, seen later: it took effect between the reads.
  ExpectLinearizable({
      MakePut(1, "k", "x", 0, 0, kUnknown),
      MakeGet(2, "k", std::nullopt, 50, 60),
      MakeGet(2, "k", "x", 70, 80),
  });
}

TEST(CheckerTest, UnknownReadsAreUnconstrained) {
  ExpectLinearizable({
      MakePut(1, "k", "a", 0, 5),
      MakeGet(2, "k", std::nullopt, 10, 0, kUnknown),
      MakeGet(2, "k", "a", 20, 30),
  });
}

TEST(CheckerTest, CasChain) {
  ExpectLinearizable({
      MakeCas(1, "k", std::nullopt, "1", true, 0, 10),
      MakeCas(2, "k", "1", "2", true, 5, 20),
      MakeCas(3, "k", "1", "3", false, 5, 25),
      MakeCas(1, "k", "2", "3", true, 30, 40),
      MakeGet(2, "k", "3", 50, 60),
  });
}

TEST(CheckerTest, ConcurrentCasOneWins) {
  ExpectLinearizable({
      MakePut(1, "k", "0", 0, 10),
      MakeCas(2, "k", "0", "a", false, 20, 40),
      MakeCas(3, "k", "0", "b", true, 20, 40),
      MakeGet(4, "k", "b", 50, 60),
  });
}

TEST(CheckerTest, UnknownCasEitherWay) {
  ExpectLinearizable({
      MakePut(1, "k", "0", 0, 10),
      MakeCas(2, "k", "0", "1", false, 20, 0, kUnknown),
      MakeGet(3, "k", "1", 50, 60),
  });
  ExpectLinearizable({
      MakePut(1, "k", "0", 0, 10),
      MakeCas(2, "k", "0", "1", false, 20, 0, kUnknown),
      MakeGet(3, "k", "0", 50, 60),
  });
}

TEST(CheckerTest, AppendSequences) {
  ExpectLinearizable({
      MakeAppend(1, "k", "a", 0, 10),
      MakeAppend(2, "k", "b", 5, 30),
      MakeAppend(3, "k", "c", 5, 30),
      MakeGet(4, "k", "acb", 40, 50),
      MakeAppend(1, "k", "d", 60, 0, kUnknown),
      MakeGet(4, "k", "acbd", 70, 80),
  });
}

TEST(CheckerTest, DeletesAndRecreation) {
  ExpectLinearizable({
      MakePut(1, "k", "a", 0, 10),
      MakeDelete(2, "k", 5, 20),
      MakeGet(3, "k", "a", 6, 8),
      MakeGet(3, "k", std::nullopt, 25, 30),
      MakeAppend(1, "k", "b", 35, 40),
      MakeGet(3, "k", "b", 45, 50),
  });
}

TEST(CheckerTest, KeysAreIndependent) {
  // A write to another key does not order reads of this one.
  ExpectLinearizable({
      MakePut(1, "a", "1", 0, 10),
      MakePut(1, "b", "1", 20, 30),
      MakeGet(2, "b", "1", 40, 50),
      MakeGet(2, "a", "1", 40, 50),
  });
}

// ---- not linearizable ---------------------------------------------------

TEST(CheckerTest, StaleReadAfterCompletedWrite) {
  const KeyResult r = ExpectNotLinearizable({
      MakePut(1, "k", "a", 0, 10),
      MakePut(1, "k", "b", 20, 30),
      MakeGet(2, "k", "a", 40, 50),
  });
  EXPECT_EQ(r.first_unlinearizable, 2u);
  EXPECT_EQ(r.longest_prefix, (std::vector<size_t>{0, 1}));
  EXPECT_NE(r.explanation.find("get returned \"a\" but no write of \"a\" "
                               "could be linearized before it"),
            std::string::npos)
      << r.explanation;
  EXPECT_NE(r.report.find("key \"k\": not linearizable"), std::string::npos);
  EXPECT_NE(r.report.find(">>"), std::string::npos) << r.report;
}

TEST(CheckerTest, ReadOfNeverWrittenValue) {
  const KeyResult r = ExpectNotLinearizable({
      MakePut(1, "k", "a", 0, 10),
      MakeGet(2, "k", "z", 5, 50),
  });
  EXPECT_EQ(r.first_unlinearizable, 1u);
  EXPECT_NE(r.explanation.find("no operation of this key"), std::string::npos)
      << r.explanation;
}

TEST(CheckerTest, ReadsSeeWritesInOppositeOrders) {
  // The classic: one reader sees x then y, another y then x, while both
  // writes are outstanding. No single order of the writes explains both.
  ExpectNotLinearizable({
      MakePut(1, "k", "x", 0, 100),
      MakePut(2, "k", "y", 0, 100),
      MakeGet(3, "k", "x", 10, 20),
      MakeGet(3, "k", "y", 30, 40),
      MakeGet(4, "k", "y", 10, 20),
      MakeGet(4, "k", "x", 30, 40),
  });
}

TEST(CheckerTest, LostAppend) {
  ExpectNotLinearizable({
      MakeAppend(1, "k", "a", 0, 10),
      MakeAppend(2, "k", "b", 20, 30),
      MakeGet(3, "k", "b", 40, 50),
  });
}

TEST(CheckerTest, CasSucceedingTwiceFromSameExpected) {
  const KeyResult r = ExpectNotLinearizable({
      MakePut(1, "k", "0", 0, 10),
      MakeCas(2, "k", "0", "1", true, 20, 30),
      MakeCas(3, "k", "0", "2", true, 20, 30),
  });
  EXPECT_NE(r.explanation.find("cas expecting \"0\" succeeded"),
            std::string::npos)
      << r.explanation;
}

TEST(CheckerTest, FailedWriteIsNeverSeen) {
  ExpectNotLinearizable({
      MakePut(1, "k", "x", 0, 10, kFailed),
      MakeGet(2, "k", "x", 20, 30),
  });
}

TEST(CheckerTest, UnknownWriteCannotBeUndone) {
  ExpectNotLinearizable({
      MakePut(1, "k", "x", 0, 0, kUnknown),
      MakeGet(2, "k", "x", 20, 30),
      MakeGet(2, "k", std::nullopt, 40, 50),
  });
}

TEST(CheckerTest, ReadOfDeletedKey) {
  ExpectNotLinearizable({
      MakePut(1, "k", "a", 0, 10),
      MakeDelete(1, "k", 20, 30),
      MakeGet(2, "k", "a", 40, 50),
  });
}

TEST(CheckerTest, CasFailureWhenItShouldHaveSucceeded) {
  ExpectNotLinearizable({
      MakePut(1, "k", "0", 0, 10),
      MakeCas(2, "k", "0", "1", false, 20, 30),
  });
}

TEST(CheckerTest, OnlyTheBadKeyIsReported) {
  const CheckResult r = Check({
      MakePut(1, "good", "1", 0, 10),
      MakeGet(2, "good", "1", 20, 30),
      MakePut(1, "bad", "1", 0, 10),
      MakeGet(2, "bad", std::nullopt, 20, 30),
  });
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable) << r.Report();
  EXPECT_EQ(r.keys_checked, 1u);  // "bad" sorts first; stops there
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].key, "bad");
  // Positions refer to the checked history.
  EXPECT_EQ(r.problems[0].first_unlinearizable, 3u);
  EXPECT_NE(r.problems[0].report.find("#3"), std::string::npos);
}

TEST(CheckerTest, AllKeysWhenAsked) {
  CheckOptions options;
  options.stop_at_first_failure = false;
  const CheckResult r = CheckHistory(
      {
          MakeGet(2, "a", "x", 20, 30),
          MakeGet(2, "b", "y", 20, 30),
          MakeGet(2, "c", std::nullopt, 20, 30),
      },
      options);
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.keys_checked, 3u);
  EXPECT_EQ(r.problems.size(), 2u);
}

// ---- budget and bad input -----------------------------------------------

// Many concurrent appends of distinct values and a read no order explains:
// every order of the appends is a distinct state, so proving failure needs
// a factorial search.
History HardHistory(int appends) {
  History h;
  for (int i = 0; i < appends; ++i) {
    h.push_back(MakeAppend(i, "k", std::string(1, 'a' + i), 0, 100));
  }
  h.push_back(MakeGet(99, "k", "aa", 200, 300));
  return h;
}

TEST(CheckerTest, BudgetExhaustedIsUnknownNeverLinearizable) {
  CheckOptions options;
  options.max_steps_per_key = 5000;
  const CheckResult r = CheckHistory(HardHistory(16), options);
  EXPECT_EQ(r.verdict, Verdict::kUnknown) << r.Report();
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].verdict, Verdict::kUnknown);
  EXPECT_EQ(r.problems[0].steps, 5000u);
  EXPECT_NE(r.Report().find("budget exhausted"), std::string::npos);
}

TEST(CheckerTest, TimeBudgetExhaustedIsUnknown) {
  // 16 concurrent appends need billions of steps; the step budget is out of
  // reach, so only the 1 ms time budget can end the search.
  CheckOptions options;
  options.max_steps_per_key = std::numeric_limits<uint64_t>::max();
  options.max_time_per_key = std::chrono::milliseconds(1);
  const CheckResult r = CheckHistory(HardHistory(16), options);
  EXPECT_EQ(r.verdict, Verdict::kUnknown) << r.Report();
}

TEST(CheckerTest, SmallHardHistoryIsDecided) {
  // The same shape, small enough to finish (every order of the appends is
  // its own state: about e * 6! configurations).
  const CheckResult r = Check(HardHistory(6));
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable) << r.Report();
}

TEST(CheckerTest, NotLinearizableWinsOverUnknown) {
  CheckOptions options;
  options.max_steps_per_key = 5000;
  options.stop_at_first_failure = false;
  History h = HardHistory(16);
  h.push_back(MakeGet(1, "z", "never", 0, 1));
  const CheckResult r = CheckHistory(h, options);
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable) << r.Report();
  EXPECT_EQ(r.problems.size(), 2u);
}

TEST(CheckerTest, InvalidHistoryIsRejected) {
  Operation bad = MakePut(1, "k", "v", 10, 5);  // returns before invoked
  const CheckResult r = Check({MakePut(1, "k", "a", 0, 1), bad});
  EXPECT_EQ(r.verdict, Verdict::kInvalidHistory);
  EXPECT_NE(r.error.find("operation #1"), std::string::npos) << r.error;

  Operation inf = MakePut(1, "k", "v", 0, kInfinity);  // ok with ret = inf
  EXPECT_EQ(Check({inf}).verdict, Verdict::kInvalidHistory);
}

}  // namespace
}  // namespace sb::lincheck
