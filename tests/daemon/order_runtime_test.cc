// The single-node order runtime in one process, over storage-mem: the Kv
// handler's answers and typed errors (stale write_id, append past
// max_value_bytes), a restart on the same storage that keeps data and
// sessions without bootstrapping again, and a stopped runtime that answers
// Unavailable / NotReady instead of touching a stopped driver. Runs on raft
// and solo.
#include "host/radiant/order_runtime.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "host/log/host_services.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"
#include "host/radiant/kv_handler.h"

namespace sb::radiant {
namespace {

namespace wire = api::wire;

wire::WriteId Id(int64_t client, int64_t seq) {
  wire::WriteId id;
  id.client_id = client;
  id.sequence = seq;
  return id;
}

class OrderRuntimeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    PluginLoader loader;
    auto mem = loader.Load("storage-mem", SB_KIND_STORAGE);
    ASSERT_TRUE(mem.ok()) << mem.status().ToString();
    auto consensus = loader.Load(GetParam(), SB_KIND_CONSENSUS);
    ASSERT_TRUE(consensus.ok()) << consensus.status().ToString();
    consensus_ = *consensus;
    storage_hs_ = std::make_unique<PluginHostServices>("storage-mem");
    consensus_hs_ = std::make_unique<PluginHostServices>(GetParam());
    sb_config empty{sizeof(sb_config), nullptr, 0};
    auto st = Storage::Open(*mem, *storage_hs_->table(), "", empty);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    storage_ = std::make_unique<Storage>(std::move(st).value());
    StartRuntime();
  }

  void TearDown() override {
    handler_.reset();
    runtime_.reset();
  }

  void StartRuntime() {
    OrderRuntimeOptions o;
    o.node_number = 42;
    o.cluster.shards = 8;
    o.cluster.tick_ms = 10;
    o.cluster.request_timeout_ms = 10000;
    o.max_value_bytes = 8;
    auto rt = OrderRuntime::Start(o, storage_.get(), consensus_,
                                  consensus_hs_->table());
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    runtime_ = std::move(rt).value();
    KvHandlerOptions ko;
    ko.request_timeout_ms = o.cluster.request_timeout_ms;
    ko.max_value_bytes = 8;
    ko.tick_ms = o.cluster.tick_ms;
    handler_ = std::make_shared<OrderKvHandler>(runtime_.get(), ko);
  }

  api::ApiOr<wire::PutResult> Put(const std::string& k, const std::string& v,
                                  wire::WriteId id) {
    wire::PutRequest r;
    r.key = k;
    r.value = v;
    r.write_id = id;
    return handler_->Put(r);
  }
  api::ApiOr<wire::AppendResult> Append(const std::string& k,
                                        const std::string& v,
                                        wire::WriteId id) {
    wire::AppendRequest r;
    r.key = k;
    r.value = v;
    r.write_id = id;
    return handler_->Append(r);
  }
  // The value, "<absent>", or "<error: message>".
  std::string Get(const std::string& k) {
    wire::GetRequest r;
    r.key = k;
    auto g = handler_->Get(r);
    if (!g.ok()) return "<error: " + g.error().message + ">";
    return g.value().found ? g.value().value : "<absent>";
  }

  std::shared_ptr<PluginLibrary> consensus_;
  std::unique_ptr<PluginHostServices> storage_hs_;
  std::unique_ptr<PluginHostServices> consensus_hs_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<OrderRuntime> runtime_;
  std::shared_ptr<OrderKvHandler> handler_;
};

TEST_P(OrderRuntimeTest, AnswersAndTypedErrors) {
  // A read on a brand-new order has a read point (start marker or no-op).
  EXPECT_EQ(Get("k"), "<absent>");
  ASSERT_TRUE(Put("k", "v1", Id(5, 1)).ok());
  EXPECT_EQ(Get("k"), "v1");

  auto a = Append("k", "23", Id(5, 2));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().new_size, 4);
  // The retry of sequence 2 answers the first outcome; sequence 1 is stale.
  auto again = Append("k", "23", Id(5, 2));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().applied_index, a.value().applied_index);
  auto stale = Put("k", "old", Id(5, 1));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind, api::ApiError::Kind::kInvalidArgument);
  EXPECT_EQ(Get("k"), "v123");

  // max_value_bytes is 8: an append that would make 9 bytes is refused
  // and writes nothing.
  auto big = Append("k", "45678", Id(5, 3));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().kind, api::ApiError::Kind::kTooLarge);
  EXPECT_EQ(big.error().max_allowed, 8);
  EXPECT_EQ(Get("k"), "v123");

  wire::MultiGetRequest mg;
  mg.keys = {"k", "missing", "k"};
  auto m = handler_->MultiGet(mg);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m.value().results.size(), 3u);
  EXPECT_EQ(m.value().results[0].value, "v123");
  EXPECT_FALSE(m.value().results[1].found);
  EXPECT_EQ(m.value().results[2].value, "v123");
}

TEST_P(OrderRuntimeTest, RestartKeepsDataAndSessions) {
  ASSERT_TRUE(Put("a", "1", Id(9, 1)).ok());
  auto first = Append("b", "x", Id(9, 2));
  ASSERT_TRUE(first.ok());
  handler_.reset();
  runtime_.reset();

  StartRuntime();
  if (HasFatalFailure()) return;
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("b"), "x");
  auto retry = Append("b", "x", Id(9, 2));
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry.value().applied_index, first.value().applied_index);
  EXPECT_EQ(Get("b"), "x");
}

TEST_P(OrderRuntimeTest, StoppedRuntimeAnswersNotReady) {
  ASSERT_TRUE(Put("a", "1", Id(3, 1)).ok());
  runtime_->Stop();
  EXPECT_FALSE(runtime_->failure().ok());
  auto p = Put("a", "2", Id(3, 2));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, api::ApiError::Kind::kNotReady);
  wire::GetRequest g;
  g.key = "a";
  auto r = handler_->Get(g);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, api::ApiError::Kind::kNotReady);
  runtime_->Stop();  // idempotent
}

INSTANTIATE_TEST_SUITE_P(Consensus, OrderRuntimeTest,
                         ::testing::Values("raft", "solo"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sb::radiant
