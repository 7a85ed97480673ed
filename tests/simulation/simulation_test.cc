// Tests of the simulation harness itself: determinism, crash semantics of
// the simulated disk, network partitions, and that the checker catches
// violations (a checker that cannot fail proves nothing).
#include <gtest/gtest.h>

#include "tests/simulation/cluster.h"

namespace sb::sim {
namespace {

uint64_t RunScenario(uint64_t seed) {
  ClusterOptions o;
  o.seed = seed;
  o.net = NetworkOptions::Unreliable();
  Cluster c(o);
  EXPECT_TRUE(c.Start().ok());
  for (int i = 0; i < 20; ++i) {
    uint64_t l = c.Leader();
    if (l != 0) (void)c.Propose(l, "k=" + std::to_string(i), nullptr);
    c.RunTicks(10);
  }
  EXPECT_TRUE(c.ok()) << c.Report();
  // The run did real work (elections and commits), so equal hashes mean
  // something.
  EXPECT_GT(c.checker().max_committed_index(), 5u) << c.Report();
  return c.trace_hash();
}

TEST(Simulation, SameSeedReplaysExactly) {
  EXPECT_EQ(RunScenario(42), RunScenario(42));
  EXPECT_NE(RunScenario(42), RunScenario(43));
}

TEST(SimDisk, CrashLosesOnlyUnsyncedWrites) {
  SimDisk d;
  d.SetHardState("synced");
  d.Sync();
  d.SetHardState("unsynced");
  EXPECT_EQ(d.state().hard_state, "unsynced");
  d.Crash();
  EXPECT_EQ(d.state().hard_state, "synced");
}

TEST(SimDisk, AppendOverwritesSuffixAndReadsBack) {
  SimDisk d;
  std::vector<EntryView> a = {{EntryType::kNormal, 1, "m", "a"},
                              {EntryType::kNormal, 2, "m", "b"},
                              {EntryType::kNormal, 3, "m", "c"}};
  d.AppendEntries(a);
  std::vector<EntryView> b = {{EntryType::kNormal, 2, "m", "x"}};
  d.AppendEntries(b);
  uint64_t first, last;
  ASSERT_TRUE(d.Range(&first, &last).ok());
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(last, 2u);
  std::vector<std::string> got;
  ASSERT_TRUE(d.Entries(1, 3, 1, [&](const LogEntry& e) {
                 got.push_back(e.data);
               }).ok());
  EXPECT_EQ(got, std::vector<std::string>{"a"});  // budget: one entry
  EXPECT_TRUE(d.Entries(0, 2, 100, [](const LogEntry&) {}).IsNotFound());
}

TEST(ClusterNetwork, OneWayPartitionDisconnectAndHeal) {
  ClusterNetwork net(1);
  net.SetLink(1, 2, false);
  EXPECT_FALSE(net.CanTalk(1, 2));
  EXPECT_TRUE(net.CanTalk(2, 1));
  // Nodes in no group are cut off; earlier links are cleared.
  net.Partition({{1, 2}}, {1, 2, 3});
  EXPECT_TRUE(net.CanTalk(1, 2));
  EXPECT_FALSE(net.CanTalk(1, 3));
  EXPECT_FALSE(net.CanTalk(3, 2));
  EXPECT_TRUE(net.IsConnected(3));  // cut off by the partition only
  net.Heal();
  EXPECT_TRUE(net.CanTalk(3, 1));
  net.SetConnected(2, false);
  EXPECT_FALSE(net.CanTalk(1, 2));
  EXPECT_FALSE(net.CanTalk(2, 3));
  EXPECT_TRUE(net.CanTalk(1, 3));
  net.SetConnected(2, true);
  EXPECT_TRUE(net.CanTalk(1, 2));
}

TEST(ClusterNetwork, TickDelaysMapOntoTheInprocNetwork) {
  NetworkOptions o = NetworkOptions::Unreliable();
  inproc::Faults f = o.ToFaults();
  EXPECT_EQ(f.min_delay_us, kTickUs);
  EXPECT_EQ(f.max_delay_us, 3 * kTickUs);
  EXPECT_EQ(f.max_delay_us + f.reorder_delay_max_us, 40 * kTickUs);
  EXPECT_DOUBLE_EQ(f.drop, 0.1);
  EXPECT_DOUBLE_EQ(f.reorder, 0.02);
}

// Messages really travel through each node's sb_transport: the transport
// counters add up to the network's, and a partitioned node receives
// nothing while it is cut off.
TEST(Simulation, MessagesGoThroughTheTransports) {
  ClusterOptions o;
  o.seed = 7;
  Cluster c(o);
  ASSERT_TRUE(c.Start().ok());
  uint64_t leader = c.CheckOneLeader();
  ASSERT_NE(leader, 0u) << c.Report();
  ASSERT_NE(c.One("x", 3, true), 0u) << c.Report();
  uint64_t sent = 0, received = 0;
  for (uint64_t id : c.ids()) {
    sb_transport_stats s = c.TransportStats(id);
    EXPECT_GT(s.messages_sent, 0u) << "node " << id;
    EXPECT_GT(s.messages_received, 0u) << "node " << id;
    sent += s.messages_sent;
    received += s.messages_received;
  }
  NetworkStats ns = c.net_stats();
  EXPECT_EQ(ns.sent, sent);
  EXPECT_EQ(ns.delivered, received);

  uint64_t other = leader % 3 + 1;
  c.Disconnect(other);
  uint64_t before = c.TransportStats(other).messages_received;
  c.RunTicks(50);
  EXPECT_EQ(c.TransportStats(other).messages_received, before);
  c.Connect(other);
  c.RunTicks(50);
  EXPECT_GT(c.TransportStats(other).messages_received, before);
  EXPECT_TRUE(c.ok()) << c.Report();
}

TEST(Checker, CatchesTwoLeadersInOneTerm) {
  Checker c;
  ConsensusStatus st;
  st.role = Role::kLeader;
  st.term = 3;
  c.OnStatus(1, st);
  EXPECT_TRUE(c.ok());
  c.OnStatus(2, st);
  EXPECT_FALSE(c.ok());
}

TEST(Checker, CatchesChangedCommittedEntryAndTermRegression) {
  Checker c;
  c.OnApply(1, 0, 1, EntryType::kNormal, "a", 7);
  c.OnApply(2, 0, 1, EntryType::kNormal, "a", 7);
  EXPECT_TRUE(c.ok());
  c.OnApply(3, 0, 1, EntryType::kNormal, "b", 7);
  EXPECT_FALSE(c.ok());

  Checker t;
  ConsensusStatus st;
  st.term = 5;
  t.OnStatus(1, st);
  st.term = 4;
  t.OnStatus(1, st);
  EXPECT_FALSE(t.ok());

  Checker g;
  g.OnApply(1, 0, 2, EntryType::kNormal, "a", 1);  // gap: 1 never applied
  EXPECT_FALSE(g.ok());
}

}  // namespace
}  // namespace sb::sim
