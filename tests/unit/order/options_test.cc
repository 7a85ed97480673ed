// Order options from the node configuration: the [cluster] session keys,
// their defaults, and the rule that a session outlives a client's retries.
#include <gtest/gtest.h>

#include "host/config/config.h"
#include "host/order/state_machine.h"

namespace sb::order {
namespace {

const char kNode[] = R"(
[node]
id = "n1"
data_dir = "/tmp/n1"
seeds = ["127.0.0.1:7401"]
)";

TEST(OrderOptionsTest, DefaultsFromConfig) {
  auto c = ParseConfig(kNode, "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  OrderOptions o = OrderOptionsFor(c->cluster, 3, {1, 2});
  EXPECT_EQ(o.group_id, 3u);
  EXPECT_EQ(o.shards, 64u);
  EXPECT_EQ(o.session_expiry_ms, 600000u);
  EXPECT_EQ(o.max_sessions_per_shard, 100000u);
  EXPECT_EQ(o.owned, (std::vector<uint16_t>{1, 2}));
}

TEST(OrderOptionsTest, SessionKeysAreReadAndChecked) {
  auto c = ParseConfig(std::string(kNode) + R"(
[cluster]
shards = 8
session_expiry_ms = 60000
max_sessions_per_shard = 50
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  OrderOptions o = OrderOptionsFor(c->cluster, 1, {});
  EXPECT_EQ(o.shards, 8u);
  EXPECT_EQ(o.session_expiry_ms, 60000u);
  EXPECT_EQ(o.max_sessions_per_shard, 50u);

  // Shorter than twice the request timeout: a retry could outlive it.
  auto bad = ParseConfig(std::string(kNode) + R"(
[cluster]
request_timeout_ms = 5000
session_expiry_ms = 9999
)",
                         "test.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("session_expiry_ms"), std::string::npos)
      << bad.status().ToString();
  auto zero = ParseConfig(std::string(kNode) + R"(
[cluster]
max_sessions_per_shard = 0
)",
                          "test.toml");
  EXPECT_FALSE(zero.ok());
}

TEST(OrderOptionsTest, CompactionThresholdsFromConfig) {
  auto c = ParseConfig(std::string(kNode) + R"(
[compaction]
log_entries = 123
log_bytes = 65536
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  GroupOptions g;
  SetCompaction(c->compaction, &g);
  EXPECT_EQ(g.snapshot_every, 123u);
  EXPECT_EQ(g.snapshot_bytes, 65536u);
}

}  // namespace
}  // namespace sb::order
