// shardbearerd in single-node mode serves data: a real process (storage
// rocksdb, consensus raft or solo) answers put / get / append / delete /
// compare-and-set / multi-get through the generated Thrift client, applies
// a retried write (same write_id) once, and after SIGKILL and a restart on
// the same data directory still holds every acknowledged write.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "shardbearer/wire/Kv.h"
#include "tests/daemon/ports.h"

namespace {

namespace fs = std::filesystem;
namespace tt = apache::thrift::transport;
namespace tp = apache::thrift::protocol;
namespace wire = shardbearer::wire;
using sb::testing::Accepts;
using sb::testing::FreePort;
using sb::testing::SpawnDaemon;
using sb::testing::WaitExit;
using sb::testing::WaitListening;

wire::WriteId Id(int64_t client, int64_t seq) {
  wire::WriteId id;
  id.client_id = client;
  id.sequence = seq;
  return id;
}

// One node process on a data directory that survives restarts, with a Kv
// client connected to it. Parameter: the consensus plugin.
class SingleNodeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("sb-single-node-test-" + std::to_string(getpid()) + "-" + GetParam());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    client_port_ = FreePort();
    ASSERT_GT(client_port_, 0);
    config_ = dir_ / "n.toml";
    std::ofstream(config_) << "[node]\nid = \"radiant-1\"\ndata_dir = \""
                           << (dir_ / "data").string()
                           << "\"\nlisten_peer = \"127.0.0.1:" << FreePort()
                           << "\"\nlisten_client = \"127.0.0.1:" << client_port_
                           << "\"\nsingle_node = true\n"
                           << "[cluster]\nshards = 16\ntick_ms = 20\n"
                           << "request_timeout_ms = 10000\n"
                           << "[storage]\nplugin = \"storage-rocksdb\"\n"
                           << "[consensus]\nplugin = \"" << GetParam()
                           << "\"\n[logging]\nsink = \"file\"\nfile = \""
                           << (dir_ / "node.log").string() << "\"\n";
    StartNode();
  }

  void TearDown() override {
    Disconnect();
    KillNode();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void StartNode() {
    pid_ = SpawnDaemon(SHARDBEARERD, config_);
    ASSERT_GT(pid_, 0);
    // Bounded: 30 s for the node to open storage, elect itself and listen.
    std::string why;
    ASSERT_TRUE(WaitListening(pid_, {client_port_}, 30, &why))
        << why << "; log in " << (dir_ / "node.log");
    auto sock = std::make_shared<tt::TSocket>("127.0.0.1", client_port_);
    sock->setRecvTimeout(30000);
    sock->setSendTimeout(30000);
    trans_ = std::make_shared<tt::TFramedTransport>(sock);
    kv_ = std::make_unique<wire::KvClient>(
        std::make_shared<tp::TBinaryProtocol>(trans_));
    trans_->open();
  }

  void Disconnect() {
    if (trans_) trans_->close();
    trans_.reset();
    kv_.reset();
  }

  void KillNode() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  std::optional<std::string> Get(const std::string& key) {
    wire::GetRequest r;
    r.key = key;
    wire::GetResult out;
    kv_->get(out, r);
    if (!out.found) return std::nullopt;
    return out.value;
  }

  int64_t Put(const std::string& key, const std::string& value,
              wire::WriteId id) {
    wire::PutRequest r;
    r.key = key;
    r.value = value;
    r.write_id = id;
    wire::PutResult out;
    kv_->put(out, r);
    return out.applied_index;
  }

  wire::AppendResult Append(const std::string& key, const std::string& value,
                            wire::WriteId id) {
    wire::AppendRequest r;
    r.key = key;
    r.value = value;
    r.write_id = id;
    wire::AppendResult out;
    kv_->append(out, r);
    return out;
  }

  fs::path dir_;
  fs::path config_;
  int client_port_ = 0;
  pid_t pid_ = -1;
  std::shared_ptr<tt::TTransport> trans_;
  std::unique_ptr<wire::KvClient> kv_;
};

TEST_P(SingleNodeTest, ServesEveryKvOperation) {
  const int64_t client = 0x5eed;
  int64_t seq = 0;
  EXPECT_EQ(Get("absent"), std::nullopt);
  EXPECT_GT(Put("alpha", "1", Id(client, ++seq)), 0);
  EXPECT_EQ(Get("alpha"), "1");
  EXPECT_GT(Put("alpha", "2", Id(client, ++seq)), 0);
  EXPECT_EQ(Get("alpha"), "2");

  wire::AppendResult ar = Append("log", "ab", Id(client, ++seq));
  EXPECT_EQ(ar.new_size, 2);
  ar = Append("log", "cd", Id(client, ++seq));
  EXPECT_EQ(ar.new_size, 4);
  EXPECT_EQ(Get("log"), "abcd");

  wire::DeleteRequest del;
  del.key = "alpha";
  del.write_id = Id(client, ++seq);
  wire::DeleteResult dr;
  kv_->remove(dr, del);
  EXPECT_TRUE(dr.existed);
  EXPECT_EQ(Get("alpha"), std::nullopt);
  del.write_id = Id(client, ++seq);
  kv_->remove(dr, del);
  EXPECT_FALSE(dr.existed);

  // CAS: absent expected creates; a wrong expectation fails and reports
  // the current value; absent new_value deletes.
  wire::CasRequest cas;
  cas.key = "c";
  cas.__set_new_value("x");
  cas.write_id = Id(client, ++seq);
  wire::CasResult cr;
  kv_->compare_and_set(cr, cas);
  EXPECT_TRUE(cr.succeeded);
  EXPECT_FALSE(cr.__isset.current);
  cas.__set_expected("wrong");
  cas.__set_new_value("y");
  cas.write_id = Id(client, ++seq);
  kv_->compare_and_set(cr, cas);
  EXPECT_FALSE(cr.succeeded);
  ASSERT_TRUE(cr.__isset.current);
  EXPECT_EQ(cr.current, "x");
  EXPECT_EQ(Get("c"), "x");
  wire::CasRequest cas_del;
  cas_del.key = "c";
  cas_del.__set_expected("x");
  cas_del.write_id = Id(client, ++seq);
  kv_->compare_and_set(cr, cas_del);
  EXPECT_TRUE(cr.succeeded);
  EXPECT_EQ(Get("c"), std::nullopt);

  // Many keys over the 16 shards, read back in one multi_get.
  std::map<std::string, std::string> want;
  for (int i = 0; i < 40; ++i) {
    const std::string k = "key-" + std::to_string(i);
    want[k] = "value-" + std::to_string(i);
    Put(k, want[k], Id(client, ++seq));
  }
  wire::MultiGetRequest mg;
  for (const auto& [k, v] : want) mg.keys.push_back(k);
  mg.keys.push_back("never-written");
  wire::MultiGetResult mr;
  kv_->multi_get(mr, mg);
  ASSERT_EQ(mr.results.size(), mg.keys.size());
  size_t i = 0;
  for (const auto& [k, v] : want) {
    EXPECT_TRUE(mr.results[i].found) << k;
    EXPECT_EQ(mr.results[i].value, v) << k;
    ++i;
  }
  EXPECT_FALSE(mr.results.back().found);
}

TEST_P(SingleNodeTest, RetriedWriteAppliesOnceAndOlderSequenceIsRefused) {
  const int64_t client = 77;
  wire::AppendResult first = Append("once", "x", Id(client, 1));
  // The client never saw the answer and retries: same write_id.
  wire::AppendResult retry = Append("once", "x", Id(client, 1));
  EXPECT_EQ(first.new_size, 1);
  EXPECT_EQ(retry.new_size, 1);
  EXPECT_EQ(retry.applied_index, first.applied_index);
  EXPECT_EQ(Get("once"), "x");
  // The next sequence applies; going back to 1 is refused.
  EXPECT_EQ(Append("once", "y", Id(client, 2)).new_size, 2);
  EXPECT_THROW(Append("once", "z", Id(client, 1)), wire::InvalidArgument);
  EXPECT_EQ(Get("once"), "xy");
}

TEST_P(SingleNodeTest, AcknowledgedWritesSurviveSigkill) {
  const int64_t client = 99;
  std::map<std::string, std::string> acked;
  for (int i = 0; i < 50; ++i) {
    const std::string k = "durable-" + std::to_string(i);
    const std::string v(100 + i, static_cast<char>('a' + i % 26));
    Put(k, v, Id(client, i + 1));
    acked[k] = v;
  }
  Append("durable-0", "+", Id(client, 51));
  acked["durable-0"] += "+";

  Disconnect();
  KillNode();
  StartNode();

  for (const auto& [k, v] : acked) EXPECT_EQ(Get(k), v) << k;
  // The session survived too: the last write's retry is deduplicated, and
  // writes continue at the next sequence.
  EXPECT_EQ(Append("durable-0", "+", Id(client, 51)).new_size,
            static_cast<int64_t>(acked["durable-0"].size()));
  EXPECT_GT(Put("after", "restart", Id(client, 52)), 0);
  EXPECT_EQ(Get("after"), "restart");

  // A clean stop (SIGTERM) exits 0 with the order running.
  Disconnect();
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = WaitExit(pid_, 30);
  ASSERT_NE(status, -1) << "shardbearerd did not stop within 30 s";
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

INSTANTIATE_TEST_SUITE_P(Consensus, SingleNodeTest,
                         ::testing::Values("raft", "solo"),
                         [](const auto& info) { return info.param; });

}  // namespace
