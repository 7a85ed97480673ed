// Runner bounds, error accounting and the JSON report, against an in-process
// fake target (no network).
#include "tools/bench/runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <map>
#include <mutex>
#include <sstream>

#include "tools/bench/report.h"

namespace sb::bench {
namespace {

// An in-memory store. Every `fail_every`-th request of a session (when
// non-zero) fails with `fail_kind` instead of running.
class FakeTarget : public Target {
 public:
  int fail_every = 0;
  ErrorKind fail_kind = ErrorKind::kNotReady;
  std::atomic<uint64_t> requests{0};

  std::string name() const override { return "fake"; }
  std::unique_ptr<Session> Open(int) override {
    return std::make_unique<FakeSession>(this);
  }

  size_t size() {
    std::lock_guard<std::mutex> l(mu_);
    return data_.size();
  }
  bool Has(const std::string& key, size_t value_size) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = data_.find(key);
    return it != data_.end() && it->second.size() == value_size;
  }

 private:
  class FakeSession : public Session {
   public:
    explicit FakeSession(FakeTarget* t) : t_(t) {}
    Outcome Get(const std::string& key, bool* found,
                std::string* value) override {
      if (Outcome o = Begin(); !o.ok()) return o;
      std::lock_guard<std::mutex> l(t_->mu_);
      auto it = t_->data_.find(key);
      *found = it != t_->data_.end();
      if (*found) *value = it->second;
      return Outcome::Ok();
    }
    Outcome Put(const std::string& key, const std::string& value) override {
      if (Outcome o = Begin(); !o.ok()) return o;
      std::lock_guard<std::mutex> l(t_->mu_);
      t_->data_[key] = value;
      return Outcome::Ok();
    }
    Outcome CompareAndSet(const std::string& key,
                          const std::optional<std::string>& expected,
                          const std::string& new_value,
                          bool* succeeded) override {
      if (Outcome o = Begin(); !o.ok()) return o;
      std::lock_guard<std::mutex> l(t_->mu_);
      auto it = t_->data_.find(key);
      const bool match =
          expected ? (it != t_->data_.end() && it->second == *expected)
                   : it == t_->data_.end();
      *succeeded = match;
      if (match) t_->data_[key] = new_value;
      return Outcome::Ok();
    }

   private:
    Outcome Begin() {
      ++t_->requests;
      ++n_;
      if (t_->fail_every > 0 && n_ % t_->fail_every == 0) {
        return {t_->fail_kind, "injected"};
      }
      return Outcome::Ok();
    }
    FakeTarget* t_;
    uint64_t n_ = 0;
  };

  std::mutex mu_;
  std::map<std::string, std::string> data_;
};

RunOptions Options(const char* workload) {
  RunOptions o;
  std::string error;
  EXPECT_TRUE(LookupWorkload(workload, &o.workload, &error)) << error;
  o.distribution = o.workload.default_distribution;
  o.records = 200;
  o.value_size = 32;
  o.clients = 4;
  o.duration_s = 3600;  // the op-count bound ends these runs
  o.error_backoff_ms = 0;
  return o;
}

TEST(RunnerTest, LoadInsertsEveryRecordOnce) {
  FakeTarget t;
  RunOptions o = Options("a");
  ASSERT_EQ(ValidateOptions(o), "");
  auto r = RunLoad(t, o);
  EXPECT_EQ(r->phase, "load");
  EXPECT_EQ(r->ops(), o.records);
  EXPECT_EQ(r->per_op[int(OpType::kInsert)].count(), o.records);
  EXPECT_EQ(r->errors_total(), 0u);
  EXPECT_EQ(r->stopped_by, StopReason::kCompleted);
  EXPECT_EQ(t.size(), o.records);
  std::string key;
  for (uint64_t i = 0; i < o.records; ++i) {
    ASSERT_TRUE(FormatKey(i, o.key_size, &key));
    EXPECT_TRUE(t.Has(key, o.value_size)) << key;
  }
}

TEST(RunnerTest, OpCountBoundIsExact) {
  FakeTarget t;
  RunOptions o = Options("a");
  o.max_ops = 5000;
  RunLoad(t, o);
  const uint64_t before = t.requests;
  auto r = RunWorkload(t, o);
  EXPECT_EQ(r->stopped_by, StopReason::kMaxOps);
  EXPECT_EQ(r->ops(), o.max_ops);
  EXPECT_EQ(t.requests - before, o.max_ops);
  EXPECT_EQ(r->read_misses, 0u);  // every key was loaded
  const uint64_t reads = r->per_op[int(OpType::kRead)].count();
  EXPECT_EQ(reads + r->per_op[int(OpType::kUpdate)].count(), o.max_ops);
  EXPECT_NEAR(reads / double(o.max_ops), 0.5, 0.05);
}

TEST(RunnerTest, DurationBoundStopsARunWithoutOpCount) {
  FakeTarget t;
  RunOptions o = Options("c");
  o.duration_s = 0.2;
  o.max_ops = 0;
  auto r = RunWorkload(t, o);
  EXPECT_EQ(r->stopped_by, StopReason::kDuration);
  EXPECT_GE(r->elapsed_s, o.duration_s);
  EXPECT_GT(r->ops(), 0u);
  // Nothing loaded: every read misses, none is an error.
  EXPECT_EQ(r->read_misses, r->ops());
  EXPECT_EQ(r->errors_total(), 0u);
}

TEST(RunnerTest, WarmupRequestsAreNotMeasured) {
  FakeTarget t;
  RunOptions o = Options("c");
  o.warmup_s = 1.0;  // long enough for the threads to start inside it
  o.max_ops = 1000;
  auto r = RunWorkload(t, o);
  EXPECT_EQ(r->ops(), 1000u);
  EXPECT_GT(t.requests.load(), 1000u);
}

TEST(RunnerTest, ErrorsAreCountedByKind) {
  FakeTarget t;
  t.fail_every = 3;
  t.fail_kind = ErrorKind::kWrongLeader;
  RunOptions o = Options("a");
  o.clients = 1;
  o.max_ops = 300;
  auto r = RunWorkload(t, o);
  EXPECT_EQ(r->errors[int(ErrorKind::kWrongLeader)], 100u);
  EXPECT_EQ(r->errors_total(), 100u);
  EXPECT_EQ(r->ops(), 200u);
  EXPECT_EQ(r->first_error[int(ErrorKind::kWrongLeader)], "injected");
}

TEST(RunnerTest, ReadModifyWriteUsesCompareAndSet) {
  FakeTarget t;
  RunOptions o = Options("f");
  o.clients = 1;  // no concurrent writer: every CAS must succeed
  o.max_ops = 2000;
  RunLoad(t, o);
  auto r = RunWorkload(t, o);
  const uint64_t rmw = r->per_op[int(OpType::kReadModifyWrite)].count();
  EXPECT_NEAR(rmw / 2000.0, 0.5, 0.05);
  EXPECT_EQ(r->cas_conflicts, 0u);
  EXPECT_EQ(r->ops(), 2000u);
}

TEST(RunnerTest, InsertsOfWorkloadDCreateNewRecords) {
  FakeTarget t;
  RunOptions o = Options("d");
  o.max_ops = 4000;
  RunLoad(t, o);
  auto r = RunWorkload(t, o);
  const uint64_t inserts = r->per_op[int(OpType::kInsert)].count();
  EXPECT_GT(inserts, 0u);
  EXPECT_EQ(t.size(), o.records + inserts);
}

TEST(RunnerTest, OptionsAreValidated) {
  RunOptions o = Options("a");
  EXPECT_EQ(ValidateOptions(o), "");
  o.key_size = 5;  // "user199" needs 7
  EXPECT_NE(ValidateOptions(o), "");
  o = Options("a");
  o.duration_s = 0;
  EXPECT_NE(ValidateOptions(o), "");
  o = Options("a");
  o.clients = 0;
  EXPECT_NE(ValidateOptions(o), "");
}

namespace pt = boost::property_tree;

TEST(ReportTest, JsonParsesBackWithTheNumbers) {
  FakeTarget t;
  t.fail_every = 10;
  t.fail_kind = ErrorKind::kNotReady;
  RunOptions o = Options("b");
  o.max_ops = 1000;
  o.clients = 2;
  auto load = RunLoad(t, o);
  auto run = RunWorkload(t, o);
  ReportHeader h;
  h.target = "fake";
  h.endpoints = {"127.0.0.1:1", "odd \"name\"\n\\"};
  const std::string json = ToJson(h, o, {load.get(), run.get()});

  pt::ptree root;
  std::istringstream in(json);
  ASSERT_NO_THROW(pt::read_json(in, root)) << json;
  EXPECT_EQ(root.get<std::string>("format"), "shardbearer-bench/1");
  EXPECT_EQ(root.get<std::string>("target"), "fake");
  EXPECT_EQ(root.get<std::string>("workload"), "b");
  EXPECT_EQ(root.get<std::string>("distribution"), "zipfian");
  EXPECT_EQ(root.get<int>("clients"), 2);
  std::vector<std::string> endpoints;
  for (auto& e : root.get_child("endpoints")) {
    endpoints.push_back(e.second.get_value<std::string>());
  }
  EXPECT_EQ(endpoints, h.endpoints);

  std::vector<pt::ptree> phases;
  for (auto& p : root.get_child("phases")) phases.push_back(p.second);
  ASSERT_EQ(phases.size(), 2u);
  EXPECT_EQ(phases[0].get<std::string>("phase"), "load");
  const pt::ptree& r = phases[1];
  EXPECT_EQ(r.get<std::string>("phase"), "run");
  EXPECT_EQ(r.get<std::string>("stopped_by"), "max_ops");
  EXPECT_EQ(r.get<uint64_t>("ops"), run->ops());
  EXPECT_EQ(r.get<uint64_t>("errors.not_ready"),
            run->errors[int(ErrorKind::kNotReady)]);
  EXPECT_GT(r.get<uint64_t>("errors.not_ready"), 0u);
  EXPECT_EQ(r.get<uint64_t>("errors_total"), run->errors_total());
  EXPECT_EQ(r.get<uint64_t>("operations.read.ops"),
            run->per_op[int(OpType::kRead)].count());
  EXPECT_EQ(r.get<uint64_t>("operations.update.ops"),
            run->per_op[int(OpType::kUpdate)].count());
  EXPECT_FALSE(r.get_child_optional("operations.insert"));
  const double p50 = r.get<double>("latency_us.p50");
  const double p99 = r.get<double>("latency_us.p99");
  const double max = r.get<double>("latency_us.max");
  EXPECT_LE(p50, p99);
  EXPECT_LE(p99, max);
  EXPECT_NEAR(max, run->all.max() / 1000.0, 0.001);

  std::ostringstream summary;
  PrintSummary(summary, *run);
  EXPECT_NE(summary.str().find("not_ready="), std::string::npos);
}

}  // namespace
}  // namespace sb::bench
