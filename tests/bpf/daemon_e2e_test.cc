// End to end with a real shardbearerd: the daemon runs in single-node mode
// (storage-mem, consensus solo) inside network namespace A with the
// bpf-qdisc classifier attached to veth-a from its [classifier] section;
// clients run in namespace B (10.200.0.2 is on the allowlist, 10.200.0.3 is
// not). Checked: Kv put/get through the C++ client library from the allowed
// address; a connect from the unknown address times out; a join-port flood
// from the unknown address is admitted exactly join_burst times (join_rate
// 0: no refill), as the Admin status counters, shardbearer-ctl and the
// metrics endpoint report; answers to clients are steered into the HTB
// class named by client_priority (seen with `tc -s class show`); the
// filters are gone after a clean stop; and after a restart with the
// unknown address added to allowed_cidrs (the operator's way to change the
// static allowlist: see docs/classifier.md) it gets through.
//
// Everything (namespaces, veth, qdiscs, filters, the daemon, the data
// directory) is removed at the end, also on failure; every wait is bounded.
// Skips when namespaces cannot be created or BPF cannot be loaded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "host/classifier/classifier_manager.h"
#include "shardbearer/client.h"
#include "shardbearer/connection.h"
#include "shardbearer/wire/Admin.h"
#include "test_support.h"

namespace sb::bpftest {
namespace {

namespace fs = std::filesystem;
namespace w = ::shardbearer::wire;
using ::testing::HasSubstr;

constexpr uint16_t kClient = 17500;
constexpr uint16_t kPeer = 17400;
constexpr uint16_t kJoin = 17600;
constexpr uint16_t kMetrics = 17900;
constexpr int kBlockedMs = 1200;
constexpr int kConnectMs = 5000;
const char kNodeAddr[] = "10.200.0.1";
const char kAllowed[] = "10.200.0.2";
const char kUnknown[] = "10.200.0.3";

// Packets sent through class `classid` of veth-a's root qdisc in `ns`
// (`tc -s class show`: "Sent <bytes> bytes <pkts> pkt"); -1 if not found.
long ClassPackets(const std::string& ns, const std::string& classid) {
  std::string out = ShOutput("ip netns exec " + ns +
                             " tc -s class show dev veth-a classid " + classid);
  size_t sent = out.find("Sent ");
  if (sent == std::string::npos) return -1;
  size_t bytes = out.find(" bytes ", sent);
  if (bytes == std::string::npos) return -1;
  return std::strtol(out.c_str() + bytes + 7, nullptr, 10);
}

class DaemonE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    pair_ = std::make_unique<NetnsPair>();
    if (!pair_->error().empty()) GTEST_SKIP() << pair_->error();
    ProbeBpf();
    if (IsSkipped()) return;
    dir_ = fs::temp_directory_path() /
           ("sb-bpf-e2e-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // HTB root on veth-a: default class 1:1; a packet lands in 1:3 only if
    // the egress program set its priority to 1:3 (client_priority).
    const std::string tc = "ip netns exec " + pair_->a() + " tc ";
    for (const std::string& cmd :
         {tc + "qdisc add dev veth-a root handle 1: htb default 1",
          tc + "class add dev veth-a parent 1: classid 1:1 htb rate 1gbit",
          tc + "class add dev veth-a parent 1: classid 1:3 htb rate 1gbit"}) {
      if (Sh(cmd) != 0) GTEST_SKIP() << "HTB not available: " << cmd;
    }
  }

  void TearDown() override {
    StopNode(SIGKILL);
    pair_.reset();  // deletes both namespaces, their veth, qdiscs, filters
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  // Skips the test unless this process may load and attach BPF programs:
  // the classifier is started (and stopped) once through the host's
  // manager in namespace A.
  void ProbeBpf() {
    PluginSection s;
    s.table = "classifier";
    s.plugin = "bpf-qdisc";
    s.required = true;
    s.entries = {{"interface", "veth-a"}};
    ScopedNetns in_a(pair_->a());
    ASSERT_TRUE(in_a.ok());
    PluginLoader loader({SB_PLUGIN_BUILD_DIR});
    RecordingHost host;
    auto m = ClassifierManager::Start(loader, s, host.services(),
                                      ClassifierPorts{kClient, kPeer, 0});
    if (!m.ok() && m.status().code() == Code::kPermissionDenied) {
      GTEST_SKIP() << m.status().ToString();
    }
    ASSERT_TRUE(m.ok()) << m.status().ToString();
  }

  // With `with_layout`, the node is one of a 3-radiant order of a static
  // [layout] whose other radiants live at kUnknown and 10.200.0.9 (never
  // started: only the allowlist matters), instead of a single node.
  void StartNode(const std::string& allowed_cidrs, bool with_layout = false) {
    const fs::path config = dir_ / "n.toml";
    std::ostringstream mode;
    if (with_layout) {
      mode << "[layout]\nradiants = [\n"
           << "  { id = \"radiant-e2e\", order = 1, peer = \"" << kNodeAddr
           << ":" << kPeer << "\", client = \"" << kNodeAddr << ":" << kClient
           << "\" },\n"
           << "  { id = \"other-1\", order = 1, peer = \"" << kUnknown
           << ":7400\", client = \"" << kUnknown << ":7500\" },\n"
           << "  { id = \"other-2\", order = 1, peer = \"10.200.0.9:7400\", "
              "client = \"10.200.0.9:7500\" },\n]\n"
           << "[consensus]\nplugin = \"raft\"\n";
    } else {
      mode << "[consensus]\nplugin = \"solo\"\n";
    }
    std::ofstream(config)
        << "[node]\nid = \"radiant-e2e\"\ndata_dir = \""
        << (dir_ / "data").string() << "\"\nlisten_peer = \"" << kNodeAddr
        << ":" << kPeer << "\"\nlisten_client = \"" << kNodeAddr << ":"
        << kClient << "\"\n" << (with_layout ? "" : "single_node = true\n")
        << "[cluster]\nshards = 8\ntick_ms = 20\n"
        << (with_layout ? "replication_factor = 3\n" : "")
        << "[metrics]\nlisten = \"" << kNodeAddr << ":" << kMetrics << "\"\n"
        << "[storage]\nplugin = \"storage-mem\"\n"
        << mode.str()
        << "[classifier]\nplugin = \"bpf-qdisc\"\nrequired = true\n"
        << "interface = \"veth-a\"\nallowed_cidrs = [" << allowed_cidrs
        << "]\njoin_port = " << kJoin << "\njoin_rate = 0\njoin_burst = 2\n"
        << "client_priority = \"1:3\"\n"
        << "[plugins]\ndirs = [\"" << SB_PLUGIN_BUILD_DIR << "\"]\n"
        << "[logging]\nsink = \"file\"\nfile = \""
        << (dir_ / "node.log").string() << "\"\n";
    const std::string netns = "/run/netns/" + pair_->a();
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(126);
      execl(SHARDBEARERD, SHARDBEARERD, "--config", config.c_str(), nullptr);
      _exit(127);
    }
    ASSERT_GT(pid_, 0);
    // Bounded: up to 30 s for the node to start and attach; the probe
    // connects from the allowed address.
    bool up = false;
    for (int i = 0; i < 60 && !up; ++i) {
      ASSERT_EQ(waitpid(pid_, nullptr, WNOHANG), 0)
          << "shardbearerd exited; log in " << (dir_ / "node.log");
      up = Connect(kAllowed, kClient, 500) == ConnectResult::kConnected;
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_TRUE(up) << "client port never opened; log in "
                    << (dir_ / "node.log");
  }

  // Stops the node with `sig` and waits (bounded) for it.
  int StopNode(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = -1;
    for (int i = 0; i < 600; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (i == 599) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    pid_ = -1;
    return status;
  }

  ConnectResult Connect(const std::string& src, uint16_t port,
                        int timeout_ms = kConnectMs) {
    ScopedNetns in_b(pair_->b());
    EXPECT_TRUE(in_b.ok());
    return TryConnect(src, kNodeAddr, port, timeout_ms);
  }

  // Admin status, asked from namespace B (source 10.200.0.2).
  w::NodeStatus Status() {
    ScopedNetns in_b(pair_->b());
    EXPECT_TRUE(in_b.ok());
    sb::client::ConnectOptions o;
    o.address = std::string(kNodeAddr) + ":" + std::to_string(kClient);
    auto conn = sb::client::Connection::Open(o, nullptr);
    EXPECT_TRUE(conn.ok()) << conn.error().message;
    w::NodeStatus s;
    if (!conn.ok()) return s;
    w::AdminClient admin(conn.value()->protocol());
    admin.status(s);
    return s;
  }

  // GET /metrics from namespace B.
  std::string Scrape() {
    ScopedNetns in_b(pair_->b());
    EXPECT_TRUE(in_b.ok());
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kMetrics);
    inet_pton(AF_INET, kNodeAddr, &a.sin_addr);
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string out;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      const std::string req = "GET /metrics HTTP/1.1\r\nHost: n\r\n\r\n";
      send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      char buf[4096];
      for (int i = 0; i < 1000; ++i) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
      }
    }
    close(fd);
    return out;
  }

  std::unique_ptr<NetnsPair> pair_;
  fs::path dir_;
  pid_t pid_ = -1;
};

TEST_F(DaemonE2ETest, ClassifierProtectsARealNode) {
  StartNode("\"10.200.0.2/32\"");
  if (HasFatalFailure()) return;
  // (The start-up probe's connect already sent a SYN-ACK through 1:3.)
  const long class_before = ClassPackets(pair_->a(), "1:3");
  ASSERT_GE(class_before, 0) << "no class 1:3 in tc -s class show";

  // The allowed client is served through the C++ client library.
  {
    ScopedNetns in_b(pair_->b());
    ASSERT_TRUE(in_b.ok());
    sb::client::ClientOptions o;
    o.addresses = {std::string(kNodeAddr) + ":" + std::to_string(kClient)};
    o.max_attempts = 3;
    sb::client::Client client(o);
    auto put = client.Put("e2e-key", "e2e-value");
    ASSERT_TRUE(put.ok()) << put.error().message;
    auto got = client.Get("e2e-key");
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_TRUE(got.value().has_value());
    EXPECT_EQ(*got.value(), "e2e-value");
  }
  // Answers to clients went through HTB class 1:3 (client_priority).
  EXPECT_GT(ClassPackets(pair_->a(), "1:3"), class_before);

  // The unknown address cannot reach the client or the peer port.
  EXPECT_EQ(Connect(kUnknown, kClient, kBlockedMs), ConnectResult::kTimedOut);
  EXPECT_EQ(Connect(kUnknown, kPeer, kBlockedMs), ConnectResult::kTimedOut);

  // Join-port flood from the unknown address: burst 2, no refill. Nothing
  // listens there yet, so an admitted SYN meets a RST (refused); a limited
  // one is dropped (timeout).
  EXPECT_EQ(Connect(kUnknown, kJoin), ConnectResult::kRefused);
  EXPECT_EQ(Connect(kUnknown, kJoin), ConnectResult::kRefused);
  EXPECT_EQ(Connect(kUnknown, kJoin, kBlockedMs), ConnectResult::kTimedOut);
  EXPECT_EQ(Connect(kUnknown, kJoin, kBlockedMs), ConnectResult::kTimedOut);

  const w::NodeStatus s = Status();
  ASSERT_TRUE(s.__isset.classifier);
  const w::ClassifierStatus& c = s.classifier;
  EXPECT_EQ(c.plugin, "bpf-qdisc");
  EXPECT_TRUE(c.attached) << c.disabled_reason;
  EXPECT_EQ(c.interface_name, "veth-a");
  EXPECT_EQ(c.client_port, kClient);
  EXPECT_EQ(c.peer_port, kPeer);
  EXPECT_EQ(c.join_port, kJoin);
  EXPECT_EQ(c.join_admitted, 2);
  EXPECT_GE(c.join_limited, 2);
  EXPECT_GE(c.dropped, 2);
  EXPECT_GE(c.allowed, 2);
  EXPECT_GE(c.egress_client_marked, 1);

  // The operator's views of the same counters.
  const std::string ctl =
      ShOutput("ip netns exec " + pair_->b() + " " + SHARDBEARER_CTL +
               " --address 10.200.0.1:" + std::to_string(kClient) + " status");
  EXPECT_THAT(ctl, HasSubstr("classifier    bpf-qdisc on veth-a: attached"));
  EXPECT_THAT(ctl, HasSubstr("join        admitted 2, limited "));
  EXPECT_THAT(ctl, HasSubstr(", join " + std::to_string(kJoin)));
  const std::string metrics = Scrape();
  EXPECT_THAT(metrics, HasSubstr("shardbearer_classifier_attached{plugin="
                                 "\"bpf-qdisc\",interface=\"veth-a\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("shardbearer_classifier_packets_total{"
                                 "result=\"join_admitted\"} 2\n"));

  // A clean stop removes the node's filters.
  const int status = StopNode(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const std::string filters = ShOutput("ip netns exec " + pair_->a() +
                                       " tc filter show dev veth-a ingress");
  EXPECT_EQ(filters.find("sb_ingress"), std::string::npos) << filters;

  // The static allowlist changes with a restart.
  StartNode("\"10.200.0.2/32\", \"10.200.0.3/32\"");
  if (HasFatalFailure()) return;
  EXPECT_EQ(Connect(kUnknown, kClient), ConnectResult::kConnected);
  EXPECT_TRUE(Status().classifier.attached);
}

// The layout is the membership: the other radiants' hosts reach the
// protected ports without being in allowed_cidrs.
TEST_F(DaemonE2ETest, LayoutMembersAreOnTheAllowlist) {
  StartNode("\"10.200.0.2/32\"", /*with_layout=*/true);
  if (HasFatalFailure()) return;
  EXPECT_EQ(Connect(kUnknown, kClient), ConnectResult::kConnected);
  EXPECT_EQ(Connect(kUnknown, kPeer), ConnectResult::kConnected);
  const int status = StopNode(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace sb::bpftest
