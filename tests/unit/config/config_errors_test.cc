// Every class of configuration error, checked by message: each starts with
// FILE:LINE:COLUMN and says what is wrong and what is expected.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/config/config.h"

namespace sb {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Lines 1-4 of most documents below.
const std::string kNode =
    "[node]\n"
    "id = \"n1\"\n"
    "data_dir = \"/tmp/n1\"\n"
    "seeds = [\"127.0.0.1:7401\"]\n";

// The error message for `text` (parsed as "t.toml"), or "<accepted>".
std::string Error(const std::string& text) {
  StatusOr<NodeConfig> c = ParseConfig(text, "t.toml");
  if (c.ok()) return "<accepted>";
  EXPECT_TRUE(c.status().IsInvalidArgument()) << c.status().ToString();
  return c.status().message();
}

TEST(ConfigErrorsTest, SyntaxErrorHasLineAndColumn) {
  std::string m = Error(kNode + "[cluster]\nshards = = 4\n");
  EXPECT_THAT(m, StartsWith("t.toml:6:"));
  EXPECT_THAT(m, HasSubstr("TOML syntax error"));
  EXPECT_THAT(Error("[node\n"), StartsWith("t.toml:1:"));
  EXPECT_THAT(Error(kNode + "id = \"again\"\n"), StartsWith("t.toml:5:"));
}

TEST(ConfigErrorsTest, UnknownKeyIsPositionedWithSuggestion) {
  EXPECT_EQ(Error(kNode + "listen_peers = \"127.0.0.1:7400\"\n"),
            "t.toml:5:1: unknown key 'listen_peers' in [node]; did you mean "
            "'listen_peer'?");
  EXPECT_EQ(Error(kNode + "[cluster]\n  replicaton_factr = 3\n"),
            "t.toml:6:3: unknown key 'replicaton_factr' in [cluster]; did you "
            "mean 'replication_factor'?");
}

TEST(ConfigErrorsTest, UnknownKeyWithoutNearMissListsTheKeys) {
  std::string m = Error(kNode + "[compaction]\nfrobnicate = 1\n");
  EXPECT_EQ(m,
            "t.toml:6:1: unknown key 'frobnicate' in [compaction]; expected "
            "one of: log_entries, log_bytes");
}

TEST(ConfigErrorsTest, KeyInTheWrongTableNamesItsTable) {
  EXPECT_EQ(Error(kNode + "shards = 16\n"),
            "t.toml:5:1: unknown key 'shards' in [node]; it belongs in "
            "[cluster]");
  EXPECT_EQ(Error("id = \"n1\"\n" + kNode),
            "t.toml:1:1: key 'id' is outside any table; it belongs in [node]");
  EXPECT_EQ(Error("plugin = \"raft\"\n" + kNode),
            "t.toml:1:1: key 'plugin' is outside any table; expected a "
            "[table] header such as [node] before it");
}

TEST(ConfigErrorsTest, UnknownTable) {
  EXPECT_EQ(Error(kNode + "[clustr]\nshards = 4\n"),
            "t.toml:5:2: unknown table [clustr]; did you mean [cluster]?");
  std::string m = Error(kNode + "[zookeeper]\n");
  EXPECT_THAT(m, StartsWith("t.toml:5:2: unknown table [zookeeper]; expected "
                            "one of: [node] [cluster]"));
  EXPECT_EQ(Error("cluster = 5\n" + kNode),
            "t.toml:1:1: 'cluster' must be a table ([cluster]), found an "
            "integer");
}

TEST(ConfigErrorsTest, WrongTypes) {
  EXPECT_EQ(Error(kNode + "[cluster]\nshards = \"64\"\n"),
            "t.toml:6:10: cluster.shards: expected an integer in 1..65536, "
            "found a string");
  EXPECT_EQ(Error(kNode + "[cluster]\ntick_ms = 100.0\n"),
            "t.toml:6:11: cluster.tick_ms: expected an integer in 1..60000, "
            "found a floating-point number");
  EXPECT_EQ(Error(kNode + "single_node = \"yes\"\n"),
            "t.toml:5:15: node.single_node: expected a boolean (true or "
            "false), found a string");
  EXPECT_EQ(Error("[node]\nid = 7\ndata_dir = \"/d\"\n"),
            "t.toml:2:6: node.id: expected a string, found an integer");
  EXPECT_EQ(Error(kNode + "[plugins]\ndirs = \"/opt\"\n"),
            "t.toml:6:8: plugins.dirs: expected an array of strings, found a "
            "string");
  EXPECT_EQ(Error("[node]\nid = \"n1\"\ndata_dir = \"/d\"\nseeds = [1]\n"),
            "t.toml:4:10: node.seeds[0]: expected a string, found an integer");
}

TEST(ConfigErrorsTest, ClientTlsNeedsAllThreeFiles) {
  EXPECT_EQ(Error(kNode + "client_tls_cert_file = \"/n.pem\"\n"
                          "client_tls_ca_file = \"/ca.pem\"\n"),
            "t.toml:5:24: node.client_tls_cert_file: client TLS needs "
            "client_tls_cert_file, client_tls_key_file and client_tls_ca_file "
            "together; missing client_tls_key_file");
  EXPECT_EQ(Error(kNode + "client_tls_key_file = \"\"\n"),
            "t.toml:5:23: node.client_tls_key_file: must not be empty; "
            "expected a file path");
  EXPECT_EQ(Error(kNode + "client_tls_cert_file = \"/n.pem\"\n"
                          "client_tls_key_file = \"/n.key\"\n"
                          "client_tls_ca_file = \"/ca.pem\"\n"),
            "<accepted>");
}

TEST(ConfigErrorsTest, OutOfRangeNumbers) {
  EXPECT_EQ(Error(kNode + "[cluster]\nshards = 0\n"),
            "t.toml:6:10: cluster.shards: 0 is out of range; expected "
            "1..65536");
  EXPECT_EQ(Error(kNode + "[cluster]\nreplication_factor = 8\n"),
            "t.toml:6:22: cluster.replication_factor: 8 is out of range; "
            "expected 1..7");
  EXPECT_EQ(Error(kNode + "[cluster]\ncouncil_size = 4\n"),
            "t.toml:6:16: cluster.council_size: 4 is even; expected 1, 3, 5 "
            "or 7");
  EXPECT_THAT(Error(kNode + "[limits]\nmax_batch_ops = -1\n"),
              StartsWith("t.toml:6:17: limits.max_batch_ops: -1 is out of "
                         "range"));
}

TEST(ConfigErrorsTest, CrossKeyRulesOfClusterAndLimits) {
  EXPECT_THAT(Error(kNode + "[cluster]\nfailure_timeout_ms = 500\n"),
              StartsWith("t.toml:6:22: cluster.failure_timeout_ms: 500 is too "
                         "short; expected at least 2000"));
  EXPECT_THAT(Error(kNode + "[cluster]\ntick_ms = 50\npoll_interval_ms = 40\n"),
              StartsWith("t.toml:7:20: cluster.poll_interval_ms: 40 is "
                         "shorter than one tick"));
  EXPECT_THAT(Error(kNode + "[limits]\nmax_value_bytes = 16777216\n"),
              StartsWith("t.toml:6:19: limits.max_value_bytes: "
                         "max_frame_bytes 16777216 cannot carry one "
                         "operation; expected at least"));
}

TEST(ConfigErrorsTest, MissingRequired) {
  EXPECT_EQ(Error(""),
            "t.toml:1:1: missing table [node]; every node needs at least "
            "[node] id and data_dir");
  EXPECT_THAT(Error("\n\n[node]\ndata_dir = \"/d\"\n"),
              StartsWith("t.toml:3:1: [node]: missing required key 'id' ("));
  EXPECT_THAT(Error("[node]\nid = \"n1\"\n"),
              StartsWith("t.toml:1:1: [node]: missing required key "
                         "'data_dir'"));
  EXPECT_THAT(Error(kNode + "[classifier]\nrequired = true\n"),
              StartsWith("t.toml:5:1: [classifier]: missing required key "
                         "'plugin'"));
}

TEST(ConfigErrorsTest, BadValues) {
  EXPECT_EQ(Error("[node]\nid = \"n 1\"\ndata_dir = \"/d\"\n"),
            "t.toml:2:6: node.id: 'n 1' is not a valid node id; expected 1 "
            "to 64 of A-Z a-z 0-9 _ . -");
  EXPECT_THAT(Error(kNode + "listen_peer = \"127.0.0.1\"\n"),
              StartsWith("t.toml:5:15: node.listen_peer: '127.0.0.1' has no "
                         "port; expected host:port"));
  EXPECT_THAT(Error("[node]\nid = \"n1\"\ndata_dir = \"/d\"\n"
                    "seeds = [\"127.0.0.1:7401\", \"10.0.0.300:7400\"]\n"),
              StartsWith("t.toml:4:28: node.seeds[1]: '10.0.0.300:7400' has "
                         "'10.0.0.300', not a valid IPv4 address"));
  EXPECT_THAT(Error(kNode + "[logging]\nlevel = \"verbose\"\n"),
              StartsWith("t.toml:6:9: logging.level: 'verbose' is not a "
                         "level; expected one of trace, debug"));
  EXPECT_THAT(Error(kNode + "[storage]\nplugin = \"storage rocks\"\n"),
              StartsWith("t.toml:6:10: storage.plugin: 'storage rocks' is "
                         "not a plugin name"));
  EXPECT_THAT(Error(kNode + "listen_client = \"127.0.0.1:7400\"\n"),
              StartsWith("t.toml:5:17: node.listen_client: listen_peer "
                         "127.0.0.1:7400 and listen_client 127.0.0.1:7400 "
                         "would share a socket"));
}

TEST(ConfigErrorsTest, WildcardCannotBeAdvertised) {
  EXPECT_THAT(Error(kNode + "listen_peer = \"0.0.0.0:7400\"\n"),
              StartsWith("t.toml:5:15: node.listen_peer: '0.0.0.0:7400' is a "
                         "wildcard address, so node.advertise_peer must be "
                         "set"));
  EXPECT_THAT(Error(kNode + "advertise_client = \"[::]:7500\"\n"),
              StartsWith("t.toml:5:20: node.advertise_client: '[::]:7500' is "
                         "a wildcard address; expected an address"));
}

TEST(ConfigErrorsTest, SelfSeedIsRejected) {
  const std::string head = "[node]\nid = \"n1\"\ndata_dir = \"/d\"\n";
  EXPECT_THAT(
      Error(head + "seeds = [\"127.0.0.1:7401\", \"127.0.0.1:7400\"]\n"),
      StartsWith("t.toml:4:28: node.seeds: '127.0.0.1:7400' is this "
                 "node's own peer address"));
  // localhost is 127.0.0.1.
  EXPECT_THAT(Error(head + "seeds = [\"localhost:7400\"]\n"),
              StartsWith("t.toml:4:10: node.seeds: 'localhost:7400' is this "
                         "node's own peer address"));
  // The advertised address is this node too.
  EXPECT_THAT(Error(head + "advertise_peer = \"10.0.0.1:7400\"\n"
                           "seeds = [\"10.0.0.1:7400\"]\n"),
              StartsWith("t.toml:5:10: node.seeds: '10.0.0.1:7400' is this "
                         "node's own"));
  // A wildcard listener answers on loopback.
  EXPECT_THAT(Error(head + "listen_peer = \"0.0.0.0:7400\"\n"
                           "advertise_peer = \"10.0.0.1:7400\"\n"
                           "seeds = [\"127.0.0.1:7400\"]\n"),
              StartsWith("t.toml:6:10: node.seeds: '127.0.0.1:7400' is this "
                         "node's own"));
  EXPECT_THAT(Error(head + "seeds = [\"0.0.0.0:7401\"]\n"),
              StartsWith("t.toml:4:10: node.seeds: '0.0.0.0:7401' is a "
                         "wildcard address"));
  // The client port of this node is not a self-loop of the peer graph.
  EXPECT_EQ(Error(head + "seeds = [\"127.0.0.1:7500\"]\n"), "<accepted>");
}

TEST(ConfigErrorsTest, NoSeedWithoutSingleNode) {
  const std::string head = "[node]\nid = \"n1\"\ndata_dir = \"/d\"\n";
  EXPECT_THAT(Error(head),
              StartsWith("t.toml:1:1: node.seeds: needs the peer address of "
                         "at least one other node"));
  EXPECT_THAT(Error(head + "seeds = []\n"),
              StartsWith("t.toml:4:9: node.seeds: needs the peer address"));
}

TEST(ConfigErrorsTest, DuplicateSeed) {
  EXPECT_EQ(Error("[node]\nid = \"n1\"\ndata_dir = \"/d\"\n"
                  "seeds = [\"127.0.0.1:7401\", \"localhost:7401\"]\n"),
            "t.toml:4:28: node.seeds: 'localhost:7401' is listed twice (also "
            "at t.toml:4:10)");
}

TEST(ConfigErrorsTest, SingleNodeRules) {
  EXPECT_THAT(Error(kNode + "single_node = true\n"),
              StartsWith("t.toml:4:10: node.seeds: must be empty with "
                         "node.single_node = true"));
  const std::string solo =
      "[node]\nid = \"n1\"\ndata_dir = \"/d\"\nsingle_node = true\n";
  EXPECT_EQ(Error(solo + "[cluster]\nreplication_factor = 3\n"),
            "t.toml:6:22: cluster.replication_factor: 3 contradicts "
            "node.single_node = true (at t.toml:4:15); expected 1, or remove "
            "the key");
  EXPECT_THAT(Error(solo + "[cluster]\nbootstrap_expect = 2\n"),
              StartsWith("t.toml:6:20: cluster.bootstrap_expect: 2 "
                         "contradicts node.single_node = true"));
}

TEST(ConfigErrorsTest, LoggingFileRules) {
  EXPECT_EQ(Error(kNode + "[logging]\nsink = \"file\"\n"),
            "t.toml:6:8: logging.file: required with sink = \"file\"; "
            "expected the path of the log file");
  EXPECT_THAT(Error(kNode + "[logging]\nfile = \"/var/log/sb.log\"\n"),
              StartsWith("t.toml:6:8: logging.file: only applies to sink = "
                         "\"file\""));
  EXPECT_THAT(Error(kNode + "[logging]\nsink = \"syslog\"\n"),
              StartsWith("t.toml:6:8: logging.sink: 'syslog' is not a sink; "
                         "expected \"stderr\" or \"file\""));
}

TEST(ConfigErrorsTest, PluginValuesTheAbiCannotCarry) {
  EXPECT_THAT(Error(kNode + "[transport]\npeers = [\"a,b\", \"c\"]\n"),
              StartsWith("t.toml:6:10: transport.peers: array element 'a,b' "
                         "contains ','"));
  EXPECT_THAT(Error(kNode + "[storage]\nnested = [[1], [2]]\n"),
              StartsWith("t.toml:6:11: storage.nested: an array passed to a "
                         "plugin may hold only"));
  EXPECT_THAT(Error(kNode + "[storage]\nname = \"a\\u0000b\"\n"),
              StartsWith("t.toml:6:8: storage.name: contains a NUL"));
  EXPECT_THAT(Error(kNode + "[storage]\n\"tls.ca\" = \"x\"\n"
                            "[storage.tls]\nca = \"y\"\n"),
              HasSubstr("storage.tls.ca: defined twice"));
}

TEST(ConfigErrorsTest, BadInputNeverCrashes) {
  // Odd but well-formed or malformed inputs: each gives a clear error.
  for (const std::string& text :
       {std::string("\xff\xfe"), std::string("[node]\nid = \"\xc3\x28\"\n"),
        std::string(100000, '['), std::string("a = ") + std::string(5000, '['),
        kNode + "[[storage]]\nx = 1\n",
        kNode + "[cluster]\nshards = 99999999999999999999\n"}) {
    StatusOr<NodeConfig> c = ParseConfig(text, "t.toml");
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(c.status().message(), StartsWith("t.toml:"));
  }
}

TEST(ConfigErrorsTest, ClassifierJoinPort) {
  const std::string cls = "[classifier]\nplugin = \"bpf-qdisc\"\n";
  auto c = ParseConfig(kNode + cls + "join_port = 7600\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->classifier->join_port, 7600);
  // The host owns the key: the plugin never sees it.
  EXPECT_EQ(c->classifier->Find("join_port"), nullptr);
  c = ParseConfig(kNode + cls, "t.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->classifier->join_port, 0);
  EXPECT_THAT(Error(kNode + cls + "join_port = 7500\n"),
              StartsWith("t.toml:7:13: classifier.join_port: 7500 is the "
                         "node's listen_client port"));
  EXPECT_THAT(Error(kNode + cls + "join_port = 7400\n"),
              StartsWith("t.toml:7:13: classifier.join_port: 7400 is the "
                         "node's listen_peer port"));
  EXPECT_THAT(Error(kNode + cls + "join_port = 70000\n"),
              StartsWith("t.toml:7:13: classifier.join_port: "));
  EXPECT_THAT(Error(kNode + cls + "join_port = \"7600\"\n"),
              StartsWith("t.toml:7:13: classifier.join_port: expected"));
  EXPECT_THAT(Error(kNode + "[metrics]\nlisten = \"127.0.0.1:7600\"\n" + cls +
                    "join_port = 7600\n"),
              HasSubstr("is the metrics.listen port"));
}

TEST(ConfigErrorsTest, MetricsListen) {
  auto c =
      ParseConfig(kNode + "[metrics]\nlisten = \"127.0.0.1:9500\"\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->metrics.listen.has_value());
  EXPECT_EQ(c->metrics.listen->ToString(), "127.0.0.1:9500");
  c = ParseConfig(kNode + "[metrics]\n", "t.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->metrics.listen.has_value());
  EXPECT_THAT(Error(kNode + "[metrics]\nlisten = \"127.0.0.1\"\n"),
              StartsWith("t.toml:6:10: metrics.listen: "));
  EXPECT_EQ(Error(kNode + "[metrics]\nlisten = \"127.0.0.1:7500\"\n"),
            "t.toml:6:10: metrics.listen: port 7500 is the node's "
            "listen_client port; expected a port of its own (e.g. 9500)");
  EXPECT_THAT(Error(kNode + "[metrics]\nport = 9500\n"),
              StartsWith("t.toml:6:1: unknown key 'port' in [metrics]"));
}

}  // namespace
}  // namespace sb
