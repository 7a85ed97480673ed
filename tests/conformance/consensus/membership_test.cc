// Membership scenarios: learners, promotion, removing the leader, and
// replacing every member one by one under load (single-server changes,
// dissertation §4.1-§4.3).
#include <algorithm>

#include "tests/conformance/consensus/scenario.h"

namespace sb::sim {
namespace {

class Membership : public Scenario {
 protected:
  bool Reached(uint64_t leader, MemberOp op, uint64_t node) {
    for (const Member& m : c().instance(leader)->Members()) {
      if (m.node != node) continue;
      if (op == MemberOp::kAddLearner) return !m.voter;
      if (op == MemberOp::kRemove) return false;
      return m.voter;
    }
    return op == MemberOp::kRemove;
  }

  // Proposes a change on whoever leads until one accepts it (BUSY while the
  // previous change or the leader's first entry is uncommitted), proposing
  // load entries meanwhile. Returns false after max_ticks.
  bool Change(MemberOp op, uint64_t node, uint64_t max_ticks = 3000) {
    for (uint64_t t = 0; t < max_ticks; ++t) {
      uint64_t leader = c().Leader();
      if (leader != 0) {
        Status s = c().instance(leader)->ChangeMembership(op, node);
        if (s.ok()) return true;
        if (s.IsInvalidArgument() && Reached(leader, op, node)) return true;
        if (s.code() != Code::kBusy && s.code() != Code::kAborted &&
            !s.IsInvalidArgument()) {
          ADD_FAILURE() << s.ToString();
          return false;
        }
        Load(leader);
      }
      c().Tick();
    }
    return false;
  }

  // Runs until `node` applied everything the leader committed.
  bool CatchUp(uint64_t node, uint64_t max_ticks = 3000) {
    for (uint64_t t = 0; t < max_ticks; ++t) {
      uint64_t leader = c().Leader();
      if (leader != 0 && c().sm(node).applied >= c().StatusOf(leader).commit) {
        return true;
      }
      if (leader != 0) Load(leader);
      c().Tick();
    }
    return false;
  }

  void Load(uint64_t leader) {
    if (rng().Chance(0.3)) {
      (void)c().Propose(leader, "load=" + std::to_string(++load_), nullptr);
    }
  }

  std::vector<uint64_t> Voters(uint64_t id) {
    std::vector<uint64_t> v;
    for (const Member& m : c().instance(id)->Members()) {
      if (m.voter) v.push_back(m.node);
    }
    std::sort(v.begin(), v.end());
    return v;
  }

  int load_ = 0;
};

TEST_P(Membership, AddLearnerAndPromote) {
  Make(3);
  SIM_ASSERT_TRUE(c().One("a=1", 3, true) != 0);
  SIM_ASSERT_OK(c().AddNode(4));
  SIM_ASSERT_TRUE(Change(MemberOp::kAddLearner, 4));
  SIM_ASSERT_TRUE(CatchUp(4));
  SIM_EXPECT_TRUE(c().StatusOf(4).role == Role::kLearner);
  SIM_EXPECT_EQ(c().sm(4).kv.at("a"), "1");
  uint64_t leader = c().CheckOneLeader();
  SIM_EXPECT_EQ(c().StatusOf(leader).learners, 1u);
  // A learner does not vote: with two voters down nothing commits even
  // though three nodes (two voters + the learner) are up.
  std::vector<uint64_t> down;
  for (uint64_t id : {1, 2, 3}) {
    if (id != leader && down.size() < 1) down.push_back(id);
  }
  c().Disconnect(down[0]);
  SIM_ASSERT_TRUE(c().One("a=2", 3, true) != 0);  // 2 voters of 3 + learner
  c().Connect(down[0]);
  SIM_ASSERT_TRUE(Change(MemberOp::kPromote, 4));
  SIM_ASSERT_TRUE(c().One("a=3", 4, true) != 0);
  leader = c().CheckOneLeader();
  SIM_EXPECT_EQ(Voters(leader), (std::vector<uint64_t>{1, 2, 3, 4}));
  SIM_EXPECT_TRUE(c().StatusOf(4).role == Role::kFollower ||
                  c().StatusOf(4).role == Role::kLeader);
  // Four voters: any three commit.
  uint64_t victim = leader % 4 + 1;
  c().Crash(victim);
  SIM_ASSERT_TRUE(c().One("a=4", 3, true) != 0);
  // Impossible changes are refused with a clear error.
  leader = c().CheckOneLeader();
  Status s = c().instance(leader)->ChangeMembership(MemberOp::kPromote, 2);
  SIM_EXPECT_TRUE(!s.ok());
}

TEST_P(Membership, RemoveLeader) {
  Make(3);
  SIM_ASSERT_TRUE(c().One("a=1", 3, true) != 0);
  uint64_t old = c().CheckOneLeader();
  // Wait until the leader may change membership, then remove itself.
  Status s;
  for (int t = 0; t < 500; ++t) {
    s = c().instance(old)->ChangeMembership(MemberOp::kRemove, old);
    if (s.code() != Code::kBusy) break;
    c().Tick();
  }
  SIM_ASSERT_OK(s);
  // It steps down once the change commits; the other two elect a leader.
  uint64_t leader = 0;
  for (int t = 0; t < 1000; ++t) {
    leader = c().Leader();
    if (leader != 0 && leader != old) break;
    c().Tick();
  }
  SIM_ASSERT_TRUE(leader != 0 && leader != old);
  SIM_EXPECT_TRUE(c().StatusOf(old).role != Role::kLeader);
  SIM_ASSERT_TRUE(c().One("a=2", 2, true) != 0);
  std::vector<uint64_t> expect;
  for (uint64_t id : {1, 2, 3}) {
    if (id != old) expect.push_back(id);
  }
  SIM_EXPECT_EQ(Voters(leader), expect);
  // The removed node stays quiet: the group's term does not move.
  uint64_t term = c().StatusOf(leader).term;
  c().RunTicks(30 * kElection);
  SIM_EXPECT_EQ(c().StatusOf(leader).term, term);
  SIM_ASSERT_TRUE(c().One("a=3", 2, true) != 0);
}

TEST_P(Membership, ReplaceEveryMemberUnderLoad) {
  Make(3);
  SIM_ASSERT_TRUE(c().One("start=1", 3, true) != 0);
  for (uint64_t k = 0; k < 3; ++k) {
    uint64_t fresh = 4 + k, old = 1 + k;
    SIM_ASSERT_OK(c().AddNode(fresh));
    SIM_ASSERT_TRUE(Change(MemberOp::kAddLearner, fresh));
    SIM_ASSERT_TRUE(CatchUp(fresh));
    SIM_ASSERT_TRUE(Change(MemberOp::kPromote, fresh));
    SIM_ASSERT_TRUE(Change(MemberOp::kRemove, old));
    // Once a later entry commits on the new majority, `old` can go.
    SIM_ASSERT_TRUE(c().One("step=" + std::to_string(k), 3, true, 3000) != 0);
    uint64_t leader = c().CheckOneLeader();
    for (uint64_t t = 0; t < 2000 && (leader == 0 || leader == old); ++t) {
      c().Tick();
      leader = c().Leader();
    }
    SIM_ASSERT_TRUE(leader != 0 && leader != old);
    std::vector<uint64_t> v = Voters(leader);
    SIM_ASSERT_TRUE(std::find(v.begin(), v.end(), old) == v.end());
    c().Crash(old);
  }
  uint64_t leader = c().CheckOneLeader();
  SIM_ASSERT_NE(leader, 0u);
  SIM_EXPECT_EQ(Voters(leader), (std::vector<uint64_t>{4, 5, 6}));
  SIM_ASSERT_TRUE(c().One("end=1", 3, true) != 0);
  for (uint64_t id : {4, 5, 6}) SIM_EXPECT_EQ(c().sm(id).kv.at("end"), "1");
}

SB_INSTANTIATE_SCENARIOS(Membership, "raft");

}  // namespace
}  // namespace sb::sim
