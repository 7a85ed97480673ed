// A running shardbearerd outside single-node mode serves its client port:
// Admin status answers with the node's identity, Kv answers the typed
// NotReady (multi-node orders are not served yet; single_node_test.cc covers
// the mode that serves data), and SIGTERM stops the node cleanly.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "host/common/node_number.h"
#include "shardbearer/wire/Admin.h"
#include "shardbearer/wire/Kv.h"
#include "tests/daemon/ports.h"

namespace {

using sb::testing::Accepts;
using sb::testing::FreePort;
using sb::testing::SpawnDaemon;
using sb::testing::WaitExit;
using sb::testing::WaitListening;

namespace fs = std::filesystem;
namespace tt = apache::thrift::transport;
namespace tp = apache::thrift::protocol;
namespace wire = shardbearer::wire;

class ServingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sb-serving-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    client_port_ = FreePort();
    const fs::path config = dir_ / "n.toml";
    std::ofstream(config) << "[node]\nid = \"radiant-s\"\ndata_dir = \""
                          << (dir_ / "data").string()
                          << "\"\nlisten_peer = \"127.0.0.1:" << FreePort()
                          << "\"\nlisten_client = \"127.0.0.1:" << client_port_
                          << "\"\nseeds = [\"127.0.0.1:" << FreePort()
                          << "\"]\n"
                          << "[logging]\nsink = \"file\"\nfile = \""
                          << (dir_ / "node.log").string() << "\"\n";
    pid_ = SpawnDaemon(SHARDBEARERD, config.string());
    ASSERT_GT(pid_, 0);
    std::string why;
    ASSERT_TRUE(WaitListening(pid_, {client_port_}, 20, &why)) << why;
  }

  void TearDown() override {
    if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }

  fs::path dir_;
  int client_port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(ServingTest, AdminStatusKvNotReadyAndCleanStop) {
  auto sock = std::make_shared<tt::TSocket>("127.0.0.1", client_port_);
  sock->setRecvTimeout(10000);
  auto trans = std::make_shared<tt::TFramedTransport>(sock);
  auto proto = std::make_shared<tp::TBinaryProtocol>(trans);
  wire::AdminClient admin(proto);
  wire::KvClient kv(proto);
  trans->open();

  wire::NodeStatus st;
  admin.status(st);
  EXPECT_EQ(static_cast<uint64_t>(st.node_id), sb::NodeNumber("radiant-s"));
  EXPECT_EQ(st.node_name, "radiant-s");
  EXPECT_EQ(st.client_address, "127.0.0.1:" + std::to_string(client_port_));
  bool has_storage = false;
  for (const auto& p : st.plugins) has_storage |= p.rfind("storage=", 0) == 0;
  EXPECT_TRUE(has_storage);

  wire::PutRequest put;
  put.key = "k";
  put.value = "v";
  put.write_id.client_id = 7;
  put.write_id.sequence = 1;
  wire::PutResult pr;
  EXPECT_THROW(kv.put(pr, put), wire::NotReady);
  trans->close();

  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = WaitExit(pid_, 30);
  pid_ = -1;
  ASSERT_NE(status, -1) << "shardbearerd did not stop within 30 s";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
