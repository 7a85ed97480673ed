// Valid configurations: the example files, defaults, and what the loader
// fills in.
#include "host/config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sb {
namespace {

namespace fs = std::filesystem;

const char kMinimal[] = R"(
[node]
id = "n1"
data_dir = "/tmp/n1"
seeds = ["127.0.0.1:7401"]
)";

NodeConfig MustParse(const std::string& text) {
  StatusOr<NodeConfig> c = ParseConfig(text, "test.toml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : NodeConfig{};
}

TEST(ConfigExamplesTest, EveryExampleFileValidates) {
  const fs::path dir = SB_CONFIG_EXAMPLES_DIR;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    StatusOr<NodeConfig> c = LoadConfigFile(entry.path().string());
    EXPECT_TRUE(c.ok()) << entry.path() << ": " << c.status().ToString();
  }
  // shardbearer.toml, single-node.toml, local-cluster/node{1,2,3}.toml.
  EXPECT_GE(files, 5);
}

TEST(ConfigExamplesTest, LocalClusterNodesShareOneLayout) {
  const fs::path dir = fs::path(SB_CONFIG_EXAMPLES_DIR) / "local-cluster";
  for (int i = 1; i <= 3; ++i) {
    StatusOr<NodeConfig> c =
        LoadConfigFile((dir / ("node" + std::to_string(i) + ".toml")).string());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->node.id, "node" + std::to_string(i));
    EXPECT_EQ(c->node.listen_peer.port, 7400 + i);
    EXPECT_EQ(c->node.listen_client.port, 7500 + i);
    EXPECT_TRUE(c->node.seeds.empty());
    ASSERT_EQ(c->layout.radiants.size(), 3u);
    for (int j = 1; j <= 3; ++j) {
      const LayoutRadiant& r = c->layout.radiants[j - 1];
      EXPECT_EQ(r.id, "node" + std::to_string(j));
      EXPECT_EQ(r.order, 1u);
      EXPECT_EQ(r.peer.port, 7400 + j);
      EXPECT_EQ(r.client.port, 7500 + j);
    }
  }
}

TEST(ConfigExamplesTest, SingleNodeImpliesReplicationOne) {
  StatusOr<NodeConfig> c = LoadConfigFile(
      (fs::path(SB_CONFIG_EXAMPLES_DIR) / "single-node.toml").string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->node.single_node);
  EXPECT_TRUE(c->node.seeds.empty());
  EXPECT_EQ(c->cluster.replication_factor, 1u);
  EXPECT_EQ(c->cluster.bootstrap_expect, 1u);
}

TEST(ConfigExamplesTest, DocumentedExampleValidates) {
  // The ```toml block of docs/config.md.
  std::ifstream in(SB_CONFIG_DOC);
  ASSERT_TRUE(in.good()) << SB_CONFIG_DOC;
  std::string line, toml;
  bool inside = false;
  int blocks = 0;
  while (std::getline(in, line)) {
    if (line == "```toml") {
      inside = true;
      ++blocks;
    } else if (inside && line == "```") {
      inside = false;
    } else if (inside) {
      toml += line + "\n";
    }
  }
  ASSERT_EQ(blocks, 1);
  StatusOr<NodeConfig> c = ParseConfig(toml, "docs/config.md");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node.advertise_peer.ToString(), "10.0.0.1:7400");
  ASSERT_TRUE(c->classifier.has_value());
}

TEST(ConfigTest, DefaultsFillWhatTheFileLeavesOut) {
  NodeConfig c = MustParse(kMinimal);
  EXPECT_EQ(c.source, "test.toml");
  EXPECT_EQ(c.node.id, "n1");
  EXPECT_EQ(c.node.data_dir, "/tmp/n1");
  EXPECT_EQ(c.node.listen_peer.ToString(), "127.0.0.1:7400");
  EXPECT_EQ(c.node.listen_client.ToString(), "127.0.0.1:7500");
  EXPECT_EQ(c.node.advertise_peer, c.node.listen_peer);
  EXPECT_EQ(c.node.advertise_client, c.node.listen_client);
  EXPECT_FALSE(c.node.single_node);
  const ClusterOptions def_cluster;
  EXPECT_EQ(c.cluster.shards, def_cluster.shards);
  EXPECT_EQ(c.cluster.shards, 64u);
  EXPECT_EQ(c.cluster.replication_factor, 3u);
  EXPECT_EQ(c.cluster.council_size, 3u);
  EXPECT_EQ(c.cluster.bootstrap_expect, 3u);
  EXPECT_EQ(c.cluster.tick_ms, 100u);
  EXPECT_EQ(c.cluster.failure_timeout_ms, 10000u);
  EXPECT_EQ(c.cluster.poll_interval_ms, 1000u);
  EXPECT_EQ(c.cluster.request_timeout_ms, 5000u);
  EXPECT_EQ(c.limits.max_key_bytes, 4096u);
  EXPECT_EQ(c.limits.max_value_bytes, 1u << 20);
  EXPECT_EQ(c.limits.max_frame_bytes, 16u << 20);
  EXPECT_EQ(c.limits.max_batch_ops, 1024u);
  EXPECT_EQ(c.compaction.log_entries, 100000u);
  EXPECT_EQ(c.compaction.log_bytes, 64u << 20);
  EXPECT_EQ(c.logging.level, LogLevel::kInfo);
  EXPECT_EQ(c.logging.sink, LogSink::kStderr);
  EXPECT_EQ(c.logging.pattern, kDefaultLogPattern);
  EXPECT_TRUE(c.plugins.dirs.empty());
  EXPECT_EQ(c.storage.plugin, "storage-rocksdb");
  EXPECT_EQ(c.consensus.plugin, "raft");
  EXPECT_EQ(c.transport.plugin, "transport-thrift");
  EXPECT_FALSE(c.storage.present);
  EXPECT_TRUE(c.storage.entries.empty());
  EXPECT_FALSE(c.classifier.has_value());
}

TEST(ConfigTest, ReadsEveryHostKey) {
  NodeConfig c = MustParse(R"(
[node]
id = "a.b_c-1"
data_dir = "data"
listen_peer = "0.0.0.0:8400"
listen_client = "[::]:8500"
advertise_peer = "node1.example.com:8400"
advertise_client = "[2001:db8::1]:8500"
seeds = ["node2.example.com:8400", "10.0.0.3:8400"]
[cluster]
shards = 128
replication_factor = 5
council_size = 5
bootstrap_expect = 5
tick_ms = 50
failure_timeout_ms = 3000
poll_interval_ms = 500
request_timeout_ms = 2000
[limits]
max_key_bytes = 1024
max_value_bytes = 65536
max_frame_bytes = 1048576
max_batch_ops = 16
[compaction]
log_entries = 10
log_bytes = 4096
[logging]
level = "debug"
sink = "file"
file = "/var/log/sb.log"
rotate_bytes = 1048576
rotate_files = 3
pattern = "%v"
[plugins]
dirs = ["/opt/sb/plugins", "plugins"]
[storage]
plugin = "./build/plugins/storage-mem.so"
[classifier]
plugin = "bpf-qdisc"
required = true
)");
  EXPECT_EQ(c.node.id, "a.b_c-1");
  EXPECT_EQ(c.node.data_dir, "data");
  EXPECT_TRUE(c.node.listen_peer.IsWildcard());
  EXPECT_EQ(c.node.advertise_peer.ToString(), "node1.example.com:8400");
  EXPECT_EQ(c.node.advertise_client.ToString(), "[2001:db8::1]:8500");
  ASSERT_EQ(c.node.seeds.size(), 2u);
  EXPECT_EQ(c.node.seeds[1].ToString(), "10.0.0.3:8400");
  EXPECT_EQ(c.cluster.shards, 128u);
  EXPECT_EQ(c.cluster.replication_factor, 5u);
  EXPECT_EQ(c.cluster.council_size, 5u);
  EXPECT_EQ(c.cluster.bootstrap_expect, 5u);
  EXPECT_EQ(c.cluster.tick_ms, 50u);
  EXPECT_EQ(c.cluster.failure_timeout_ms, 3000u);
  EXPECT_EQ(c.cluster.poll_interval_ms, 500u);
  EXPECT_EQ(c.cluster.request_timeout_ms, 2000u);
  EXPECT_EQ(c.limits.max_key_bytes, 1024u);
  EXPECT_EQ(c.limits.max_value_bytes, 65536u);
  EXPECT_EQ(c.limits.max_frame_bytes, 1048576u);
  EXPECT_EQ(c.limits.max_batch_ops, 16u);
  EXPECT_EQ(c.compaction.log_entries, 10u);
  EXPECT_EQ(c.compaction.log_bytes, 4096u);
  EXPECT_EQ(c.logging.level, LogLevel::kDebug);
  EXPECT_EQ(c.logging.sink, LogSink::kFile);
  EXPECT_EQ(c.logging.file, "/var/log/sb.log");
  EXPECT_EQ(c.logging.rotate_bytes, 1048576u);
  EXPECT_EQ(c.logging.rotate_files, 3u);
  EXPECT_EQ(c.logging.pattern, "%v");
  EXPECT_EQ(c.plugins.dirs,
            (std::vector<std::string>{"/opt/sb/plugins", "plugins"}));
  EXPECT_EQ(c.storage.plugin, "./build/plugins/storage-mem.so");
  EXPECT_TRUE(c.storage.PluginIsPath());
  ASSERT_TRUE(c.classifier.has_value());
  EXPECT_EQ(c.classifier->plugin, "bpf-qdisc");
  EXPECT_TRUE(c.classifier->required);
  EXPECT_TRUE(c.classifier->entries.empty());
}

TEST(ConfigTest, PluginKeysAreKeptWithTypeAndPosition) {
  NodeConfig c = MustParse(std::string(kMinimal) + R"(
[storage]
plugin = "storage-rocksdb"
sync = true
block_cache_mb = 256
bloom_bits = 9.5
name = "main"
[storage.tls]
ca_file = "/etc/ca.pem"
ports = [1, 2, 3]
[transport]
peers = ["a", "b"]
empty = []
when = 1979-05-27T07:32:00Z
inline = { x = 1, y = { z = "deep" } }
)");
  EXPECT_TRUE(c.storage.present);
  ASSERT_EQ(c.storage.entries.size(), 6u);
  // File order, not TOML's sorted order.
  const auto& e = c.storage.entries;
  EXPECT_EQ(e[0].key, "sync");
  EXPECT_EQ(e[0].type, uint32_t{SB_CONFIG_BOOL});
  EXPECT_EQ(e[0].value, "true");
  EXPECT_EQ(e[0].position.ToString(), "test.toml:9:1");
  EXPECT_EQ(e[1].key, "block_cache_mb");
  EXPECT_EQ(e[1].type, uint32_t{SB_CONFIG_INTEGER});
  EXPECT_EQ(e[1].value, "256");
  EXPECT_EQ(e[2].key, "bloom_bits");
  EXPECT_EQ(e[2].type, uint32_t{SB_CONFIG_FLOAT});
  EXPECT_EQ(e[2].value, "9.5");
  EXPECT_EQ(e[3].key, "name");
  EXPECT_EQ(e[3].type, uint32_t{SB_CONFIG_STRING});
  EXPECT_EQ(e[3].value, "main");
  EXPECT_EQ(e[4].key, "tls.ca_file");
  EXPECT_EQ(e[4].position.ToString(), "test.toml:14:1");
  EXPECT_EQ(e[5].key, "tls.ports");
  EXPECT_EQ(e[5].type, uint32_t{SB_CONFIG_ARRAY});
  EXPECT_EQ(e[5].value, "1,2,3");
  EXPECT_EQ(c.storage.Find("plugin"), nullptr);  // host key, not passed on

  const PluginSection& t = c.transport;
  ASSERT_NE(t.Find("peers"), nullptr);
  EXPECT_EQ(t.Find("peers")->value, "a,b");
  ASSERT_NE(t.Find("empty"), nullptr);
  EXPECT_EQ(t.Find("empty")->type, uint32_t{SB_CONFIG_ARRAY});
  EXPECT_EQ(t.Find("empty")->value, "");
  ASSERT_NE(t.Find("when"), nullptr);
  EXPECT_EQ(t.Find("when")->type, uint32_t{SB_CONFIG_STRING});
  EXPECT_EQ(t.Find("when")->value, "1979-05-27T07:32:00Z");
  ASSERT_NE(t.Find("inline.x"), nullptr);
  ASSERT_NE(t.Find("inline.y.z"), nullptr);
  EXPECT_EQ(t.Find("inline.y.z")->value, "deep");
  EXPECT_EQ(t.plugin, "transport-thrift");
}

TEST(ConfigTest, SingleNodeAcceptsExplicitOnes) {
  NodeConfig c = MustParse(R"(
[node]
id = "solo"
data_dir = "/tmp/solo"
single_node = true
[cluster]
replication_factor = 1
bootstrap_expect = 1
)");
  EXPECT_EQ(c.cluster.replication_factor, 1u);
}

TEST(ConfigTest, WildcardListenWithAdvertiseIsAccepted) {
  NodeConfig c = MustParse(R"(
[node]
id = "n1"
data_dir = "/tmp/n1"
listen_peer = "0.0.0.0:7400"
listen_client = "0.0.0.0:7500"
advertise_peer = "10.0.0.1:7400"
advertise_client = "10.0.0.1:7500"
seeds = ["10.0.0.2:7400"]
)");
  EXPECT_EQ(c.node.advertise_peer.ToString(), "10.0.0.1:7400");
}

TEST(ConfigTest, LoadConfigFileReportsUnreadableFiles) {
  StatusOr<NodeConfig> missing =
      LoadConfigFile("/nonexistent/dir/shardbearer.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIOError);
  EXPECT_NE(missing.status().message().find("/nonexistent/dir"),
            std::string::npos);

  StatusOr<NodeConfig> dir = LoadConfigFile(SB_CONFIG_EXAMPLES_DIR);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("not a regular file"),
            std::string::npos);
}

TEST(ConfigTest, LoadConfigFileUsesThePathInMessages) {
  const fs::path path = fs::path(::testing::TempDir()) / "sb-config-bad.toml";
  {
    std::ofstream out(path);
    out << "[node]\nid = 5\n";
  }
  StatusOr<NodeConfig> c = LoadConfigFile(path.string());
  fs::remove(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind(path.string() + ":", 0), 0u)
      << c.status().message();
}

}  // namespace
}  // namespace sb
