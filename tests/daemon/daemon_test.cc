// shardbearerd as operators run it: exit codes and the exact messages of
// --check-config and start-up refusals.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/daemon/ports.h"

namespace {

using sb::testing::FreePort;

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs shardbearerd with `args` (a shell-quoted string), bounded to 60 s.
Result RunDaemon(const std::string& args) {
  const std::string cmd =
      std::string("timeout 60 ") + SHARDBEARERD + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sb-daemon-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes a single-node config with `extra` appended; returns its path.
  std::string WriteConfig(const std::string& name, const std::string& id,
                          const std::string& extra = "") {
    const fs::path path = dir_ / name;
    std::ofstream(path) << "[node]\nid = \"" << id << "\"\ndata_dir = \""
                        << (dir_ / "data").string()
                        << "\"\nlisten_peer = \"127.0.0.1:" << FreePort()
                        << "\"\nlisten_client = \"127.0.0.1:" << FreePort()
                        << "\"\nsingle_node = true\n"
                        << extra;
    return path.string();
  }

  void ExpectPluginRefuses(const std::string& section, const std::string& where,
                           const std::string& what);

  fs::path dir_;
};

TEST_F(DaemonTest, CheckConfigAcceptsEveryExample) {
  for (const char* example :
       {"config/single-node.toml", "config/shardbearer.toml",
        "config/local-cluster/node1.toml"}) {
    const std::string path = std::string(SB_SOURCE_DIR) + "/" + example;
    Result r = RunDaemon("--check-config " + path);
    EXPECT_EQ(r.exit_code, 0) << example << ":\n" << r.output;
    EXPECT_NE(r.output.find(path + ": OK"), std::string::npos) << r.output;
  }
}

TEST_F(DaemonTest, CheckConfigReportsSyntaxErrorWithPosition) {
  const fs::path path = dir_ / "broken.toml";
  std::ofstream(path) << "[node]\nid = \"a\"\ndata_dir = \n";
  Result r = RunDaemon("--check-config " + path.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(path.string() + ":3:"), std::string::npos)
      << r.output;
}

TEST_F(DaemonTest, CheckConfigReportsUnknownPluginWithKnownNames) {
  const std::string path =
      WriteConfig("n.toml", "a", "[storage]\nplugin = \"storage-nope\"\n");
  Result r = RunDaemon("--check-config " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(path + ":8:10: [storage] plugin: no storage plugin "
                                 "named 'storage-nope'"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("storage-mem, storage-rocksdb"), std::string::npos)
      << r.output;
}

TEST_F(DaemonTest, CheckConfigReportsWrongKind) {
  const std::string path =
      WriteConfig("n.toml", "a", "[storage]\nplugin = \"raft\"\n");
  Result r = RunDaemon("--check-config " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("is a consensus (2) plugin, expected a storage (1) "
                          "plugin"),
            std::string::npos)
      << r.output;
}

// --check-config of a single-node config with `section` appended must fail,
// pointing at `where` (":LINE:COLUMN: [table] plugin 'name'", after the
// file's path) and saying `what`.
void DaemonTest::ExpectPluginRefuses(const std::string& section,
                                     const std::string& where,
                                     const std::string& what) {
  const std::string path = WriteConfig("n.toml", "a", section);
  Result r = RunDaemon("--check-config " + path);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(path + where), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(what), std::string::npos) << r.output;
}

TEST_F(DaemonTest, CheckConfigPointsAtPluginKeyTheStorageRejects) {
  ExpectPluginRefuses(
      "[storage]\nplugin = \"storage-rocksdb\"\nblock_cache_mb = 8\n"
      "sync_wall = true\n",
      ":10:1: [storage] plugin 'storage-rocksdb'", "'sync_wall'");
}

TEST_F(DaemonTest, CheckConfigPointsAtPluginKeyTheConsensusRejects) {
  ExpectPluginRefuses("[consensus]\nplugin = \"raft\"\nelection_tick = 5\n",
                      ":9:1: [consensus] plugin 'raft'", "'election_tick'");
}

TEST_F(DaemonTest, CheckConfigPointsAtPluginKeyTheTransportRejects) {
  ExpectPluginRefuses(
      "[transport]\nplugin = \"transport-thrift\"\nmax_frame_bytes = 65536\n"
      "send_queue = 5\n",
      ":10:1: [transport] plugin 'transport-thrift'",
      "unknown key 'send_queue'");
  ExpectPluginRefuses(
      "[transport]\nplugin = \"transport-thrift\"\nread_timeout_ms = 0\n",
      ":9:1: [transport] plugin 'transport-thrift'",
      "read_timeout_ms = '0' is not an integer in [1, 600000]");
}

TEST_F(DaemonTest, CheckConfigPointsAtTransportTlsFileThatDoesNotExist) {
  // Two files exist (check_config does not parse them), the CA does not.
  std::ofstream(dir_ / "node.pem") << "certificate\n";
  std::ofstream(dir_ / "node.key") << "key\n";
  const std::string ca = (dir_ / "absent-ca.pem").string();
  const std::string path = WriteConfig(
      "n.toml", "a",
      "[transport]\nplugin = \"transport-thrift\"\n[transport.tls]\n"
      "cert_file = \"" +
          (dir_ / "node.pem").string() + "\"\nkey_file = \"" +
          (dir_ / "node.key").string() + "\"\nca_file = \"" + ca + "\"\n");
  Result r = RunDaemon("--check-config " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(path +
                          ":12:1: [transport] plugin 'transport-thrift': "
                          "transport: tls.ca_file = '" +
                          ca + "' is not a readable file"),
            std::string::npos)
      << r.output;
  // The same section with the CA present passes.
  std::ofstream(ca) << "ca\n";
  r = RunDaemon("--check-config " + path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(DaemonTest, RefusesToStartWithABadTransportKey) {
  const std::string path =
      WriteConfig("n.toml", "a",
                  "[transport]\nplugin = \"transport-thrift\"\n"
                  "backoff_min_ms = 0\n");
  Result r = RunDaemon("--config " + path + " --exit-after-start");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(path + ":9:1: [transport] plugin 'transport-thrift'"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("backoff_min_ms"), std::string::npos) << r.output;
}

TEST_F(DaemonTest, StartsReportsPluginsAndCountsStarts) {
  const std::string path = WriteConfig("n.toml", "radiant-a");
  Result first = RunDaemon("--config " + path + " --exit-after-start");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("radiant 'radiant-a' (start #1)"),
            std::string::npos)
      << first.output;
  EXPECT_NE(first.output.find("storage: storage-rocksdb"), std::string::npos);
  EXPECT_NE(first.output.find("storage durable: yes"), std::string::npos);
  Result second = RunDaemon("--config " + path + " --exit-after-start");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("(start #2)"), std::string::npos)
      << second.output;
}

TEST_F(DaemonTest, RefusesDataDirOfAnotherNode) {
  ASSERT_EQ(RunDaemon("--config " + WriteConfig("a.toml", "node-a") +
                      " --exit-after-start")
                .exit_code,
            0);
  Result r = RunDaemon("--config " + WriteConfig("b.toml", "node-b") +
                       " --exit-after-start");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("belongs to node 'node-a', but the configuration "
                          "says node id 'node-b'"),
            std::string::npos)
      << r.output;
}

// Whether this process may load BPF and change tc (root with CAP_BPF and
// CAP_NET_ADMIN); the classifier tests skip otherwise.
bool CanAttachClassifier() {
  return geteuid() == 0 && system("tc qdisc show dev lo >/dev/null 2>&1") == 0;
}

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    out.append(buf.data(), n);
  pclose(p);
  return out;
}

TEST_F(DaemonTest, ClassifierAttachesToLoopbackAndDetachesOnStop) {
  if (!CanAttachClassifier())
    GTEST_SKIP() << "needs root with CAP_BPF and CAP_NET_ADMIN";
  // A tc handle of its own so parallel classifier tests never collide.
  const std::string path =
      WriteConfig("n.toml", "a",
                  "[classifier]\nplugin = \"bpf-qdisc\"\ninterface = \"lo\"\n"
                  "allowed_cidrs = [\"127.0.0.0/8\"]\ntc_handle = 0x5399\n");
  Result r = RunDaemon("--config " + path + " --exit-after-start");
  if (r.output.find("classifier: bpf-qdisc off") != std::string::npos) {
    GTEST_SKIP() << "BPF not loadable here: " << r.output;
  }
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("classifier: bpf-qdisc attached"), std::string::npos)
      << r.output;
  const std::string filters = Shell("tc filter show dev lo ingress");
  EXPECT_EQ(filters.find("5399"), std::string::npos) << filters;
}

TEST_F(DaemonTest, ClassifierOnMissingInterfaceFailsWhateverRequiredSays) {
  if (!CanAttachClassifier())
    GTEST_SKIP() << "needs root with CAP_BPF and CAP_NET_ADMIN";
  const std::string path =
      WriteConfig("n.toml", "a",
                  "[classifier]\nplugin = \"bpf-qdisc\"\nrequired = false\n"
                  "interface = \"sb-nosuch0\"\n");
  Result r = RunDaemon("--config " + path + " --exit-after-start");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("sb-nosuch0"), std::string::npos) << r.output;
}

TEST_F(DaemonTest, UnknownArgumentIsAUsageError) {
  Result r = RunDaemon("--frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown argument '--frobnicate'"),
            std::string::npos);
}

}  // namespace
