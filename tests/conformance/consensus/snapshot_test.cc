// Snapshot scenarios (6.824 2D): log compaction, InstallSnapshot to a
// follower that fell behind the compacted log (chunked, possibly over an
// unreliable network or across crashes), and restart from a snapshot.
#include "tests/conformance/consensus/scenario.h"

namespace sb::sim {
namespace {

constexpr uint64_t kSnapEvery = 10;

class Snapshot : public Scenario {
 protected:
  // Small chunks: a snapshot takes many InstallSnapshot messages.
  static std::vector<PluginConfigEntry> SmallChunks() {
    return {{"max_batch_bytes", "64", SB_CONFIG_INTEGER}};
  }
};

// 6.824's snapcommon: repeatedly lag one follower behind the compacted log
// (disconnected or crashed), then let it catch up through a snapshot.
void SnapCommon(Cluster& c, Rng& rng, bool disconnect, bool reliable,
                bool crash) {
  (void)reliable;
  ASSERT_TRUE(c.One("k0=" + std::to_string(rng.Uniform(1000)), 3, true) != 0)
      << c.Report();
  uint64_t leader1 = c.CheckOneLeader();
  int value = 0;
  for (int round = 0; round < 6; ++round) {
    uint64_t victim = (leader1 % 3) + 1;
    uint64_t sender = leader1;
    if (round % 3 == 1) {
      sender = victim;
      victim = leader1;
    }
    if (disconnect) c.Disconnect(victim);
    if (crash) c.Crash(victim);
    uint64_t applied_before = c.sm(victim).applied;
    // Far more than one snapshot interval, so the log the victim needs is
    // compacted away on the others.
    for (uint64_t i = 0; i < kSnapEvery + 1; ++i) {
      (void)c.Propose(sender,
                      "k" + std::to_string(i) + "=" + std::to_string(++value),
                      nullptr);
    }
    ASSERT_TRUE(c.One("k=" + std::to_string(++value), 2, true, 3000) != 0)
        << c.Report();
    for (uint64_t i = 0; i < 2 * kSnapEvery; ++i) {
      ASSERT_TRUE(
          c.One("k" + std::to_string(i % 7) + "=" + std::to_string(++value), 2,
                true, 3000) != 0)
          << c.Report();
    }
    if (disconnect) c.Connect(victim);
    if (crash) {
      ASSERT_TRUE(c.Restart(victim).ok());
    }
    // Everyone, including the victim, agrees on a new entry.
    ASSERT_TRUE(c.One("k=" + std::to_string(++value), 3, true, 5000) != 0)
        << c.Report();
    EXPECT_TRUE(c.sm(victim).applied > applied_before) << c.Report();
    leader1 = c.CheckOneLeader();
  }
}

TEST_P(Snapshot, Basic) {
  Make(3, NetworkOptions::Reliable(), kSnapEvery);
  for (int i = 0; i < 60; ++i) {
    SIM_ASSERT_TRUE(c().One("k=" + std::to_string(i), 3, true) != 0);
  }
  for (uint64_t id : c().ids()) {
    // The log is compacted: at most about one interval stays.
    SIM_EXPECT_TRUE(c().disk(id).has_snapshot);
    SIM_EXPECT_TRUE(c().disk(id).log.size() <= 2 * kSnapEvery);
    SIM_EXPECT_EQ(c().sm(id).kv.at("k"), "59");
  }
}

TEST_P(Snapshot, Install) {
  Make(3, NetworkOptions::Reliable(), kSnapEvery, SmallChunks());
  SnapCommon(c(), rng(), true, true, false);
}

TEST_P(Snapshot, InstallUnreliable) {
  Make(3, NetworkOptions::Unreliable(), kSnapEvery, SmallChunks());
  SnapCommon(c(), rng(), true, false, false);
}

TEST_P(Snapshot, InstallCrash) {
  Make(3, NetworkOptions::Reliable(), kSnapEvery, SmallChunks());
  SnapCommon(c(), rng(), false, true, true);
}

TEST_P(Snapshot, InstallUnreliableCrash) {
  Make(3, NetworkOptions::Unreliable(), kSnapEvery, SmallChunks());
  SnapCommon(c(), rng(), false, false, true);
}

TEST_P(Snapshot, FarBehindFollowerReceivesSnapshot) {
  // The lagging follower must get an InstallSnapshot (its next entries are
  // gone from every log) and then continue with appends.
  Make(3, NetworkOptions::Reliable(), kSnapEvery, SmallChunks());
  uint64_t leader = c().CheckOneLeader();
  uint64_t victim = leader % 3 + 1;
  c().Disconnect(victim);
  for (int i = 0; i < 5 * static_cast<int>(kSnapEvery); ++i) {
    SIM_ASSERT_TRUE(
        c().One("a" + std::to_string(i % 5) + "=" + std::to_string(i), 2,
                true) != 0);
  }
  SIM_ASSERT_TRUE(c().disk(leader).snap_index > c().sm(victim).applied + 1);
  c().Connect(victim);
  SIM_ASSERT_TRUE(c().One("after=1", 3, true) != 0);
  SIM_EXPECT_TRUE(c().disk(victim).has_snapshot);
  SIM_EXPECT_EQ(c().sm(victim).kv, c().sm(leader).kv);
}

TEST_P(Snapshot, Init) {
  // Restart every node after snapshots: state comes back from the
  // snapshot plus the log after it.
  Make(3, NetworkOptions::Reliable(), kSnapEvery);
  for (uint64_t i = 0; i < kSnapEvery + 1; ++i) {
    SIM_ASSERT_TRUE(c().One("k=" + std::to_string(i), 3, true) != 0);
  }
  for (int round = 0; round < 2; ++round) {
    for (uint64_t id : c().ids()) c().Crash(id);
    for (uint64_t id : c().ids()) SIM_ASSERT_OK(c().Restart(id));
    SIM_ASSERT_TRUE(c().One("k=r" + std::to_string(round), 3, true) != 0);
  }
  for (uint64_t id : c().ids()) {
    SIM_EXPECT_EQ(c().sm(id).kv.at("k"), "r1");
  }
}

TEST_P(Snapshot, ChurnWithCompactionAndCrashesMidTransfer) {
  // Crashes and partitions at random while every node compacts often and
  // snapshots travel in many small chunks: transfers get cut by crashes,
  // restarts and replaced snapshots, and must still converge.
  const uint64_t n = 5;
  Make(n, NetworkOptions::Unreliable(), kSnapEvery, SmallChunks());
  int value = 0;
  for (int step = 0; step < 400; ++step) {
    uint64_t leader = c().Leader();
    if (leader != 0) {
      for (int i = 0; i < 3; ++i) {
        (void)c().Propose(
            leader,
            "k" + std::to_string(value % 9) + "=" + std::to_string(value),
            nullptr);
        ++value;
      }
    }
    uint64_t victim = rng().Range(1, n);
    double p = rng().Next() % 1000 / 1000.0;
    if (p < 0.1) {
      c().Crash(victim);
    } else if (p < 0.3 && !c().IsUp(victim)) {
      SIM_ASSERT_OK(c().Restart(victim));
    } else if (p < 0.4) {
      c().Disconnect(victim);
    } else if (p < 0.6) {
      c().Connect(victim);
    }
    c().RunTicks(rng().Range(1, 5));
  }
  c().net().set_options(NetworkOptions::Reliable());
  for (uint64_t id : c().ids()) {
    if (!c().IsUp(id)) {
      SIM_ASSERT_OK(c().Restart(id));
    }
    c().Connect(id);
  }
  SIM_ASSERT_TRUE(c().One("final=1", n, true, 5000) != 0);
  uint64_t leader = c().CheckOneLeader();
  for (uint64_t id : c().ids()) {
    SIM_EXPECT_EQ(c().sm(id).kv, c().sm(leader).kv);
  }
}

SB_INSTANTIATE_SCENARIOS(Snapshot, "raft");

}  // namespace
}  // namespace sb::sim
