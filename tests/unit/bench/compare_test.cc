// tools/etcd-compare/compare.py reads shardbearer-bench's JSON: results built
// here (etcd and Shardbearer rows with known numbers) go through the real
// script, and its table and target verdicts are checked.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tools/bench/report.h"

namespace sb::bench {
namespace {

// `ops` successful requests of `latency_ns` each over 10 seconds.
std::unique_ptr<PhaseResult> Phase(OpType type, int ops, uint64_t latency_ns) {
  auto p = std::make_unique<PhaseResult>();
  p->phase = "run";
  p->elapsed_s = 10;
  p->stopped_by = StopReason::kDuration;
  for (int i = 0; i < ops; ++i) {
    p->per_op[int(type)].Record(latency_ns);
    p->all.Record(latency_ns);
  }
  return p;
}

class CompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/sb-bench-compare.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    runs_.open(dir_ + "/runs.tsv");
    runs_ << "target\tworkload\tclients\tjson\tcpu_s\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Add(const std::string& target, const std::string& workload,
           const PhaseResult& p, const std::string& cpu) {
    RunOptions o;
    std::string error;
    ASSERT_TRUE(LookupWorkload(workload, &o.workload, &error));
    o.clients = 64;
    ReportHeader h;
    h.tool = target == "etcd" ? "etcd-bench" : "shardbearer-bench";
    h.target = target;
    const std::string path = dir_ + "/" + target + "-" + workload + ".json";
    std::ofstream(path) << ToJson(h, o, {&p});
    runs_ << target << "\t" << workload << "\t64\t" << path << "\t" << cpu
          << "\n";
  }

  std::string RunScript() {
    runs_.close();
    const std::string cmd = "/usr/bin/python3 " SB_SOURCE_DIR
                            "/tools/etcd-compare/compare.py " +
                            dir_ + "/runs.tsv 2>&1";
    FILE* f = popen(cmd.c_str(), "r");
    EXPECT_NE(f, nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    if (f) {
      EXPECT_EQ(pclose(f), 0) << out;
    }
    return out;
  }

  std::string dir_;
  std::ofstream runs_;
};

TEST_F(CompareTest, TableAndVerdictsFromBothTargets) {
  // etcd: 100 puts/s at 1 ms, 100 gets/s at 1 ms, 10 CPU-s each.
  Add("etcd", "write", *Phase(OpType::kUpdate, 1000, 1000000), "10");
  Add("etcd", "c", *Phase(OpType::kRead, 1000, 1000000), "10");
  // Shardbearer: 300 puts/s at 0.5 ms on 6 CPU-s (CPU per write 0.2x);
  // 200 gets/s (2x, short of the 3x target).
  Add("shardbearer", "write", *Phase(OpType::kUpdate, 3000, 500000), "6");
  Add("shardbearer", "c", *Phase(OpType::kRead, 2000, 500000), "6");
  const std::string out = RunScript();
  EXPECT_NE(out.find("| 64 | 100 | 1.00 | 1.00 | 100 | 0 | 300 | 0.50 | "
                     "0.50 | 500 | 0 | 3.00 | 0.50 | 0.20 |"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("| write | 64 | etcd | 1.00 | 1.00 | 1.00 | 1.00 |"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("| c | 64 | sb | 0.50 | 0.50 | 0.50 | 0.50 |"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("write throughput >= 2x etcd: 3.00x — met"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("linearizable read throughput >= 3x etcd: 2.00x — NOT "
                     "met"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("write p99 no worse than etcd: 0.50x — met"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("server CPU per write <= 1/2 of etcd: 0.20x — met"),
            std::string::npos)
      << out;
}

TEST_F(CompareTest, EtcdOnlySaysShardbearerIsNotMeasured) {
  Add("etcd", "write", *Phase(OpType::kUpdate, 1000, 1000000), "");
  const std::string out = RunScript();
  EXPECT_NE(out.find("| 64 | 100 | 1.00 | 1.00 | n/a | 0 |"), std::string::npos)
      << out;
  EXPECT_NE(out.find("Shardbearer: not measured"), std::string::npos) << out;
}

}  // namespace
}  // namespace sb::bench
