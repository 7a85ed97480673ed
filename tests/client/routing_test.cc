// The C++ client's routing against fake radiants (tests/client/fake_cluster.h):
// requests go to the herald of the order owning the key's shard, WrongLeader
// hints are remembered, WrongGroup refreshes the configuration (bounded), a
// node that is down is skipped for the next member, Timeout retries keep the
// write id, a server without a configuration gets today's any-address
// behaviour, MultiGet sends one request per order, and "outcome unknown" is
// reported only when a write may have been applied. Also the configuration
// checks of the client's route table.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "clients/cpp/route_table.h"
#include "shardbearer/client.h"
#include "tests/client/fake_cluster.h"

namespace sb::test {
namespace {

using client::ErrorCode;
constexpr int32_t kShards = 8;

// A key whose shard is `shard` (of kShards), distinct per `n`.
std::string KeyInShard(uint32_t shard, int n) {
  for (int i = 0;; ++i) {
    std::string k = "key-" + std::to_string(n) + "-" + std::to_string(i);
    if (client::ShardForKey(k, kShards) == shard) return k;
  }
}

class RoutingTest : public ::testing::Test {
 protected:
  void StartNodes(int n) {
    std::string why;
    ASSERT_TRUE(cluster_.Start(n, &why)) << why;
  }
  // Two orders: 10 = {1, 2} owns even shards, 20 = {3, 4} owns odd shards.
  void TwoOrders(int64_t herald10, int64_t herald20) {
    std::vector<int64_t> owners;
    for (int s = 0; s < kShards; ++s) owners.push_back(s % 2 == 0 ? 10 : 20);
    cluster_.source()->Set(cluster_.MakeConfig(
        1, kShards, owners, {{10, {1, 2}, herald10}, {20, {3, 4}, herald20}}));
  }
  client::ClientOptions Options(std::vector<int64_t> nodes) {
    client::ClientOptions o;
    for (int64_t id : nodes) o.addresses.push_back(cluster_.node(id).address);
    o.max_attempts = 6;
    o.backoff_ms = 1;
    o.connect_timeout_ms = 2000;
    o.request_timeout_ms = 5000;
    o.config_retry_ms = 600000;  // one fetch per client unless refreshed
    return o;
  }
  std::vector<std::string> KeysSeen(int64_t node, const std::string& method) {
    std::vector<std::string> out;
    for (const auto& s : cluster_.node(node).kv->seen()) {
      if (s.method == method)
        out.insert(out.end(), s.keys.begin(), s.keys.end());
    }
    return out;
  }

  FakeCluster cluster_;
};

TEST_F(RoutingTest, SendsEachKeyToTheHeraldOfItsOrder) {
  StartNodes(4);
  TwoOrders(2, 3);
  // The client knows only node 1, which is not a herald.
  client::Client c(Options({1}));
  std::set<std::string> even, odd;
  for (uint32_t s = 0; s < kShards; ++s) {
    for (int n = 0; n < 2; ++n) {
      std::string k = KeyInShard(s, n);
      auto r = c.Put(k, "v-" + k);
      ASSERT_TRUE(r.ok()) << r.error().message;
      (s % 2 == 0 ? even : odd).insert(k);
    }
  }
  for (const auto& k : even) {
    auto g = c.Get(k);
    ASSERT_TRUE(g.ok()) << g.error().message;
    EXPECT_EQ(g.value(), "v-" + k);
  }
  EXPECT_EQ(c.config_num(), 1);
  auto put2 = KeysSeen(2, "put");
  auto put3 = KeysSeen(3, "put");
  EXPECT_EQ(std::set<std::string>(put2.begin(), put2.end()), even);
  EXPECT_EQ(std::set<std::string>(put3.begin(), put3.end()), odd);
  EXPECT_EQ(put2.size(), even.size());  // no retries, no detours
  EXPECT_EQ(put3.size(), odd.size());
  EXPECT_EQ(KeysSeen(2, "get").size(), even.size());
  EXPECT_EQ(cluster_.node(1).kv->Total(), 0);
  EXPECT_EQ(cluster_.node(4).kv->Total(), 0);
  // One configuration fetch, from the address the client was given.
  EXPECT_EQ(cluster_.node(1).admin->queries(), 1);
  EXPECT_EQ(cluster_.TotalQueries(), 1);
  // One pooled connection per herald, however many requests.
  EXPECT_EQ(cluster_.node(2).server->open_connections(), 1);
  EXPECT_EQ(cluster_.node(3).server->open_connections(), 1);
}

TEST_F(RoutingTest, RemembersTheHeraldAWrongLeaderHintNames) {
  StartNodes(4);
  TwoOrders(/*herald10=*/0, /*herald20=*/3);  // order 10's herald unknown
  // Node 1 is a member, not the herald: it names node 2 by address and id.
  const std::string hint = cluster_.node(2).address;
  cluster_.node(1).kv->SetScript([hint](const Seen&) {
    return Answer::Fail(api::ApiError::WrongLeader("not herald", hint, 2));
  });
  client::Client c(Options({1}));
  const std::string k1 = KeyInShard(0, 1), k2 = KeyInShard(2, 2);
  ASSERT_TRUE(c.Put(k1, "a").ok());
  EXPECT_EQ(cluster_.node(1).kv->Count("put"), 1);
  EXPECT_EQ(cluster_.node(2).kv->Count("put"), 1);
  EXPECT_EQ(c.herald_of(10), 2);
  // The next request for the same order goes straight to the herald.
  ASSERT_TRUE(c.Put(k2, "b").ok());
  auto g = c.Get(k1);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g.value(), "a");
  EXPECT_EQ(cluster_.node(1).kv->Total(), 1);
  EXPECT_EQ(cluster_.node(2).kv->Count("put"), 2);
  EXPECT_EQ(cluster_.node(2).kv->Count("get"), 1);
  // The retry on the herald carried the write id the member saw.
  auto first = cluster_.node(1).kv->seen().at(0).write_id;
  auto retried = cluster_.node(2).kv->seen().at(0).write_id;
  EXPECT_EQ(first, retried);
  EXPECT_EQ(first.client_id, static_cast<int64_t>(c.client_id()));
}

TEST_F(RoutingTest, LearnsAHeraldFromItsNodeIdAlone) {
  StartNodes(4);
  TwoOrders(/*herald10=*/1, 3);
  // The configuration's herald lost leadership to node 2; it knows the id
  // but not the address.
  cluster_.node(1).kv->SetScript([](const Seen&) {
    return Answer::Fail(api::ApiError::WrongLeader("deposed", "", 2));
  });
  client::Client c(Options({3}));
  ASSERT_TRUE(c.Put(KeyInShard(4, 1), "x").ok());
  EXPECT_EQ(c.herald_of(10), 2);
  EXPECT_EQ(cluster_.node(1).kv->Total(), 1);
  EXPECT_EQ(cluster_.node(2).kv->Count("put"), 1);
}

TEST_F(RoutingTest, WrongGroupRefreshesTheConfiguration) {
  StartNodes(4);
  TwoOrders(2, 3);
  const std::string k = KeyInShard(0, 7);  // order 10 in configuration 1
  // Shard 0 moves to order 20 in configuration 2; order 10 says so.
  std::vector<int64_t> owners;
  for (int s = 0; s < kShards; ++s) owners.push_back(s % 2 == 0 ? 10 : 20);
  owners[0] = 20;
  auto moved = cluster_.MakeConfig(2, kShards, owners,
                                   {{10, {1, 2}, 2}, {20, {3, 4}, 3}});
  client::Client c(Options({1}));
  ASSERT_TRUE(c.Put(KeyInShard(2, 1), "before").ok());  // fetch config 1
  EXPECT_EQ(c.config_num(), 1);
  cluster_.source()->Set(moved);
  cluster_.node(2).kv->SetScript([](const Seen& s) {
    if (client::ShardForKey(s.keys.at(0), kShards) != 0) return Answer::Serve();
    return Answer::Fail(api::ApiError::WrongGroup("shard 0 moved", 0, 2));
  });
  auto r = c.Put(k, "after");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(c.config_num(), 2);
  EXPECT_EQ(cluster_.TotalQueries(), 2);
  ASSERT_EQ(KeysSeen(2, "put"),
            (std::vector<std::string>{KeyInShard(2, 1), k}));
  ASSERT_EQ(KeysSeen(3, "put"), std::vector<std::string>{k});
  EXPECT_EQ(cluster_.node(2).kv->seen().at(1).write_id,
            cluster_.node(3).kv->seen().at(0).write_id);
  // Reads of shard 0 now go to order 20 without asking order 10 first.
  ASSERT_TRUE(c.Get(k).ok());
  EXPECT_EQ(KeysSeen(3, "get"), std::vector<std::string>{k});
  EXPECT_EQ(cluster_.node(2).kv->Count("get"), 0);
}

TEST_F(RoutingTest, WrongGroupRefreshesAreBounded) {
  StartNodes(2);
  std::vector<int64_t> owners(kShards, 10);
  cluster_.source()->Set(
      cluster_.MakeConfig(5, kShards, owners, {{10, {1, 2}, 1}}));
  cluster_.node(1).kv->SetScript([](const Seen&) {
    return Answer::Fail(api::ApiError::WrongGroup("not ours", 0, 6));
  });
  auto o = Options({1});
  o.max_config_refreshes = 2;
  o.max_attempts = 8;
  client::Client c(o);
  auto r = c.Put("k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kWrongGroup);
  // Rejected before it was applied: a definite answer.
  EXPECT_FALSE(r.error().outcome_unknown);
  EXPECT_EQ(cluster_.TotalQueries(), 1 + 2);
  EXPECT_EQ(cluster_.node(1).kv->Count("put"), 8);
}

TEST_F(RoutingTest, ANodeThatIsDownIsSkippedForTheNextMember) {
  StartNodes(4);
  TwoOrders(/*herald10=*/1, 3);
  const std::string addr1 = cluster_.node(1).address;
  cluster_.node(1).Down();
  // The client was given the dead node first: the configuration comes
  // from the next address.
  client::Client c(Options({1, 4}));
  const std::string k = KeyInShard(0, 3);
  auto r = c.Put(k, "v");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(KeysSeen(2, "put"), std::vector<std::string>{k});
  EXPECT_EQ(cluster_.node(4).admin->queries(), 1);
  EXPECT_EQ(cluster_.node(4).kv->Total(), 0);
  // The silent herald is forgotten; members are asked until a hint comes.
  EXPECT_EQ(c.herald_of(10), 0);
  auto g = c.Get(k);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g.value(), "v");
  EXPECT_EQ(KeysSeen(2, "get"), std::vector<std::string>{k});
}

TEST_F(RoutingTest, TimeoutRetriesTheSameWriteId) {
  StartNodes(2);
  std::vector<int64_t> owners(kShards, 10);
  cluster_.source()->Set(
      cluster_.MakeConfig(1, kShards, owners, {{10, {1, 2}, 2}}));
  auto timeouts = std::make_shared<int>(2);
  cluster_.node(2).kv->SetScript([timeouts](const Seen& s) {
    if (s.method == "append" && (*timeouts)-- > 0) {
      return Answer::Fail(api::ApiError::Timeout("commit slow"));
    }
    return Answer::Serve();
  });
  client::Client c(Options({1}));
  auto r = c.Append("log", "x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), 1);
  auto seen = cluster_.node(2).kv->seen();
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& s : seen) EXPECT_EQ(s.write_id, seen[0].write_id);
  EXPECT_EQ(seen[0].write_id.sequence, 1);
  EXPECT_EQ(cluster_.store()->applied(), 1);
  EXPECT_EQ(cluster_.node(1).kv->Total(), 0);  // the same herald each time
}

TEST_F(RoutingTest, AWriteThatKeepsTimingOutHasAnUnknownOutcome) {
  StartNodes(1);
  cluster_.source()->Set(cluster_.MakeConfig(
      1, kShards, std::vector<int64_t>(kShards, 10), {{10, {1}, 1}}));
  cluster_.node(1).kv->SetScript([](const Seen&) {
    return Answer::Fail(api::ApiError::Timeout("no quorum"));
  });
  auto o = Options({1});
  o.max_attempts = 4;
  client::Client c(o);
  auto w = c.Put("k", "v");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kTimeout);
  EXPECT_TRUE(w.error().outcome_unknown);
  auto seen = cluster_.node(1).kv->seen();
  ASSERT_EQ(seen.size(), 4u);
  for (const auto& s : seen) EXPECT_EQ(s.write_id, seen[0].write_id);
  // A read that times out changed nothing.
  auto g = c.Get("k");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, ErrorCode::kTimeout);
  EXPECT_FALSE(g.error().outcome_unknown);
  // The next write has the next sequence.
  (void)c.Delete("k");
  EXPECT_EQ(cluster_.node(1).kv->seen().back().write_id.sequence,
            seen[0].write_id.sequence + 1);
}

TEST_F(RoutingTest, ALostAnswerMakesTheOutcomeUnknown) {
  StartNodes(1);
  cluster_.source()->Set(cluster_.MakeConfig(
      1, kShards, std::vector<int64_t>(kShards, 10), {{10, {1}, 1}}));
  // The server takes the write and never answers within the client's
  // socket timeout.
  cluster_.node(1).kv->SetScript([](const Seen& s) {
    return s.method == "put" ? Answer::Hold() : Answer::Serve();
  });
  auto o = Options({1});
  o.max_attempts = 2;
  o.request_timeout_ms = 200;
  client::Client c(o);
  auto w = c.Put("k", "v");
  cluster_.node(1).kv->Release();
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(w.error().outcome_unknown);
}

TEST_F(RoutingTest, NoReachableNodeIsADefiniteFailure) {
  StartNodes(2);
  auto o = Options({1, 2});
  o.max_attempts = 3;
  cluster_.node(1).Down();
  cluster_.node(2).Down();
  client::Client c(o);
  auto w = c.Put("k", "v");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kUnavailable);
  // Nothing was ever sent: the write was not applied.
  EXPECT_FALSE(w.error().outcome_unknown);
}

TEST_F(RoutingTest, WithoutAConfigurationAnyAddressAndHintsAreUsed) {
  StartNodes(2);  // the source holds no configuration: NotReady
  const std::string hint = cluster_.node(2).address;
  cluster_.node(1).kv->SetScript([hint](const Seen&) {
    return Answer::Fail(api::ApiError::WrongLeader("follower", hint, 0));
  });
  client::Client c(Options({1}));
  ASSERT_TRUE(c.Put("a", "1").ok());
  EXPECT_EQ(c.config_num(), 0);
  EXPECT_EQ(cluster_.node(1).kv->Count("put"), 1);
  EXPECT_EQ(cluster_.node(2).kv->Count("put"), 1);
  // It stays with the node that served.
  ASSERT_TRUE(c.Put("b", "2").ok());
  auto mg = c.MultiGet({"b", "a"});
  ASSERT_TRUE(mg.ok());
  EXPECT_EQ(mg.value()[0], "2");
  EXPECT_EQ(mg.value()[1], "1");
  EXPECT_EQ(cluster_.node(1).kv->Total(), 1);
  EXPECT_EQ(cluster_.node(2).kv->Count("put"), 2);
  EXPECT_EQ(cluster_.node(2).kv->Count("multi_get"), 1);
  // config_retry_ms not reached: asked once.
  EXPECT_EQ(cluster_.TotalQueries(), 1);
}

TEST_F(RoutingTest, AConfigurationAppearingLaterIsPickedUp) {
  StartNodes(2);
  auto o = Options({1});
  o.config_retry_ms = 0;  // ask before every operation while there is none
  client::Client c(o);
  ASSERT_TRUE(c.Put("a", "1").ok());
  EXPECT_EQ(c.config_num(), 0);
  EXPECT_EQ(cluster_.node(1).kv->Count("put"), 1);
  cluster_.source()->Set(cluster_.MakeConfig(
      3, kShards, std::vector<int64_t>(kShards, 10), {{10, {1, 2}, 2}}));
  ASSERT_TRUE(c.Put("b", "2").ok());
  EXPECT_EQ(c.config_num(), 3);
  EXPECT_EQ(cluster_.node(2).kv->Count("put"), 1);
  EXPECT_EQ(cluster_.node(1).kv->Count("put"), 1);
}

TEST_F(RoutingTest, MultiGetSendsOneRequestPerOrder) {
  StartNodes(4);
  TwoOrders(2, 3);
  client::Client c(Options({4}));
  std::vector<std::string> keys;
  for (uint32_t s = 0; s < kShards; ++s) keys.push_back(KeyInShard(s, 9));
  for (const auto& k : keys) ASSERT_TRUE(c.Put(k, "v" + k).ok());
  // Mixed orders, one absent key in the middle.
  std::vector<std::string> ask = {keys[3], keys[0], "absent-key", keys[5],
                                  keys[2]};
  auto before2 = cluster_.node(2).kv->Count("multi_get");
  auto before3 = cluster_.node(3).kv->Count("multi_get");
  auto r = c.MultiGet(ask);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().size(), ask.size());
  for (size_t i = 0; i < ask.size(); ++i) {
    if (ask[i] == "absent-key") {
      EXPECT_FALSE(r.value()[i].has_value());
    } else {
      EXPECT_EQ(r.value()[i], "v" + ask[i]);
    }
  }
  EXPECT_EQ(cluster_.node(2).kv->Count("multi_get") - before2, 1);
  EXPECT_EQ(cluster_.node(3).kv->Count("multi_get") - before3, 1);
  // Each herald got exactly the keys of its shards, in request order.
  std::vector<std::string> even, odd;
  for (const auto& k : ask) {
    (client::ShardForKey(k, kShards) % 2 == 0 ? even : odd).push_back(k);
  }
  EXPECT_EQ(KeysSeen(2, "multi_get"), even);
  EXPECT_EQ(KeysSeen(3, "multi_get"), odd);
}

TEST_F(RoutingTest, MultiGetRegroupsAfterWrongGroup) {
  StartNodes(4);
  TwoOrders(2, 3);
  client::Client c(Options({1}));
  const std::string a = KeyInShard(0, 1), b = KeyInShard(2, 1);
  ASSERT_TRUE(c.Put(a, "A").ok());
  ASSERT_TRUE(c.Put(b, "B").ok());
  // Shard 2 moves to order 20; order 10 refuses batches holding its keys.
  std::vector<int64_t> owners;
  for (int s = 0; s < kShards; ++s) owners.push_back(s % 2 == 0 ? 10 : 20);
  owners[2] = 20;
  cluster_.source()->Set(cluster_.MakeConfig(
      2, kShards, owners, {{10, {1, 2}, 2}, {20, {3, 4}, 3}}));
  cluster_.node(2).kv->SetScript([](const Seen& s) {
    for (const auto& k : s.keys) {
      if (client::ShardForKey(k, kShards) == 2) {
        return Answer::Fail(api::ApiError::WrongGroup("moved", 2, 2));
      }
    }
    return Answer::Serve();
  });
  auto r = c.MultiGet({b, a});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()[0], "B");
  EXPECT_EQ(r.value()[1], "A");
  EXPECT_EQ(c.config_num(), 2);
  // First [b, a] to order 10 (refused), then [a] to 10 and [b] to 20.
  EXPECT_EQ(KeysSeen(2, "multi_get"), (std::vector<std::string>{b, a, a}));
  EXPECT_EQ(KeysSeen(3, "multi_get"), std::vector<std::string>{b});
}

TEST_F(RoutingTest, TypedRefusalsAreNotRetried) {
  StartNodes(1);
  cluster_.source()->Set(cluster_.MakeConfig(
      1, kShards, std::vector<int64_t>(kShards, 10), {{10, {1}, 1}}));
  cluster_.node(1).kv->SetScript([](const Seen&) {
    return Answer::Fail(api::ApiError::InvalidArgument("bad"));
  });
  client::Client c(Options({1}));
  auto r = c.Put("k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(r.error().outcome_unknown);
  EXPECT_EQ(cluster_.node(1).kv->Total(), 1);
}

// ---- the route table's configuration checks ------------------------------

wire::Configuration GoodConfig() {
  wire::Configuration c;
  c.num = 4;
  c.shards = 2;
  c.shard_owner = {10, 0};
  wire::Order o;
  o.order_id = 10;
  o.members = {1, 2};
  o.herald = 2;
  c.orders = {o};
  for (int64_t id : {1, 2}) {
    wire::Radiant r;
    r.node_id = id;
    r.client_address = "127.0.0.1:" + std::to_string(7000 + id);
    c.radiants.push_back(r);
  }
  return c;
}

TEST(RouteTable, TakesAWellFormedConfiguration) {
  client::RouteTable t;
  std::string why;
  ASSERT_TRUE(t.Install(GoodConfig(), &why)) << why;
  EXPECT_EQ(t.num(), 4);
  EXPECT_EQ(t.OwnerOf(0), 10);
  EXPECT_EQ(t.OwnerOf(1), 0);   // unassigned
  EXPECT_EQ(t.OwnerOf(99), 0);  // out of range
  EXPECT_EQ(t.Candidates(10),
            (std::vector<std::string>{"127.0.0.1:7002", "127.0.0.1:7001"}));
  t.ForgetHerald(10);
  EXPECT_EQ(t.Candidates(10).front(), "127.0.0.1:7001");
  t.LearnHerald(10, 0, "127.0.0.1:7002");  // matched by address
  EXPECT_EQ(t.HeraldOf(10), 2);
  t.LearnHerald(10, 9, "127.0.0.1:7009");  // a node the config did not list
  EXPECT_EQ(t.Candidates(10).front(), "127.0.0.1:7009");
  t.LearnHerald(10, 5, "");  // no address to reach it: ignored
  EXPECT_EQ(t.HeraldOf(10), 9);
}

TEST(RouteTable, RefusesMalformedConfigurations) {
  std::vector<std::pair<std::string, std::function<void(wire::Configuration&)>>>
      cases = {
          {"shards", [](wire::Configuration& c) { c.shards = 0; }},
          {"shard owners",
           [](wire::Configuration& c) { c.shard_owner = {10}; }},
          {"not a listed radiant",
           [](wire::Configuration& c) { c.orders[0].members.push_back(3); }},
          {"client address",
           [](wire::Configuration& c) { c.radiants[0].client_address = "x"; }},
          {"order 0", [](wire::Configuration& c) { c.orders[0].order_id = 0; }},
      };
  for (auto& [needle, mutate] : cases) {
    client::RouteTable t;
    std::string why;
    ASSERT_TRUE(t.Install(GoodConfig(), &why));
    wire::Configuration bad = GoodConfig();
    bad.num = 5;
    mutate(bad);
    EXPECT_FALSE(t.Install(bad, &why)) << needle;
    EXPECT_NE(why.find(needle), std::string::npos) << why;
    EXPECT_EQ(t.num(), 4) << "the previous configuration is kept";
  }
}

}  // namespace
}  // namespace sb::test
