// shardbearer-bench against the node's real API server (host/api) on
// 127.0.0.1, serving the start-up handlers: every Kv request is answered
// NotReady, which the benchmark counts as not_ready with no throughput, and
// the server's own limit checks come back as too_large.
#include "host/api/api_server.h"

#include <gtest/gtest.h>

#include <string>

#include "host/api/startup_handlers.h"
#include "tools/bench/runner.h"
#include "tools/bench/shardbearer_target.h"

namespace sb::bench {
namespace {

class ApiServerBenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<api::ApiServer>(
        std::make_shared<api::NotReadyKvHandler>("no order serves data yet"),
        std::make_shared<api::StartupAdminHandler>(api::NodeInfo{}));
    api::ApiServerOptions o;
    o.listen_address = "127.0.0.1:0";
    o.limits.max_value_bytes = 1024;
    o.log = [](int, const std::string&) {};
    ASSERT_TRUE(server_->Start(o).ok());
    ShardbearerTargetOptions t;
    t.addresses = {server_->address()};
    target_ = MakeShardbearerTarget(t);
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<api::ApiServer> server_;
  std::unique_ptr<Target> target_;
};

TEST_F(ApiServerBenchTest, NotReadyNodeGivesErrorsAndNoThroughput) {
  RunOptions o;
  std::string error;
  ASSERT_TRUE(LookupWorkload("f", &o.workload, &error));
  o.records = 50;
  o.clients = 2;
  o.duration_s = 3600;
  o.max_ops = 200;
  o.error_backoff_ms = 0;
  auto load = RunLoad(*target_, o);
  EXPECT_EQ(load->ops(), 0u);
  EXPECT_EQ(load->errors[int(ErrorKind::kNotReady)], o.records);
  auto run = RunWorkload(*target_, o);
  EXPECT_EQ(run->stopped_by, StopReason::kMaxOps);
  EXPECT_EQ(run->ops(), 0u);
  EXPECT_EQ(run->errors[int(ErrorKind::kNotReady)], o.max_ops);
  EXPECT_EQ(run->errors_total(), o.max_ops);
  EXPECT_NE(run->first_error[int(ErrorKind::kNotReady)].find(
                "no order serves data yet"),
            std::string::npos)
      << run->first_error[int(ErrorKind::kNotReady)];
}

TEST_F(ApiServerBenchTest, ServerLimitsComeBackAsTooLarge) {
  auto s = target_->Open(0);
  EXPECT_EQ(s->Put("k", std::string(1025, 'v')).kind, ErrorKind::kTooLarge);
  EXPECT_EQ(s->Put("k", std::string(1024, 'v')).kind, ErrorKind::kNotReady);
  bool found;
  std::string v;
  EXPECT_EQ(s->Get("", &found, &v).kind, ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace sb::bench
