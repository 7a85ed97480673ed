// FormatConfig() writes a document that parses back to the same values.
#include <gtest/gtest.h>

#include <filesystem>

#include "host/config/config.h"

namespace sb {
namespace {

namespace fs = std::filesystem;

void ExpectSamePlugin(const PluginSection& a, const PluginSection& b) {
  EXPECT_EQ(a.table, b.table);
  EXPECT_EQ(a.plugin, b.plugin);
  EXPECT_EQ(a.required, b.required);
  EXPECT_EQ(a.join_port, b.join_port);
  ASSERT_EQ(a.entries.size(), b.entries.size()) << a.table;
  for (size_t i = 0; i < a.entries.size(); ++i) {
    EXPECT_EQ(a.entries[i].key, b.entries[i].key);
    EXPECT_EQ(a.entries[i].type, b.entries[i].type) << a.entries[i].key;
    EXPECT_EQ(a.entries[i].value, b.entries[i].value) << a.entries[i].key;
  }
}

void ExpectSameConfig(const NodeConfig& a, const NodeConfig& b) {
  EXPECT_EQ(a.node.id, b.node.id);
  EXPECT_EQ(a.node.data_dir, b.node.data_dir);
  EXPECT_EQ(a.node.listen_peer, b.node.listen_peer);
  EXPECT_EQ(a.node.listen_client, b.node.listen_client);
  EXPECT_EQ(a.node.advertise_peer, b.node.advertise_peer);
  EXPECT_EQ(a.node.advertise_client, b.node.advertise_client);
  EXPECT_EQ(a.node.seeds, b.node.seeds);
  EXPECT_EQ(a.node.single_node, b.node.single_node);
  EXPECT_EQ(a.node.client_tls_cert_file, b.node.client_tls_cert_file);
  EXPECT_EQ(a.node.client_tls_key_file, b.node.client_tls_key_file);
  EXPECT_EQ(a.node.client_tls_ca_file, b.node.client_tls_ca_file);
  EXPECT_EQ(a.cluster.shards, b.cluster.shards);
  EXPECT_EQ(a.cluster.replication_factor, b.cluster.replication_factor);
  EXPECT_EQ(a.cluster.council_size, b.cluster.council_size);
  EXPECT_EQ(a.cluster.bootstrap_expect, b.cluster.bootstrap_expect);
  EXPECT_EQ(a.cluster.tick_ms, b.cluster.tick_ms);
  EXPECT_EQ(a.cluster.failure_timeout_ms, b.cluster.failure_timeout_ms);
  EXPECT_EQ(a.cluster.poll_interval_ms, b.cluster.poll_interval_ms);
  EXPECT_EQ(a.cluster.request_timeout_ms, b.cluster.request_timeout_ms);
  EXPECT_EQ(a.limits.max_key_bytes, b.limits.max_key_bytes);
  EXPECT_EQ(a.limits.max_value_bytes, b.limits.max_value_bytes);
  EXPECT_EQ(a.limits.max_frame_bytes, b.limits.max_frame_bytes);
  EXPECT_EQ(a.limits.max_batch_ops, b.limits.max_batch_ops);
  EXPECT_EQ(a.compaction.log_entries, b.compaction.log_entries);
  EXPECT_EQ(a.compaction.log_bytes, b.compaction.log_bytes);
  EXPECT_EQ(a.logging.level, b.logging.level);
  EXPECT_EQ(a.logging.sink, b.logging.sink);
  EXPECT_EQ(a.logging.file, b.logging.file);
  EXPECT_EQ(a.logging.rotate_bytes, b.logging.rotate_bytes);
  EXPECT_EQ(a.logging.rotate_files, b.logging.rotate_files);
  EXPECT_EQ(a.logging.pattern, b.logging.pattern);
  EXPECT_EQ(a.plugins.dirs, b.plugins.dirs);
  EXPECT_EQ(a.metrics.listen, b.metrics.listen);
  ExpectSamePlugin(a.storage, b.storage);
  ExpectSamePlugin(a.consensus, b.consensus);
  ExpectSamePlugin(a.transport, b.transport);
  ASSERT_EQ(a.classifier.has_value(), b.classifier.has_value());
  if (a.classifier) ExpectSamePlugin(*a.classifier, *b.classifier);
}

void ExpectRoundTrip(const NodeConfig& original) {
  const std::string text = FormatConfig(original);
  StatusOr<NodeConfig> again = ParseConfig(text, "formatted.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
  ExpectSameConfig(original, *again);
  EXPECT_EQ(FormatConfig(*again), text);
}

TEST(FormatConfigTest, ExamplesRoundTrip) {
  for (const auto& entry :
       fs::recursive_directory_iterator(SB_CONFIG_EXAMPLES_DIR)) {
    if (entry.path().extension() != ".toml") continue;
    SCOPED_TRACE(entry.path().string());
    StatusOr<NodeConfig> c = LoadConfigFile(entry.path().string());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ExpectRoundTrip(*c);
  }
}

TEST(FormatConfigTest, EveryKindOfValueRoundTrips) {
  StatusOr<NodeConfig> c = ParseConfig(R"(
[node]
id = "n1"
data_dir = "/data/with \"quotes\" and \\ and tab\t and é"
listen_peer = "[::]:7400"
advertise_peer = "[2001:db8::1]:7400"
seeds = ["Node2.Example.com:7400", "10.0.0.3:7400"]
client_tls_cert_file = "/tls/node.pem"
client_tls_key_file = "/tls/node.key"
client_tls_ca_file = "/tls/ca.pem"
[cluster]
shards = 7
tick_ms = 10
failure_timeout_ms = 2000
poll_interval_ms = 100
[logging]
sink = "file"
file = "/var/log/x.log"
rotate_bytes = 8192
level = "trace"
pattern = "%v"
[plugins]
dirs = ["/a", "b c"]
[storage]
plugin = "/opt/plugins/storage-x.so"
f1 = 3.0
f2 = 1e300
f3 = -inf
f4 = nan
i = -42
b = false
when = 1979-05-27
at = 07:32:00
arr = [1, 2.5, "x"]
empty = []
"odd key" = "v"
[storage.deep.er]
"x.y" = 1
[consensus]
pre_vote = true
[classifier]
plugin = "bpf-qdisc"
required = true
allow = ["10.0.0.0/8", "192.168.0.0/16"]
)",
                                       "in.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_NE(c->storage.Find("f1"), nullptr);
  EXPECT_EQ(c->storage.Find("f1")->value, "3.0");  // stays a float
  ExpectRoundTrip(*c);
}

}  // namespace
}  // namespace sb
