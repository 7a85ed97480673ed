// The register model step by step, and a model of another object plugged
// into the same checker.
#include "tests/linearizability/model.h"

#include <gtest/gtest.h>

#include <charconv>
#include <string>

#include "tests/linearizability/checker.h"

namespace sb::lincheck {
namespace {

constexpr Outcome kUnknown = Outcome::kUnknown;

TEST(RegisterModelTest, Semantics) {
  const RegisterModel m;
  const ModelState absent = m.Init();
  const ModelState a = RegisterModel::Encode("a");
  ModelState next;

  EXPECT_TRUE(m.Step(absent, MakeGet(1, "k", std::nullopt, 0, 1), &next));
  EXPECT_EQ(next, absent);
  EXPECT_FALSE(m.Step(absent, MakeGet(1, "k", "", 0, 1), &next))
      << "an empty value is not absence";
  EXPECT_TRUE(m.Step(absent, MakeAppend(1, "k", "a", 0, 1), &next));
  EXPECT_EQ(next, a) << "append to absent = put";
  EXPECT_TRUE(m.Step(a, MakeAppend(1, "k", "b", 0, 1), &next));
  EXPECT_EQ(RegisterModel::Decode(next), "ab");
  EXPECT_TRUE(m.Step(a, MakeDelete(1, "k", 0, 1), &next));
  EXPECT_EQ(next, absent);

  EXPECT_TRUE(
      m.Step(absent, MakeCas(1, "k", std::nullopt, "a", true, 0, 1), &next));
  EXPECT_EQ(next, a);
  EXPECT_FALSE(
      m.Step(a, MakeCas(1, "k", std::nullopt, "b", true, 0, 1), &next));
  EXPECT_TRUE(
      m.Step(a, MakeCas(1, "k", std::nullopt, "b", false, 0, 1), &next));
  EXPECT_EQ(next, a);
  EXPECT_FALSE(m.Step(a, MakeCas(1, "k", "a", "b", false, 0, 1), &next));
  // Unknown outcome: the result is unconstrained; the effect follows state.
  EXPECT_TRUE(
      m.Step(a, MakeCas(1, "k", "a", "b", false, 0, 0, kUnknown), &next));
  EXPECT_EQ(RegisterModel::Decode(next), "b");
  EXPECT_TRUE(
      m.Step(a, MakeCas(1, "k", "x", "b", false, 0, 0, kUnknown), &next));
  EXPECT_EQ(next, a);
}

TEST(RegisterModelTest, ReadOnlyOperations) {
  const RegisterModel m;
  EXPECT_TRUE(m.IsReadOnly(MakeGet(1, "k", "a", 0, 1)));
  EXPECT_TRUE(m.IsReadOnly(MakeCas(1, "k", "a", "b", false, 0, 1)));
  EXPECT_FALSE(m.IsReadOnly(MakeCas(1, "k", "a", "b", true, 0, 1)));
  EXPECT_FALSE(m.IsReadOnly(MakeCas(1, "k", "a", "b", false, 0, 0, kUnknown)))
      << "an unknown cas may have swapped";
  EXPECT_FALSE(m.IsReadOnly(MakePut(1, "k", "a", 0, 1)));
}

TEST(RegisterModelTest, ExplainsReadOfAbsentKey) {
  const CheckResult r = CheckHistory({
      MakePut(1, "k", "a", 0, 10),
      MakeGet(2, "k", std::nullopt, 20, 30),
  });
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(r.problems[0].explanation.find(
                "get returned not-found but no delete could be linearized"),
            std::string::npos)
      << r.problems[0].explanation;
}

// Another object through the same interface: a counter per key. `append`
// with a decimal value adds it; `get` reads the count in decimal.
class CounterModel : public Model {
 public:
  ModelState Init() const override { return "0"; }
  bool Step(const ModelState& state, const Operation& op,
            ModelState* next) const override {
    const long count = Parse(state);
    if (op.kind == OpKind::kGet) {
      if (op.outcome == Outcome::kOk && op.output != state) return false;
      *next = state;
      return true;
    }
    if (op.kind != OpKind::kAppend) return false;
    *next = std::to_string(count + Parse(op.value));
    return true;
  }
  bool IsReadOnly(const Operation& op) const override {
    return op.kind == OpKind::kGet;
  }
  std::string Describe(const ModelState& state) const override {
    return "count " + state;
  }

 private:
  static long Parse(const std::string& s) {
    long v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
};

TEST(PluggableModelTest, CounterHistories) {
  const CounterModel counter;
  // Two concurrent increments; a read between them may see either alone.
  const History good = {
      MakeAppend(1, "c", "1", 0, 50),
      MakeAppend(2, "c", "10", 0, 50),
      MakeGet(3, "c", "10", 10, 20),
      MakeGet(3, "c", "11", 60, 70),
  };
  EXPECT_EQ(CheckHistory(good, counter).verdict, Verdict::kLinearizable);

  // After both returned, a read of 1 lost an increment.
  const History lost = {
      MakeAppend(1, "c", "1", 0, 50),
      MakeAppend(2, "c", "10", 0, 50),
      MakeGet(3, "c", "1", 60, 70),
  };
  const CheckResult r = CheckHistory(lost, counter);
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable) << r.Report();
  EXPECT_EQ(r.problems[0].first_unlinearizable, 2u);
  EXPECT_NE(r.problems[0].report.find("count 11"), std::string::npos)
      << r.problems[0].report;

  // An increment with unknown outcome may or may not have counted.
  const History maybe = {
      MakeAppend(1, "c", "5", 0, 0, Outcome::kUnknown),
      MakeGet(3, "c", "0", 10, 20),
      MakeGet(3, "c", "5", 30, 40),
  };
  EXPECT_EQ(CheckHistory(maybe, counter).verdict, Verdict::kLinearizable);
}

}  // namespace
}  // namespace sb::lincheck
