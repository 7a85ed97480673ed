// Persistence scenarios (6.824 2C): crashes lose unsynced writes; Figure 8;
// unreliable networks; churn.
#include "tests/conformance/consensus/scenario.h"

namespace sb::sim {
namespace {

class Persistence : public Scenario {
 protected:
  void CrashAll() {
    for (uint64_t id : c().ids()) c().Crash(id);
  }
  void RestartAll() {
    for (uint64_t id : c().ids()) {
      Status s = c().Restart(id);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }
};

TEST_P(Persistence, Persist1) {
  Make(3);
  SIM_ASSERT_TRUE(c().One("11", 3, true) != 0);
  CrashAll();
  RestartAll();
  SIM_ASSERT_TRUE(c().One("12", 3, true) != 0);
  uint64_t leader1 = c().CheckOneLeader();
  SIM_ASSERT_OK(c().Restart(leader1));
  SIM_ASSERT_TRUE(c().One("13", 3, true) != 0);
  uint64_t leader2 = c().CheckOneLeader();
  c().Crash(leader2);
  SIM_ASSERT_TRUE(c().One("14", 2, true) != 0);
  SIM_ASSERT_OK(c().Restart(leader2));
  uint64_t index = c().One("15", 3, true);
  SIM_ASSERT_TRUE(index != 0);
  uint64_t i3 = c().CheckOneLeader() % 3 + 1;
  c().Crash(i3);
  SIM_ASSERT_TRUE(c().One("16", 2, true) != 0);
  SIM_ASSERT_OK(c().Restart(i3));
  SIM_ASSERT_TRUE(c().One("17", 3, true) != 0);
}

TEST_P(Persistence, Persist2) {
  Make(5);
  int index = 1;
  auto node = [](uint64_t base, uint64_t k) { return (base + k - 1) % 5 + 1; };
  for (int iters = 0; iters < 5; ++iters) {
    SIM_ASSERT_TRUE(c().One(std::to_string(10 + index++), 5, true) != 0);
    uint64_t leader1 = c().CheckOneLeader();
    c().Crash(node(leader1, 1));
    c().Crash(node(leader1, 2));
    SIM_ASSERT_TRUE(c().One(std::to_string(10 + index++), 3, true) != 0);
    c().Crash(node(leader1, 0));
    c().Crash(node(leader1, 3));
    c().Crash(node(leader1, 4));
    SIM_ASSERT_OK(c().Restart(node(leader1, 1)));
    SIM_ASSERT_OK(c().Restart(node(leader1, 2)));
    c().RunTicks(2 * kElection);
    SIM_ASSERT_OK(c().Restart(node(leader1, 3)));
    SIM_ASSERT_TRUE(c().One(std::to_string(10 + index++), 3, true) != 0);
    SIM_ASSERT_OK(c().Restart(node(leader1, 4)));
    SIM_ASSERT_OK(c().Restart(node(leader1, 0)));
  }
  SIM_ASSERT_TRUE(c().One("1000", 5, true) != 0);
}

TEST_P(Persistence, Persist3) {
  // A partitioned leader and a follower crash; the leader restarts.
  Make(3);
  SIM_ASSERT_TRUE(c().One("101", 3, false) != 0);
  uint64_t leader = c().CheckOneLeader();
  uint64_t a = leader % 3 + 1, b = a % 3 + 1;
  c().Disconnect(b);
  SIM_ASSERT_TRUE(c().One("102", 2, false) != 0);
  c().Crash(leader);
  c().Crash(a);
  c().Connect(b);
  SIM_ASSERT_OK(c().Restart(leader));
  SIM_ASSERT_TRUE(c().One("103", 2, true) != 0);
  SIM_ASSERT_OK(c().Restart(a));
  SIM_ASSERT_TRUE(c().One("104", 3, true) != 0);
}

// Figure 8 of the Raft paper: leaders crash right after appending, so
// entries of old terms are replicated to a majority without being
// committed; only entries of the current term commit by counting.
void Figure8(Scenario* s, Cluster& c, Rng& rng, bool unreliable) {
  const uint64_t n = 5;
  ASSERT_TRUE(c.One(std::to_string(rng.Uniform(10000)), 1, true) != 0)
      << c.Report();
  uint64_t up = n;
  for (int iter = 0; iter < 300; ++iter) {
    if (unreliable && iter == 200) {
      NetworkOptions o = NetworkOptions::Unreliable();
      o.long_delay = 0.1;
      c.net().set_options(o);
    }
    uint64_t leader = 0;
    for (uint64_t id : c.ids()) {
      if (c.IsUp(id) && c.IsConnected(id) &&
          c.Propose(id, std::to_string(rng.Uniform(10000)), nullptr).ok()) {
        leader = id;
      }
    }
    // Mostly short pauses, sometimes long ones.
    c.RunTicks(rng.Chance(0.1) ? rng.Range(1, 50) : rng.Range(1, 3));
    if (leader != 0) {
      if (unreliable) {
        c.Disconnect(leader);
      } else {
        c.Crash(leader);
      }
      --up;
    }
    if (up < 3) {
      uint64_t s = rng.Range(1, n);
      bool down = unreliable ? !c.IsConnected(s) : !c.IsUp(s);
      if (down) {
        if (unreliable) {
          c.Connect(s);
        } else {
          ASSERT_TRUE(c.Restart(s).ok());
        }
        ++up;
      }
    }
  }
  c.net().set_options(NetworkOptions::Reliable());
  for (uint64_t id : c.ids()) {
    if (!c.IsUp(id)) {
      ASSERT_TRUE(c.Restart(id).ok());
    }
    c.Connect(id);
  }
  ASSERT_TRUE(c.One(std::to_string(rng.Uniform(10000)), n, true, 3000) != 0)
      << c.Report();
  (void)s;
}

TEST_P(Persistence, Figure8) {
  Make(5);
  Figure8(this, c(), rng(), false);
}

TEST_P(Persistence, Figure8Unreliable) {
  Make(5, NetworkOptions::Unreliable());
  Figure8(this, c(), rng(), true);
}

// Nodes crash, restart, disconnect and reconnect at random while clients
// keep proposing; at the end everything heals and must agree.
void Churn(Cluster& c, Rng& rng, bool unreliable) {
  const uint64_t n = 5;
  int value = 0;
  for (int step = 0; step < 400; ++step) {
    for (uint64_t id : c.ids()) {
      if (c.IsUp(id) && rng.Chance(0.5)) {
        (void)c.Propose(id, "v=" + std::to_string(++value), nullptr);
      }
    }
    uint64_t victim = rng.Range(1, n);
    double p = rng.Next() % 1000 / 1000.0;
    if (p < 0.2) {
      c.Disconnect(victim);
    } else if (p < 0.5) {
      c.Connect(victim);
    } else if (p < 0.6) {
      c.Crash(victim);
    } else if (p < 0.8 && !c.IsUp(victim)) {
      ASSERT_TRUE(c.Restart(victim).ok());
    }
    c.RunTicks(rng.Range(1, 7));
  }
  c.net().set_options(NetworkOptions::Reliable());
  for (uint64_t id : c.ids()) {
    if (!c.IsUp(id)) {
      ASSERT_TRUE(c.Restart(id).ok());
    }
    c.Connect(id);
  }
  ASSERT_TRUE(c.One("final", n, true, 5000) != 0) << c.Report();
  (void)unreliable;
}

TEST_P(Persistence, ReliableChurn) {
  Make(5);
  Churn(c(), rng(), false);
}

TEST_P(Persistence, UnreliableChurn) {
  Make(5, NetworkOptions::Unreliable());
  Churn(c(), rng(), true);
}

SB_INSTANTIATE_SCENARIOS(Persistence, "raft");

}  // namespace
}  // namespace sb::sim
