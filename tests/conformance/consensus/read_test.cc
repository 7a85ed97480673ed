// Linearizable reads (ReadIndex, dissertation §6.4) under partitions that
// leave a stale leader in a minority, with and without lease reads.
#include "tests/conformance/consensus/scenario.h"

namespace sb::sim {
namespace {

class Reads : public Scenario {
 protected:
  // One writer increments x; readers ask every node that believes it leads
  // (including stale leaders cut off in a minority). A read started after
  // write w was acknowledged must return at least w.
  void Run() {
    const uint64_t n = 5;
    int acked = 0;
    uint64_t next_read = 0;
    std::map<std::string, int> started;  // read context -> acked at start
    int served = 0;
    stale_leader_reads_ = 0;
    SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
    for (int round = 0; round < 60; ++round) {
      double p = rng().Next() % 1000 / 1000.0;
      uint64_t leader = c().Leader();
      if (round == 0 && leader != 0) {
        // First, always strand the leader in a minority.
        uint64_t other = leader % n + 1;
        std::vector<uint64_t> majority;
        for (uint64_t id = 1; id <= n; ++id) {
          if (id != leader && id != other) majority.push_back(id);
        }
        c().net().Partition({majority, {leader, other}}, {1, 2, 3, 4, 5});
      } else if (p < 0.3) {
        // Split 3/2 at random; the old leader may land in the minority and
        // keep believing it leads for a while.
        std::vector<uint64_t> ids = {1, 2, 3, 4, 5};
        for (size_t i = ids.size() - 1; i > 0; --i) {
          std::swap(ids[i], ids[rng().Uniform(i + 1)]);
        }
        c().net().Partition({{ids[0], ids[1], ids[2]}, {ids[3], ids[4]}},
                            {1, 2, 3, 4, 5});
      } else if (p < 0.45) {
        c().net().Heal();
      }
      // Write x = acked + 1 through whoever leads in the highest term, and
      // every tick meanwhile, read through every node that believes it
      // leads.
      const int w = acked + 1;
      const std::string cmd = "x=" + std::to_string(w);
      uint64_t index = 0;
      for (int t = 0; t < 3000 && acked < w; ++t) {
        uint64_t leader = c().Leader();
        if (index == 0 && leader != 0) {
          (void)c().Propose(leader, cmd, &index);
        }
        std::string data;
        if (index != 0 && c().NCommitted(index, &data) >= 3) {
          if (data == cmd) {
            acked = w;
          } else {
            index = 0;  // overwritten: propose again
          }
        }
        for (uint64_t id = 1; id <= n; ++id) {
          if (c().StatusOf(id).role != Role::kLeader) continue;
          if (c().StatusOf(id).term < c().StatusOf(c().Leader()).term) {
            ++stale_leader_reads_;
          }
          std::string ctx = "r" + std::to_string(++next_read) + "|x";
          if (c().ReadIndex(id, ctx).ok()) started[ctx] = acked;
        }
        c().Tick();
        for (uint64_t id = 1; id <= n; ++id) {
          for (const ReadResult& r : c().TakeReads(id)) {
            auto it = started.find(r.context);
            ASSERT_TRUE(it != started.end()) << r.context;
            int v = r.value.empty() ? 0 : std::stoi(r.value);
            ASSERT_GE(v, it->second)
                << "stale read " << r.context << " on node " << id << "\n"
                << c().Report();
            ++served;
          }
        }
      }
    }
    SIM_EXPECT_TRUE(acked > 30);
    SIM_EXPECT_TRUE(served > 100);  // the check above was exercised
  }

  int stale_leader_reads_ = 0;
};

TEST_P(Reads, ReadIndexLinearizableUnderPartitions) {
  Make(5);
  Run();
}

TEST_P(Reads, ReadIndexOnStaleLeadersWithoutCheckQuorum) {
  // Without check-quorum a leader cut off in a minority keeps believing it
  // leads: ReadIndex must still never answer from it (its heartbeat round
  // cannot reach a quorum).
  Make(5, NetworkOptions::Reliable(), 0,
       {{"check_quorum", "false", SB_CONFIG_BOOL}});
  Run();
  SIM_EXPECT_TRUE(stale_leader_reads_ > 0);  // the scenario bites
}

TEST_P(Reads, LeaseReadsLinearizableUnderPartitions) {
  Make(5, NetworkOptions::Reliable(), 0,
       {{"lease_reads", "true", SB_CONFIG_BOOL}});
  Run();
}

TEST_P(Reads, NewLeaderWaitsForItsFirstCommit) {
  // A read on a leader that has not yet committed an entry of its term
  // completes only after that entry commits (§6.4 step 1).
  Make(3);
  uint64_t leader = 0;
  for (int t = 0; t < 500 && leader == 0; ++t) {
    c().Tick();
    for (uint64_t id : c().ids()) {
      ConsensusStatus st = c().StatusOf(id);
      if (st.role == Role::kLeader) leader = id;
    }
  }
  SIM_ASSERT_NE(leader, 0u);
  SIM_ASSERT_OK(c().ReadIndex(leader, "first|x"));
  c().RunTicks(50);
  auto reads = c().TakeReads(leader);
  SIM_ASSERT_EQ(reads.size(), 1u);
  SIM_EXPECT_TRUE(reads[0].index >= 2);  // at least the leader's no-op
}

SB_INSTANTIATE_SCENARIOS(Reads, "raft");

}  // namespace
}  // namespace sb::sim
