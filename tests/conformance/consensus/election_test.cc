// Leader election scenarios (6.824 2A) plus pre-vote and transfer.
#include "tests/conformance/consensus/scenario.h"

namespace sb::sim {
namespace {

class Election : public Scenario {};

TEST_P(Election, InitialElection) {
  Make(3);
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
  c().RunTicks(5);
  uint64_t term1 = c().AgreedTerm();
  SIM_ASSERT_TRUE(term1 >= 1);
  // No failure: the term must stay put and the leader stay leader.
  c().RunTicks(20 * kElection);
  SIM_EXPECT_EQ(c().AgreedTerm(), term1);
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
}

TEST_P(Election, ReElection) {
  Make(3);
  uint64_t leader1 = c().CheckOneLeader();
  SIM_ASSERT_NE(leader1, 0u);
  // The leader leaves: a new one is elected.
  c().Disconnect(leader1);
  uint64_t leader2 = c().CheckOneLeader();
  SIM_ASSERT_NE(leader2, 0u);
  SIM_ASSERT_NE(leader2, leader1);
  // The old leader rejoins: it must not disturb the new one.
  c().Connect(leader1);
  uint64_t leader3 = c().CheckOneLeader();
  SIM_ASSERT_NE(leader3, 0u);
  // No quorum: no leader.
  uint64_t other = leader3 % 3 + 1;
  c().Disconnect(leader3);
  c().Disconnect(other);
  c().RunTicks(20 * kElection);
  SIM_EXPECT_TRUE(c().NoLeader());
  // A quorum again: a leader.
  c().Connect(other);
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
  c().Connect(leader3);
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
}

TEST_P(Election, ManyElections) {
  const uint64_t n = 7;
  Make(n);
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
  for (int iter = 0; iter < 10; ++iter) {
    // Cut three of seven: the other four still elect a leader.
    uint64_t a = rng().Range(1, n), b = rng().Range(1, n),
             d = rng().Range(1, n);
    c().Disconnect(a);
    c().Disconnect(b);
    c().Disconnect(d);
    SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
    c().Connect(a);
    c().Connect(b);
    c().Connect(d);
  }
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
}

TEST_P(Election, RejoiningNodeDoesNotDisruptLeader) {
  // Pre-vote (§9.6) and the vote lease (§4.2.3): a node that was cut off
  // and timed out many times rejoins without raising the term or deposing
  // the healthy leader.
  Make(3);
  uint64_t leader = c().CheckOneLeader();
  SIM_ASSERT_NE(leader, 0u);
  c().RunTicks(5);
  uint64_t term = c().StatusOf(leader).term;
  uint64_t follower = leader % 3 + 1;
  c().Disconnect(follower);
  c().One("during", 2, true);
  c().RunTicks(30 * kElection);
  c().Connect(follower);
  c().RunTicks(20 * kElection);
  SIM_EXPECT_EQ(c().Leader(), leader);
  SIM_EXPECT_EQ(c().StatusOf(leader).term, term);
  SIM_EXPECT_TRUE(c().One("after", 3, true) != 0);
}

TEST_P(Election, WithoutPreVoteRejoiningNodeRaisesTerm) {
  // The same scenario with pre-vote and check-quorum off shows what the
  // previous test guards against: the rejoining node's inflated term
  // forces the leader to step down.
  Make(3, NetworkOptions::Reliable(), 0,
       {{"pre_vote", "false", SB_CONFIG_BOOL},
        {"check_quorum", "false", SB_CONFIG_BOOL}});
  uint64_t leader = c().CheckOneLeader();
  SIM_ASSERT_NE(leader, 0u);
  c().RunTicks(5);
  uint64_t term = c().StatusOf(leader).term;
  uint64_t follower = leader % 3 + 1;
  c().Disconnect(follower);
  c().RunTicks(30 * kElection);
  SIM_ASSERT_TRUE(c().StatusOf(follower).term > term + 5);
  c().Connect(follower);
  c().RunTicks(20 * kElection);
  SIM_EXPECT_TRUE(c().StatusOf(leader).term > term);
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
}

TEST_P(Election, LeadershipTransfer) {
  Make(3);
  uint64_t leader = c().CheckOneLeader();
  SIM_ASSERT_NE(leader, 0u);
  SIM_ASSERT_TRUE(c().One("x=1", 3, false) != 0);
  for (int round = 0; round < 3; ++round) {
    uint64_t target = leader % 3 + 1;
    SIM_ASSERT_OK(c().instance(leader)->TransferLeadership(target));
    // During the transfer the old leader refuses proposals.
    Status busy = c().instance(leader)->Propose("refused");
    SIM_EXPECT_TRUE(!busy.ok());
    for (int t = 0;
         t < 10 * static_cast<int>(kElection) && c().Leader() != target; ++t) {
      c().Tick();
    }
    SIM_ASSERT_EQ(c().Leader(), target);
    leader = target;
    SIM_ASSERT_TRUE(c().One("x=" + std::to_string(round + 2), 3, false) != 0);
  }
  // A transfer to a non-voter is refused.
  Status bad = c().instance(leader)->TransferLeadership(99);
  SIM_EXPECT_TRUE(bad.IsInvalidArgument());
}

TEST_P(Election, LeaderStepsDownWithoutQuorum) {
  // Check-quorum (§6.2): a leader cut off from its followers steps down.
  Make(3);
  uint64_t leader = c().CheckOneLeader();
  SIM_ASSERT_NE(leader, 0u);
  for (uint64_t id : c().ids()) {
    if (id != leader) c().net().SetLink(id, leader, false);
  }
  c().RunTicks(5 * kElection);
  SIM_EXPECT_TRUE(c().StatusOf(leader).role != Role::kLeader);
  c().net().Heal();
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
}

SB_INSTANTIATE_SCENARIOS(Election, "raft");

}  // namespace
}  // namespace sb::sim
