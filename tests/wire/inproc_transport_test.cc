// The in-process transport: manual (deterministic) and real-time delivery,
// seeded faults (loss, duplication, reordering, delay), partitions incl.
// one-way, the handshake-equivalent checks, and the overflow policy. Used
// through the host's Transport wrapper, as a harness would.
#include "tests/support/inproc_transport/inproc_transport.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "host/config/plugin_section.h"
#include "host/transport/transport.h"
#include "tests/wire/test_support.h"

namespace sb::test {
namespace {

using inproc::Faults;
using inproc::Network;

// Records every delivery on the network as "to<-from:msg".
struct Cluster {
  explicit Cluster(uint64_t seed, Network::Mode mode = Network::Mode::kManual,
                   std::string cluster_of_3 = "c", size_t queue = 4096)
      : net("net-" + std::to_string(seed) + "-" +
                std::to_string(reinterpret_cast<uintptr_t>(this)),
            seed, mode) {
    for (uint64_t id = 1; id <= 3; ++id) {
      PluginConfigAbi cfg{{"network", net.name()},
                          {"send_queue_messages", std::to_string(queue)}};
      TransportOptions o;
      o.local_node_id = id;
      o.cluster_id = id == 3 ? cluster_of_3 : "c";
      o.listen_address = "node-" + std::to_string(id);
      o.host = log.services();
      o.config = cfg.get();
      auto t = Transport::Create(Network::Vtable(), nullptr, o,
                                 [this, id](uint64_t from, std::string_view m) {
                                   std::lock_guard<std::mutex> lock(mu);
                                   trace.push_back(std::to_string(id) + "<-" +
                                                   std::to_string(from) + ":" +
                                                   std::string(m));
                                 });
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      nodes.push_back(std::move(*t));
      EXPECT_TRUE(nodes.back()->Listen().ok());
    }
    for (uint64_t a = 1; a <= 3; ++a) {
      for (uint64_t b = 1; b <= 3; ++b) {
        if (a != b) {
          EXPECT_TRUE(node(a)->AddPeer(b, "node-" + std::to_string(b)).ok());
        }
      }
    }
  }
  ~Cluster() { nodes.clear(); }
  Transport* node(uint64_t id) { return nodes[id - 1].get(); }
  std::vector<std::string> Trace() {
    std::lock_guard<std::mutex> lock(mu);
    return trace;
  }

  LogCapture log;
  Network net;
  std::vector<std::unique_ptr<Transport>> nodes;
  std::mutex mu;
  std::vector<std::string> trace;
};

std::string M(int i) { return "m" + std::to_string(i); }

TEST(InprocTransport, ManualModeDeliversOnlyWhenStepped) {
  Cluster c(1);
  ASSERT_TRUE(c.node(1)->Send(2, "hello").ok());
  ASSERT_TRUE(c.node(2)->Send(1, "back").ok());
  EXPECT_TRUE(c.Trace().empty());
  EXPECT_EQ(c.net.pending(), 2u);
  EXPECT_TRUE(c.net.Step());
  EXPECT_EQ(c.Trace(), std::vector<std::string>{"2<-1:hello"});
  EXPECT_EQ(c.net.DeliverAll(), 1u);
  EXPECT_EQ(c.Trace().back(), "1<-2:back");
  EXPECT_FALSE(c.net.Step());
  EXPECT_EQ(c.node(2)->Stats().messages_received, 1u);
}

TEST(InprocTransport, DelaysFollowVirtualTime) {
  Cluster c(2);
  Faults f;
  f.min_delay_us = f.max_delay_us = 1000;
  c.net.SetFaults(f);
  ASSERT_TRUE(c.node(1)->Send(2, "late").ok());
  EXPECT_EQ(c.net.AdvanceTime(999), 0u);
  EXPECT_TRUE(c.Trace().empty());
  EXPECT_EQ(c.net.AdvanceTime(1), 1u);
  EXPECT_EQ(c.net.now_us(), 1000u);
}

std::vector<std::string> FaultyRun(uint64_t seed) {
  Cluster c(seed);
  Faults f;
  f.drop = 0.2;
  f.duplicate = 0.2;
  f.reorder = 0.3;
  f.max_delay_us = 500;
  f.reorder_delay_us = 2000;
  c.net.SetFaults(f);
  for (int i = 0; i < 300; ++i) {
    EXPECT_TRUE(c.node(1 + i % 3)->Send(1 + (i + 1) % 3, M(i)).ok());
    if (i % 7 == 0) c.net.Step();
  }
  c.net.DeliverAll();
  auto s = c.net.stats();
  EXPECT_GT(s.dropped, 0u);
  EXPECT_GT(s.duplicated, 0u);
  EXPECT_EQ(s.sent, 300u);
  EXPECT_EQ(s.delivered, 300u - s.dropped + s.duplicated);
  return c.Trace();
}

TEST(InprocTransport, SameSeedReplaysTheSameFaults) {
  auto a = FaultyRun(42);
  auto b = FaultyRun(42);
  EXPECT_EQ(a, b);
  auto other = FaultyRun(43);
  EXPECT_NE(a, other);
}

TEST(InprocTransport, ReorderingChangesOrderWithoutLoss) {
  Cluster c(3);
  Faults f;
  f.reorder = 0.5;
  c.net.SetFaults(f);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(c.node(1)->Send(2, M(i)).ok());
  c.net.DeliverAll();
  auto t = c.Trace();
  ASSERT_EQ(t.size(), 100u);
  std::vector<std::string> in_order;
  for (int i = 0; i < 100; ++i) in_order.push_back("2<-1:" + M(i));
  EXPECT_NE(t, in_order);
  std::sort(t.begin(), t.end());
  std::sort(in_order.begin(), in_order.end());
  EXPECT_EQ(t, in_order);
}

TEST(InprocTransport, PartitionsIncludingOneWay) {
  Cluster c(4);
  c.net.Partition({{1}, {2, 3}});
  ASSERT_TRUE(c.node(1)->Send(2, "lost").ok());
  ASSERT_TRUE(c.node(2)->Send(1, "lost too").ok());
  ASSERT_TRUE(c.node(2)->Send(3, "same side").ok());
  c.net.DeliverAll();
  EXPECT_EQ(c.Trace(), std::vector<std::string>{"3<-2:same side"});
  c.net.Heal();
  c.net.BlockLink(1, 2);  // 1 cannot reach 2, but 2 reaches 1
  ASSERT_TRUE(c.node(1)->Send(2, "blocked").ok());
  ASSERT_TRUE(c.node(2)->Send(1, "open").ok());
  c.net.DeliverAll();
  EXPECT_EQ(c.Trace().back(), "1<-2:open");
  EXPECT_EQ(c.Trace().size(), 2u);
  // A message in flight when the partition starts is lost.
  c.net.Heal();
  ASSERT_TRUE(c.node(1)->Send(3, "in flight").ok());
  c.net.Partition({{1, 2}, {3}});
  c.net.DeliverAll();
  EXPECT_EQ(c.Trace().size(), 2u);
  EXPECT_GE(c.net.stats().partitioned, 4u);
  c.net.Heal();
  ASSERT_TRUE(c.node(1)->Send(3, "healed").ok());
  c.net.DeliverAll();
  EXPECT_EQ(c.Trace().back(), "3<-1:healed");
}

TEST(InprocTransport, RefusesLikeTheRealHandshake) {
  Cluster c(5, Network::Mode::kManual, /*cluster_of_3=*/"other");
  ASSERT_TRUE(c.node(1)->Send(3, "wrong cluster").ok());
  ASSERT_TRUE(c.node(2)->RemovePeer(1).ok());
  ASSERT_TRUE(c.node(1)->Send(2, "unknown peer").ok());
  // 1 believes node 2 lives at node 3's address.
  ASSERT_TRUE(c.node(1)->UpdatePeer(2, "node-3").ok());
  ASSERT_TRUE(c.node(1)->Send(2, "wrong node").ok());
  c.net.DeliverAll();
  EXPECT_TRUE(c.Trace().empty());
  EXPECT_TRUE(c.log.Contains("cluster id 'c' is not ours ('other')"));
  EXPECT_TRUE(c.log.Contains("node 1 is not a known peer"));
  EXPECT_TRUE(c.log.Contains("dialed node 2 but this is node 3"));
  EXPECT_EQ(c.net.stats().refused, 3u);
  EXPECT_EQ(c.node(1)->Send(9, "x").code(), Code::kNotFound);
}

TEST(InprocTransport, FullQueueAnswersBusy) {
  Cluster c(6, Network::Mode::kManual, "c", /*queue=*/2);
  EXPECT_TRUE(c.node(1)->Send(2, "a").ok());
  EXPECT_TRUE(c.node(1)->Send(2, "b").ok());
  EXPECT_EQ(c.node(1)->Send(2, "c").code(), Code::kBusy);
  EXPECT_TRUE(c.node(1)->Send(3, "other link").ok());
  c.net.Step();
  EXPECT_TRUE(c.node(1)->Send(2, "room again").ok());
  EXPECT_EQ(c.node(1)->Stats().send_busy, 1u);
}

TEST(InprocTransport, RealTimeModeDeliversOnItsThread) {
  Cluster c(7, Network::Mode::kRealTime);
  Faults f;
  f.min_delay_us = 100;
  f.max_delay_us = 2000;
  c.net.SetFaults(f);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(c.node(1)->Send(2, M(i)).ok());
  ASSERT_TRUE(WaitFor([&] { return c.Trace().size() == 200; }));
  EXPECT_EQ(c.net.pending(), 0u);
  c.node(2)->Shutdown();
  ASSERT_TRUE(c.node(1)->Send(2, "to a stopped node").ok());
  ASSERT_TRUE(WaitFor([&] { return c.net.pending() == 0; }));
  EXPECT_EQ(c.Trace().size(), 200u);
}

TEST(InprocTransport, ConfigIsCheckedLikeAPlugin) {
  sb_status st{};
  PluginConfigAbi unknown{{"network", "x"}, {"latency", "5"}};
  EXPECT_EQ(Network::Vtable()->check_config(unknown.get(), &st),
            SB_INVALID_ARGUMENT);
  EXPECT_NE(std::string(st.message).find("latency"), std::string::npos);
  PluginConfigAbi missing;
  EXPECT_EQ(Network::Vtable()->check_config(missing.get(), &st),
            SB_INVALID_ARGUMENT);
  EXPECT_EQ(Network::Info()->kind, static_cast<uint32_t>(SB_KIND_TRANSPORT));
}

}  // namespace
}  // namespace sb::test
