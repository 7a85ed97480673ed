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

TEST(Network, OneWayPartitionAndHeal) {
  Rng rng(1);
  Network net(&rng);
  net.SetLink(1, 2, false);
  EXPECT_FALSE(net.CanTalk(1, 2));
  EXPECT_TRUE(net.CanTalk(2, 1));
  net.Partition({{1, 2}, {3}}, {1, 2, 3});
  EXPECT_TRUE(net.CanTalk(1, 2));
  EXPECT_FALSE(net.CanTalk(1, 3));
  EXPECT_FALSE(net.CanTalk(3, 2));
  net.Heal();
  EXPECT_TRUE(net.CanTalk(3, 1));
  int delivered = 0;
  net.Send(0, 1, 2, "x");
  net.DeliverDue(0,
                 [&](uint64_t, uint64_t, const std::string&) { ++delivered; });
  EXPECT_EQ(delivered, 0);  // delays are at least one tick
  net.DeliverDue(1,
                 [&](uint64_t, uint64_t, const std::string&) { ++delivered; });
  EXPECT_EQ(delivered, 1);
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
