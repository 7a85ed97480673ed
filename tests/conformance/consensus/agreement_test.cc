// Log agreement scenarios (6.824 2B) and unreliable-network agreement.
#include "tests/conformance/consensus/scenario.h"

namespace sb::sim {
namespace {

class Agreement : public Scenario {};

TEST_P(Agreement, BasicAgree) {
  Make(3);
  uint64_t prev = 0;
  for (int i = 1; i <= 3; ++i) {
    uint64_t index = c().One("cmd" + std::to_string(i), 3, false);
    SIM_ASSERT_TRUE(index > prev);
    // Indexes are consecutive once the leader is established.
    if (prev != 0) {
      SIM_EXPECT_EQ(index, prev + 1);
    }
    prev = index;
  }
}

TEST_P(Agreement, RpcBytes) {
  // Each command is sent to each follower once: no redundant payload.
  Make(3);
  SIM_ASSERT_TRUE(c().One("99", 3, false) != 0);
  uint64_t bytes0 = c().net_stats().bytes;
  uint64_t sent = 0;
  for (int i = 0; i < 10; ++i) {
    std::string cmd = RandomCmd(5000);
    SIM_ASSERT_TRUE(c().One(cmd, 3, false) != 0);
    sent += cmd.size();
  }
  uint64_t got = c().net_stats().bytes - bytes0;
  uint64_t expected = 2 * sent;  // two followers
  SIM_EXPECT_TRUE(got >= expected);
  SIM_EXPECT_TRUE(got <= expected + 50000);
}

TEST_P(Agreement, OnlyALeaderSendsBeforePersisting) {
  // A leader's appends may leave before its own write (early_messages);
  // votes and acknowledgements never do, so only a leader sends early.
  Make(3);
  for (int i = 0; i < 5; ++i) {
    SIM_ASSERT_TRUE(c().One("e" + std::to_string(i), 3, false) != 0);
  }
  if (GetParam().plugin == "raft") {
    SIM_EXPECT_TRUE(c().early_sent() > 0);
  }
  SIM_EXPECT_EQ(c().early_from_non_leader(), 0u);
}

TEST_P(Agreement, FollowerFailure) {
  Make(3);
  SIM_ASSERT_TRUE(c().One("101", 3, false) != 0);
  uint64_t leader1 = c().CheckOneLeader();
  c().Disconnect(leader1 % 3 + 1);
  // The leader and the remaining follower still agree.
  SIM_ASSERT_TRUE(c().One("102", 2, false) != 0);
  c().RunTicks(2 * kElection);
  SIM_ASSERT_TRUE(c().One("103", 2, false) != 0);
  // Disconnect the remaining follower: nothing commits.
  uint64_t leader2 = c().CheckOneLeader();
  for (uint64_t id : c().ids()) {
    if (id != leader2) c().Disconnect(id);
  }
  uint64_t index = 0;
  SIM_ASSERT_OK(c().Propose(leader2, "104", &index));
  c().RunTicks(4 * kElection);
  SIM_EXPECT_EQ(c().NCommitted(index), 0);
}

TEST_P(Agreement, LeaderFailure) {
  Make(3);
  SIM_ASSERT_TRUE(c().One("101", 3, false) != 0);
  uint64_t leader1 = c().CheckOneLeader();
  c().Disconnect(leader1);
  SIM_ASSERT_TRUE(c().One("102", 2, false) != 0);
  c().RunTicks(2 * kElection);
  SIM_ASSERT_TRUE(c().One("103", 2, false) != 0);
  uint64_t leader2 = c().CheckOneLeader();
  c().Disconnect(leader2);
  // Submit to every remaining node; none may commit (one node left).
  uint64_t last = 0;
  for (uint64_t id : c().ids()) {
    uint64_t idx = 0;
    if (c().IsConnected(id) && c().Propose(id, "104", &idx).ok()) last = idx;
  }
  c().RunTicks(4 * kElection);
  if (last != 0) {
    SIM_EXPECT_EQ(c().NCommitted(last), 0);
  }
}

TEST_P(Agreement, FailAgree) {
  Make(3);
  SIM_ASSERT_TRUE(c().One("101", 3, false) != 0);
  uint64_t leader = c().CheckOneLeader();
  uint64_t f = leader % 3 + 1;
  c().Disconnect(f);
  for (int i = 102; i <= 105; ++i) {
    SIM_ASSERT_TRUE(c().One(std::to_string(i), 2, false) != 0);
  }
  c().Connect(f);
  // The follower catches up with what it missed.
  SIM_ASSERT_TRUE(c().One("106", 3, true) != 0);
  SIM_ASSERT_TRUE(c().One("107", 3, true) != 0);
}

TEST_P(Agreement, FailNoAgree) {
  Make(5);
  SIM_ASSERT_TRUE(c().One("10", 5, false) != 0);
  uint64_t leader = c().CheckOneLeader();
  for (uint64_t k = 1; k <= 3; ++k) c().Disconnect((leader + k - 1) % 5 + 1);
  uint64_t index = 0;
  SIM_ASSERT_OK(c().Propose(leader, "20", &index));
  c().RunTicks(4 * kElection);
  SIM_EXPECT_EQ(c().NCommitted(index), 0);
  for (uint64_t k = 1; k <= 3; ++k) c().Connect((leader + k - 1) % 5 + 1);
  // The uncommitted entry may be lost; the group moves on.
  uint64_t leader2 = c().CheckOneLeader();
  SIM_ASSERT_NE(leader2, 0u);
  SIM_ASSERT_TRUE(c().One("1000", 5, true) != 0);
}

TEST_P(Agreement, ConcurrentStarts) {
  Make(3);
  uint64_t leader = c().CheckOneLeader();
  SIM_ASSERT_NE(leader, 0u);
  uint64_t term = c().StatusOf(leader).term;
  std::vector<uint64_t> indexes;
  for (int i = 0; i < 5; ++i) {
    uint64_t idx = 0;
    SIM_ASSERT_OK(c().Propose(leader, "c" + std::to_string(i), &idx));
    indexes.push_back(idx);
  }
  for (size_t i = 0; i < indexes.size(); ++i) {
    auto data = c().Wait(indexes[i], 3);
    SIM_ASSERT_TRUE(data.has_value());
    if (c().StatusOf(leader).term == term) {
      SIM_EXPECT_EQ(*data, "c" + std::to_string(i));
    }
  }
}

TEST_P(Agreement, RejoinOfPartitionedLeader) {
  Make(3);
  SIM_ASSERT_TRUE(c().One("101", 3, true) != 0);
  uint64_t leader1 = c().CheckOneLeader();
  c().Disconnect(leader1);
  // The old leader accepts entries it cannot commit.
  for (const char* cmd : {"102", "103", "104"}) {
    (void)c().Propose(leader1, cmd, nullptr);
  }
  SIM_ASSERT_TRUE(c().One("103", 2, true) != 0);
  uint64_t leader2 = c().CheckOneLeader();
  c().Disconnect(leader2);
  c().Connect(leader1);
  // The old leader's uncommitted entries are overwritten.
  SIM_ASSERT_TRUE(c().One("104", 2, true) != 0);
  c().Connect(leader2);
  SIM_ASSERT_TRUE(c().One("105", 3, true) != 0);
}

TEST_P(Agreement, Backup) {
  // A leader far ahead with uncommitted entries and followers far behind:
  // fast backtracking brings logs together in a few round trips.
  Make(5);
  SIM_ASSERT_TRUE(c().One(RandomCmd(), 5, true) != 0);
  uint64_t leader1 = c().CheckOneLeader();
  auto node = [&](uint64_t base, uint64_t k) { return (base + k - 1) % 5 + 1; };
  c().Disconnect(node(leader1, 2));
  c().Disconnect(node(leader1, 3));
  c().Disconnect(node(leader1, 4));
  for (int i = 0; i < 50; ++i) (void)c().Propose(leader1, RandomCmd(), nullptr);
  c().RunTicks(kElection);
  c().Disconnect(node(leader1, 0));
  c().Disconnect(node(leader1, 1));
  c().Connect(node(leader1, 2));
  c().Connect(node(leader1, 3));
  c().Connect(node(leader1, 4));
  for (int i = 0; i < 50; ++i) SIM_ASSERT_TRUE(c().One(RandomCmd(), 3, true));
  uint64_t leader2 = c().CheckOneLeader();
  uint64_t other = node(leader1, 2);
  if (other == leader2) other = node(leader1, 3);
  c().Disconnect(other);
  for (int i = 0; i < 50; ++i) (void)c().Propose(leader2, RandomCmd(), nullptr);
  c().RunTicks(kElection);
  for (uint64_t id : c().ids()) c().Disconnect(id);
  c().Connect(node(leader1, 0));
  c().Connect(node(leader1, 1));
  c().Connect(other);
  for (int i = 0; i < 50; ++i) SIM_ASSERT_TRUE(c().One(RandomCmd(), 3, true));
  for (uint64_t id : c().ids()) c().Connect(id);
  SIM_ASSERT_TRUE(c().One(RandomCmd(), 5, true) != 0);
}

TEST_P(Agreement, RpcCount) {
  // Message counts: an election, a batch of commands and an idle period
  // each cost no more than the protocol needs.
  const int hb = 5;
  Make(3, NetworkOptions::Reliable(), 0,
       {{"heartbeat_ticks", std::to_string(hb), SB_CONFIG_INTEGER},
        {"election_ticks", "30", SB_CONFIG_INTEGER}});
  uint64_t leader = c().CheckOneLeader();
  SIM_ASSERT_NE(leader, 0u);
  uint64_t total1 = c().net_stats().sent;
  SIM_EXPECT_TRUE(total1 <= 60);  // election plus the first heartbeats
  for (int attempt = 0; attempt < 5; ++attempt) {
    leader = c().CheckOneLeader();
    uint64_t start = c().now();
    uint64_t before = c().net_stats().sent;
    const int iters = 10;
    uint64_t last = 0;
    bool ok = true;
    for (int i = 0; i < iters && ok; ++i) {
      ok = c().Propose(leader, "n" + std::to_string(i), &last).ok();
    }
    if (!ok) continue;
    if (!c().Wait(last, 3, 300).has_value()) continue;
    uint64_t elapsed = c().now() - start;
    uint64_t used = c().net_stats().sent - before;
    // Appends and their acks for (iters + 1 + 3) rounds at most, plus the
    // heartbeats (and acks) of the elapsed ticks.
    uint64_t allowed = 4 * (iters + 1 + 3) + 4 * (elapsed / hb + 1);
    SIM_EXPECT_TRUE(used <= allowed);
    break;
  }
  // Idle: heartbeats only.
  uint64_t before = c().net_stats().sent;
  c().RunTicks(100);
  uint64_t idle = c().net_stats().sent - before;
  SIM_EXPECT_TRUE(idle <= 4 * (100 / hb + 1));
}

TEST_P(Agreement, UnreliableAgree) {
  Make(5, NetworkOptions::Unreliable());
  for (int iter = 1; iter < 50; ++iter) {
    uint64_t leader = c().Leader();
    for (int j = 0; j < 4 && leader != 0; ++j) {
      (void)c().Propose(leader, std::to_string(100 * iter + j), nullptr);
    }
    SIM_ASSERT_TRUE(c().One(std::to_string(iter), 1, true, 3000) != 0);
  }
  c().net().set_options(NetworkOptions::Reliable());
  SIM_ASSERT_TRUE(c().One("100", 5, true, 3000) != 0);
}

TEST_P(Agreement, LostPipelinedAppendsAreResent) {
  // Appends pipelined to a follower are lost on the way, and nothing new is
  // proposed afterwards: the leader must notice the missing
  // acknowledgements and resend, or the entry never commits.
  Make(3);
  SIM_ASSERT_TRUE(c().One("a=1", 3, false) != 0);
  uint64_t leader = c().CheckOneLeader();
  uint64_t a = leader % 3 + 1, b = a % 3 + 1;
  c().Disconnect(a);
  c().net().SetLink(leader, b, false);
  uint64_t index = 0;
  SIM_ASSERT_OK(c().Propose(leader, "a=2", &index));
  c().RunTicks(3);
  c().net().SetLink(leader, b, true);
  auto data = c().Wait(index, 2, 20 * kElection);
  SIM_ASSERT_TRUE(data.has_value());
  SIM_EXPECT_EQ(*data, "a=2");
}

SB_INSTANTIATE_SCENARIOS(Agreement, "raft");

}  // namespace
}  // namespace sb::sim
