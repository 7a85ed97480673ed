// Scenarios that make sense for a group of one voter, run against every
// consensus plugin (raft with one voter, solo).
#include "tests/conformance/consensus/scenario.h"

namespace sb::sim {
namespace {

class SingleNode : public Scenario {};

TEST_P(SingleNode, BasicAgree) {
  Make(1);
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
  uint64_t prev = 0;
  for (int i = 0; i < 10; ++i) {
    uint64_t index = c().One("k=" + std::to_string(i), 1, false);
    SIM_ASSERT_TRUE(index > prev);
    if (prev != 0) {
      SIM_EXPECT_EQ(index, prev + 1);
    }
    prev = index;
  }
  SIM_EXPECT_EQ(c().sm(1).kv.at("k"), "9");
}

TEST_P(SingleNode, BatchOfProposalsCommitsInOrder) {
  Make(1);
  uint64_t leader = c().CheckOneLeader();
  SIM_ASSERT_NE(leader, 0u);
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    SIM_ASSERT_OK(c().Propose(leader, "k=" + std::to_string(i), &last));
  }
  SIM_ASSERT_TRUE(c().Wait(last, 1).has_value());
  SIM_EXPECT_EQ(c().sm(1).kv.at("k"), "99");
}

TEST_P(SingleNode, PersistsAcrossCrash) {
  Make(1);
  for (int i = 0; i < 10; ++i) {
    SIM_ASSERT_TRUE(c().One("k" + std::to_string(i) + "=v", 1, false) != 0);
  }
  c().Crash(1);
  SIM_ASSERT_OK(c().Restart(1));
  SIM_ASSERT_TRUE(c().One("after=1", 1, true) != 0);
  for (int i = 0; i < 10; ++i) {
    SIM_EXPECT_EQ(c().sm(1).kv.count("k" + std::to_string(i)), 1u);
  }
}

TEST_P(SingleNode, SnapshotCompactsAndRestarts) {
  Make(1, NetworkOptions::Reliable(), 5);
  for (int i = 0; i < 23; ++i) {
    SIM_ASSERT_TRUE(c().One("k=" + std::to_string(i), 1, false) != 0);
  }
  SIM_EXPECT_TRUE(c().disk(1).has_snapshot);
  SIM_EXPECT_TRUE(c().disk(1).log.size() <= 10);
  c().Crash(1);
  SIM_ASSERT_OK(c().Restart(1));
  SIM_EXPECT_EQ(c().sm(1).kv.at("k"), "22");
  SIM_ASSERT_TRUE(c().One("k=last", 1, true) != 0);
  SIM_EXPECT_EQ(c().sm(1).kv.at("k"), "last");
}

TEST_P(SingleNode, ReadIndexSeesLatestWrite) {
  Make(1);
  uint64_t leader = c().CheckOneLeader();
  for (int i = 1; i <= 5; ++i) {
    SIM_ASSERT_TRUE(c().One("x=" + std::to_string(i), 1, false) != 0);
    SIM_ASSERT_OK(c().ReadIndex(leader, "r" + std::to_string(i) + "|x"));
    c().RunTicks(3);
    auto reads = c().TakeReads(leader);
    SIM_ASSERT_EQ(reads.size(), 1u);
    SIM_EXPECT_EQ(reads[0].value, std::to_string(i));
  }
}

TEST_P(SingleNode, GarbageMessageIsRefused) {
  Make(1);
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
  Status s = c().instance(1)->Step("\x01\x05garbage");
  SIM_EXPECT_TRUE(!s.ok());
  SIM_ASSERT_TRUE(c().One("still=ok", 1, false) != 0);
}

SB_INSTANTIATE_SCENARIOS(SingleNode, "raft", "solo");

}  // namespace
}  // namespace sb::sim
