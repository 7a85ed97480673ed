// End-to-end tests of bpf-qdisc in two network namespaces joined by a veth
// pair: the classifier is attached to veth-a in namespace A (through the
// host's ClassifierManager and the real plugin), a TCP server listens
// there, and clients connect from namespace B from allowed and unknown
// source addresses. Every namespace, filter and socket is removed at the
// end, also on failure. Skips when namespaces or BPF are not available.
//
// Timing: an unknown source's connect is expected to time out after
// kBlockedMs (its SYN is dropped); an allowed one gets a SYN-ACK at once
// but is given kConnectMs. A slow machine can only make a blocked connect
// look blocked, never an allowed one look blocked within kConnectMs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "host/classifier/classifier_manager.h"
#include "test_support.h"

namespace sb::bpftest {
namespace {

constexpr uint16_t kClient = 17000;
constexpr uint16_t kPeer = 17001;
constexpr uint16_t kJoin = 17002;
constexpr int kBlockedMs = 1200;
constexpr int kConnectMs = 5000;

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_ = LoadBpfQdisc();
    ASSERT_TRUE(plugin_.error.empty()) << plugin_.error;
    pair_ = std::make_unique<NetnsPair>();
    if (!pair_->error().empty()) GTEST_SKIP() << pair_->error();
  }
  void TearDown() override {
    manager_.reset();  // detaches (entering namespace A by itself)
    listeners_.clear();
    pair_.reset();  // deletes both namespaces
  }

  // Starts the manager in namespace A and listens on the three ports on
  // both address families there.
  // The section as the config module would produce it from
  //   [classifier]
  //   plugin = "bpf-qdisc"
  //   required = true
  //   interface = "veth-a"
  //   allowed_cidrs = ["10.200.0.2/32", "fd00:5342::2/128"]
  void StartClassifier(std::vector<PluginConfigEntry> extra = {}) {
    PluginSection s;
    s.table = "classifier";
    s.plugin = "bpf-qdisc";
    s.required = true;
    s.present = true;
    s.entries = {
        {"interface", "veth-a"},
        {"allowed_cidrs", "10.200.0.2/32,fd00:5342::2/128", SB_CONFIG_ARRAY},
    };
    for (auto& e : extra) s.entries.push_back(e);
    ScopedNetns in_a(pair_->a());
    ASSERT_TRUE(in_a.ok());
    PluginLoader loader({SB_PLUGIN_BUILD_DIR});
    auto m = ClassifierManager::Start(loader, s, host_.services(),
                                      ClassifierPorts{kClient, kPeer, kJoin});
    if (!m.ok() && m.status().code() == Code::kPermissionDenied) {
      GTEST_SKIP() << m.status().ToString();
    }
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manager_ = std::move(m).value();
    for (const char* addr : {"10.200.0.1", "fd00:5342::1"}) {
      for (uint16_t port : {kClient, kPeer, kJoin}) {
        listeners_.push_back(std::make_unique<Listener>(addr, port));
        ASSERT_TRUE(listeners_.back()->ok()) << addr << " " << port;
      }
    }
  }

  ConnectResult Connect(const std::string& src, const std::string& dst,
                        uint16_t port, int timeout_ms = kConnectMs) {
    ScopedNetns in_b(pair_->b());
    EXPECT_TRUE(in_b.ok());
    return TryConnect(src, dst, port, timeout_ms);
  }

  ClassifierCounters Counters() {
    auto c = manager_->Counters();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : ClassifierCounters{};
  }

  std::string TcFilters(const char* dir) {
    return ShOutput("ip netns exec " + pair_->a() + " tc filter show dev " +
                    "veth-a " + dir);
  }

  LoadedPlugin plugin_;
  RecordingHost host_;
  std::unique_ptr<NetnsPair> pair_;
  std::unique_ptr<ClassifierManager> manager_;
  std::vector<std::unique_ptr<Listener>> listeners_;
};

TEST_F(NetnsTest, AllowedSourceConnectsUnknownSourceTimesOut) {
  StartClassifier();
  if (IsSkipped()) return;
  EXPECT_EQ(Connect("10.200.0.2", "10.200.0.1", kClient),
            ConnectResult::kConnected);
  EXPECT_EQ(Connect("10.200.0.2", "10.200.0.1", kPeer),
            ConnectResult::kConnected);
  EXPECT_EQ(Connect("10.200.0.3", "10.200.0.1", kClient, kBlockedMs),
            ConnectResult::kTimedOut);
  EXPECT_EQ(Connect("fd00:5342::2", "fd00:5342::1", kPeer),
            ConnectResult::kConnected);
  EXPECT_EQ(Connect("fd00:5342::3", "fd00:5342::1", kPeer, kBlockedMs),
            ConnectResult::kTimedOut);
  auto c = Counters();
  EXPECT_GE(c.allowed, 3u);  // at least the three SYNs
  EXPECT_GE(c.dropped, 2u);
  // Replies from the peer port left through the egress program.
  EXPECT_GE(c.egress_peer_marked, 2u);
  EXPECT_GE(c.egress_client_marked, 1u);
}

TEST_F(NetnsTest, MemberAddedAtRuntimeGetsThroughAndRemovedIsBlocked) {
  StartClassifier();
  if (IsSkipped()) return;
  EXPECT_EQ(Connect("10.200.0.3", "10.200.0.1", kPeer, kBlockedMs),
            ConnectResult::kTimedOut);
  ASSERT_TRUE(manager_->OnMemberJoined("10.200.0.3:17001").ok());
  EXPECT_EQ(Connect("10.200.0.3", "10.200.0.1", kPeer),
            ConnectResult::kConnected);
  ASSERT_TRUE(manager_->OnMemberRemoved("10.200.0.3:17001").ok());
  EXPECT_EQ(Connect("10.200.0.3", "10.200.0.1", kPeer, kBlockedMs),
            ConnectResult::kTimedOut);
  ASSERT_TRUE(manager_->OnMemberJoined("[fd00:5342::3]:17001").ok());
  EXPECT_EQ(Connect("fd00:5342::3", "fd00:5342::1", kClient),
            ConnectResult::kConnected);
}

TEST_F(NetnsTest, JoinPortAdmitsUnknownSourcesAtTheRate) {
  // No refill, burst 2: exactly two new connections from unknown sources.
  StartClassifier({{"join_rate", "0", SB_CONFIG_INTEGER},
                   {"join_burst", "2", SB_CONFIG_INTEGER}});
  if (IsSkipped()) return;
  EXPECT_EQ(Connect("10.200.0.3", "10.200.0.1", kJoin),
            ConnectResult::kConnected);
  EXPECT_EQ(Connect("fd00:5342::3", "fd00:5342::1", kJoin),
            ConnectResult::kConnected);
  EXPECT_EQ(Connect("10.200.0.3", "10.200.0.1", kJoin, kBlockedMs),
            ConnectResult::kTimedOut);
  // Known members do not need a token.
  EXPECT_EQ(Connect("10.200.0.2", "10.200.0.1", kJoin),
            ConnectResult::kConnected);
  auto c = Counters();
  EXPECT_EQ(c.join_admitted, 2u);
  EXPECT_GE(c.join_limited, 1u);
}

// Packets sent through class `classid` of veth-a's root qdisc, from
// `tc -s class show` ("Sent <bytes> bytes <pkts> pkt"); -1 if not found.
long ClassPackets(const std::string& ns, const std::string& classid) {
  std::string out = ShOutput("ip netns exec " + ns +
                             " tc -s class show dev veth-a classid " + classid);
  size_t sent = out.find("Sent ");
  if (sent == std::string::npos) return -1;
  size_t bytes = out.find(" bytes ", sent);
  if (bytes == std::string::npos) return -1;
  return std::strtol(out.c_str() + bytes + 7, nullptr, 10);
}

TEST_F(NetnsTest, EgressPriorityPicksTheRootQdiscClass) {
  // An HTB root whose default class is 1:1: HTB puts a packet in class
  // 1:4 only when its skb->priority says 1:4, i.e. when the egress program
  // marked it.
  const std::string tc = "ip netns exec " + pair_->a() + " tc ";
  for (const std::string& cmd :
       {tc + "qdisc add dev veth-a root handle 1: htb default 1",
        tc + "class add dev veth-a parent 1: classid 1:1 htb rate 1gbit",
        tc + "class add dev veth-a parent 1: classid 1:4 htb rate 1gbit"}) {
    if (Sh(cmd) != 0) GTEST_SKIP() << "HTB not available: " << cmd;
  }
  StartClassifier({{"peer_priority", "1:4"}});
  if (IsSkipped()) return;
  EXPECT_EQ(ClassPackets(pair_->a(), "1:4"), 0);
  EXPECT_EQ(Connect("10.200.0.2", "10.200.0.1", kClient),
            ConnectResult::kConnected);
  EXPECT_EQ(ClassPackets(pair_->a(), "1:4"), 0);  // client traffic: not 1:4
  EXPECT_EQ(Connect("10.200.0.2", "10.200.0.1", kPeer),
            ConnectResult::kConnected);
  EXPECT_GE(ClassPackets(pair_->a(), "1:4"), 1);  // the SYN-ACK at least
  EXPECT_GE(Counters().egress_peer_marked, 1u);
}

TEST_F(NetnsTest, FiltersAreVisibleToTcAndRemovedOnDestroy) {
  StartClassifier();
  if (IsSkipped()) return;
  std::string in = TcFilters("ingress");
  std::string out = TcFilters("egress");
  EXPECT_NE(in.find("sb_ingress"), std::string::npos) << in;
  EXPECT_NE(out.find("sb_egress"), std::string::npos) << out;
  manager_.reset();
  EXPECT_EQ(TcFilters("ingress").find("sb_ingress"), std::string::npos);
  EXPECT_EQ(TcFilters("egress").find("sb_egress"), std::string::npos);
  // The clsact qdisc this classifier created is gone too.
  std::string qdiscs =
      ShOutput("ip netns exec " + pair_->a() + " tc qdisc show dev veth-a");
  EXPECT_EQ(qdiscs.find("clsact"), std::string::npos) << qdiscs;
}

TEST_F(NetnsTest, StaleFilterIsReplacedNotDuplicated) {
  // A classifier that is never destroyed stands for a crashed process: its
  // filters stay. A new one attaching at the same handle/priority replaces
  // them, and the stale instance's later destroy leaves the new ones alone.
  ScopedNetns in_a(pair_->a());
  ASSERT_TRUE(in_a.ok());
  sb_status st = {};
  sb_config_entry e[] = {
      {sizeof(sb_config_entry), SB_CONFIG_STRING, "interface", "veth-a"}};
  sb_config cfg = {sizeof(sb_config), e, 1};
  sb_classifier* stale = nullptr;
  sb_code rc = plugin_.vtable->create(host_.services(), &cfg, &stale, &st);
  if (rc == SB_PERMISSION_DENIED) GTEST_SKIP() << st.message;
  ASSERT_EQ(rc, SB_OK) << st.message;
  ASSERT_EQ(plugin_.vtable->attach(stale, nullptr, &st), SB_OK) << st.message;
  sb_classifier* fresh = nullptr;
  ASSERT_EQ(plugin_.vtable->create(host_.services(), &cfg, &fresh, &st), SB_OK);
  ASSERT_EQ(plugin_.vtable->attach(fresh, "", &st), SB_OK) << st.message;
  EXPECT_TRUE(host_.Logged("replacing a stale ingress filter"));
  // One filter at our handle, now running the fresh instance's program.
  std::string in = TcFilters("ingress");
  size_t first = in.find("handle 0x5342 ");
  ASSERT_NE(first, std::string::npos) << in;
  EXPECT_EQ(in.find("handle 0x5342 ", first + 1), std::string::npos) << in;
  // The stale instance no longer owns the filter: it must not remove it.
  // (It created the clsact qdisc, but must not remove it while the fresh
  // instance's filters are in it.)
  plugin_.vtable->destroy(stale);
  EXPECT_TRUE(host_.Logged("not ours"));
  EXPECT_NE(TcFilters("ingress").find("sb_ingress"), std::string::npos);
  EXPECT_NE(TcFilters("egress").find("sb_egress"), std::string::npos);
  EXPECT_EQ(plugin_.vtable->attach(fresh, "veth-a", &st), SB_ALREADY_EXISTS);
  plugin_.vtable->destroy(fresh);
  EXPECT_EQ(TcFilters("ingress").find("sb_ingress"), std::string::npos);
}

TEST_F(NetnsTest, UnknownInterfaceIsAClearError) {
  ScopedNetns in_a(pair_->a());
  ASSERT_TRUE(in_a.ok());
  sb_status st = {};
  sb_classifier* c = nullptr;
  sb_code rc = plugin_.vtable->create(host_.services(), nullptr, &c, &st);
  if (rc == SB_PERMISSION_DENIED) GTEST_SKIP() << st.message;
  ASSERT_EQ(rc, SB_OK) << st.message;
  EXPECT_EQ(plugin_.vtable->attach(c, "nosuchif0", &st), SB_NOT_FOUND);
  EXPECT_NE(std::string(st.message).find("nosuchif0"), std::string::npos);
  EXPECT_EQ(plugin_.vtable->attach(c, nullptr, &st), SB_INVALID_ARGUMENT);
  EXPECT_NE(std::string(st.message).find("interface"), std::string::npos);
  plugin_.vtable->destroy(c);
}

}  // namespace
}  // namespace sb::bpftest
