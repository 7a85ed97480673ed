// Real shardbearerd processes on loopback forming orders from a static
// [layout]: any node answers any key (one hop to the herald), Admin
// reports roles and the layout's configuration, and recorded histories
// stay linearizable, with every acknowledged write kept, while a herald is
// killed and restarted, a follower is paused and resumed, and every node
// is killed at once and restarted.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "host/order/shard.h"
#include "tests/daemon/history_recorder.h"
#include "tests/daemon/process_cluster.h"
#include "tests/linearizability/checker.h"

namespace {

using sb::testing::ApiConnection;
using sb::testing::ClusterSpec;
using sb::testing::HistoryRecorder;
using sb::testing::ProcessCluster;
namespace wire = shardbearer::wire;

void Sleep(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

wire::WriteId Id(int64_t client, int64_t seq) {
  wire::WriteId id;
  id.client_id = client;
  id.sequence = seq;
  return id;
}

// Every order has a herald (bounded wait).
void WaitHeralds(const ProcessCluster& c, int orders) {
  for (int o = 1; o <= orders; ++o) {
    ASSERT_GE(c.WaitHerald(o), 0) << "order " << o << " elected no herald";
  }
}

void ExpectLinearizable(const sb::lincheck::History& h) {
  sb::lincheck::CheckResult r = sb::lincheck::CheckHistory(h);
  EXPECT_EQ(r.verdict, sb::lincheck::Verdict::kLinearizable) << r.Report();
}

TEST(ClusterTest, AnyNodeServesAnyKey) {
  ClusterSpec spec;
  spec.orders = 3;
  spec.replicas = 3;
  spec.shards = 12;
  spec.name = "cluster-any";
  ProcessCluster c(spec);
  std::string why;
  ASSERT_TRUE(c.StartAll(&why)) << why;
  WaitHeralds(c, 3);

  // One key per node, written through that node.
  std::set<int> owners;
  for (int i = 0; i < c.size(); ++i) {
    ApiConnection a(c.client_port(i));
    wire::PutRequest put;
    put.key = "key-of-" + std::to_string(i);
    put.value = "value-" + std::to_string(i);
    put.write_id = Id(i + 1, 1);
    wire::PutResult res;
    a.kv->put(res, put);
    owners.insert(sb::order::ShardOf(put.key, 12) * 3 / 12 + 1);
  }
  EXPECT_EQ(owners.size(), 3u) << "the keys should span every order";

  // Every node reads every key, and a multi_get spans orders.
  for (int i = 0; i < c.size(); ++i) {
    ApiConnection a(c.client_port(i));
    wire::MultiGetRequest mg;
    for (int j = 0; j < c.size(); ++j) {
      wire::GetRequest get;
      get.key = "key-of-" + std::to_string(j);
      wire::GetResult res;
      a.kv->get(res, get);
      ASSERT_TRUE(res.found) << get.key << " via r" << i;
      EXPECT_EQ(res.value, "value-" + std::to_string(j));
      mg.keys.push_back(get.key);
    }
    mg.keys.push_back("absent");
    wire::MultiGetResult all;
    a.kv->multi_get(all, mg);
    ASSERT_EQ(all.results.size(), mg.keys.size());
    for (int j = 0; j < c.size(); ++j) {
      EXPECT_EQ(all.results[j].value, "value-" + std::to_string(j));
    }
    EXPECT_FALSE(all.results.back().found);
  }

  // no_forward: a key of another order is refused with WrongGroup; one of
  // this node's order answers here or names the herald.
  ApiConnection a0(c.client_port(0));
  bool wrong_group = false;
  for (int k = 0; k < 100 && !wrong_group; ++k) {
    wire::GetRequest get;
    get.key = "probe-" + std::to_string(k);
    get.__set_no_forward(true);
    if (sb::order::ShardOf(get.key, 12) * 3 / 12 + 1 == 1) continue;
    try {
      wire::GetResult res;
      a0.kv->get(res, get);
    } catch (const wire::WrongGroup& e) {
      wrong_group = true;
      EXPECT_EQ(e.config_num, 1);
    }
  }
  EXPECT_TRUE(wrong_group);

  // no_forward writes of order 1's keys to order 1's radiants: the herald
  // answers (on its asynchronous path), the others name it.
  {
    std::string key;
    for (int k = 0; key.empty(); ++k) {
      std::string probe = "direct-" + std::to_string(k);
      if (sb::order::ShardOf(probe, 12) * 3 / 12 + 1 == 1) key = probe;
    }
    int ok = 0, wrong_leader = 0;
    for (int i = 0; i < 3; ++i) {
      ApiConnection a(c.client_port(i));
      wire::PutRequest put;
      put.write_id = Id(200 + i, 1);
      put.key = key;
      put.value = "direct";
      put.__set_no_forward(true);
      wire::PutResult res;
      try {
        a.kv->put(res, put);
        ++ok;
      } catch (const wire::WrongLeader& e) {
        ++wrong_leader;
        EXPECT_FALSE(e.leader_hint.empty());
      }
    }
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(wrong_leader, 2);
    ApiConnection a(c.client_port(4));  // another order's radiant forwards
    wire::GetRequest get;
    get.key = key;
    wire::GetResult got;
    a.kv->get(got, get);
    EXPECT_EQ(got.value, "direct");
  }

  // Bad input answers typed errors, and the node keeps serving.
  {
    wire::PutRequest put;
    put.write_id = Id(100, 1);
    put.key = std::string(5000, 'k');  // over max_key_bytes (4096)
    put.value = "v";
    wire::PutResult res;
    EXPECT_THROW(a0.kv->put(res, put), wire::TooLarge);
    put.key = "big-value";
    put.value = std::string((1 << 20) + 1, 'v');  // over max_value_bytes
    EXPECT_THROW(a0.kv->put(res, put), wire::TooLarge);
    put.key = "";
    put.value = "v";
    EXPECT_THROW(a0.kv->put(res, put), wire::InvalidArgument);
    wire::GetRequest get;
    get.key = "key-of-5";
    wire::GetResult got;
    a0.kv->get(got, get);
    EXPECT_EQ(got.value, "value-5");
  }

  // Admin: status names the order and role; query_config the layout.
  int heralds = 0;
  for (int i = 0; i < c.size(); ++i) {
    auto s = c.Status(i);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->order_id, c.OrderOf(i));
    EXPECT_EQ(s->config_num, 1);
    EXPECT_EQ(s->node_name, "r" + std::to_string(i));
    EXPECT_EQ(s->cluster_id.rfind("static-", 0), 0u) << s->cluster_id;
    heralds += s->role == wire::NodeRole::HERALD;
  }
  EXPECT_EQ(heralds, 3);
  wire::Configuration cfg;
  a0.admin->query_config(cfg, -1);
  EXPECT_EQ(cfg.num, 1);
  EXPECT_EQ(cfg.shards, 12);
  ASSERT_EQ(cfg.shard_owner.size(), 12u);
  EXPECT_EQ(cfg.shard_owner.front(), 1);
  EXPECT_EQ(cfg.shard_owner.back(), 3);
  ASSERT_EQ(cfg.orders.size(), 3u);
  for (const wire::Order& o : cfg.orders) EXPECT_EQ(o.members.size(), 3u);
  EXPECT_EQ(cfg.radiants.size(), 9u);
  EXPECT_NE(cfg.orders[0].herald, 0);  // r0's own order
  EXPECT_THROW(a0.admin->query_config(cfg, 7), wire::InvalidArgument);
  wire::NodeRequest leave;
  leave.node_id = 1;
  wire::AdminResult ar;
  EXPECT_THROW(a0.admin->leave(ar, leave), wire::NotReady);

  for (int i = 0; i < c.size(); ++i) {
    EXPECT_TRUE(c.Stop(i)) << "r" << i << " did not stop cleanly";
  }
}

// With mutual TLS on the client ports, a radiant forwards with its own
// certificate: a key of the other order, written and read through one node.
TEST(ClusterTest, ForwardingSpeaksTheClientPortsTls) {
  ClusterSpec spec;
  spec.orders = 2;
  spec.replicas = 1;
  spec.shards = 4;
  spec.client_tls = true;
  spec.name = "cluster-tls";
  ProcessCluster c(spec);
  ASSERT_TRUE(c.tls_ok()) << "openssl could not make test certificates";
  std::string why;
  ASSERT_TRUE(c.StartAll(&why)) << why;
  sb::client::ClientOptions o;
  o.addresses = {c.client_address(0)};
  o.route_by_config = false;  // every request through radiant 0
  o.tls_cert_file = c.tls_dir() + "/node.pem";
  o.tls_key_file = c.tls_dir() + "/node.key";
  o.tls_ca_file = c.tls_dir() + "/ca.pem";
  sb::client::Client client(o);
  int forwarded = 0;
  for (int k = 0; k < 16; ++k) {
    const std::string key = "tls-" + std::to_string(k);
    forwarded += sb::order::ShardOf(key, 4) >= 2;  // order 2's shards
    auto put = client.Put(key, "v" + std::to_string(k));
    ASSERT_TRUE(put.ok()) << key << ": " << put.error().message;
    auto get = client.Get(key);
    ASSERT_TRUE(get.ok()) << key << ": " << get.error().message;
    EXPECT_EQ(get.value(), "v" + std::to_string(k));
  }
  EXPECT_GT(forwarded, 0);
}

TEST(ClusterTest, HeraldKilledUnderLoadAndRestarted) {
  ClusterSpec spec;
  spec.orders = 2;
  spec.name = "cluster-kill";
  ProcessCluster c(spec);
  std::string why;
  ASSERT_TRUE(c.StartAll(&why)) << why;
  WaitHeralds(c, 2);

  HistoryRecorder rec(c.client_addresses(), 6);
  rec.Start(/*clients=*/6, /*max_ops_per_client=*/400, /*seed=*/1);
  Sleep(800);
  const int herald = c.WaitHerald(1);
  ASSERT_GE(herald, 0);
  c.Kill(herald);
  Sleep(1500);
  ASSERT_TRUE(c.Start(herald, &why)) << why;
  Sleep(1000);
  sb::lincheck::History h = rec.Finish();
  EXPECT_GT(rec.acknowledged(), 0u);
  ExpectLinearizable(h);
}

TEST(ClusterTest, FollowerPausedAndResumed) {
  ClusterSpec spec;
  spec.orders = 1;
  spec.name = "cluster-pause";
  ProcessCluster c(spec);
  std::string why;
  ASSERT_TRUE(c.StartAll(&why)) << why;
  const int herald = c.WaitHerald(1);
  ASSERT_GE(herald, 0);
  const int follower = (herald + 1) % 3;

  HistoryRecorder rec(c.client_addresses(), 4);
  rec.Start(/*clients=*/4, /*max_ops_per_client=*/400, /*seed=*/2);
  Sleep(500);
  c.Signal(follower, SIGSTOP);
  Sleep(1500);
  c.Signal(follower, SIGCONT);
  Sleep(800);
  // The resumed follower must have caught up: take the herald away so the
  // order runs on it and the third radiant.
  c.Kill(herald);
  Sleep(1500);
  sb::lincheck::History h = rec.Finish();
  EXPECT_GT(rec.acknowledged(), 0u);
  ExpectLinearizable(h);
}

TEST(ClusterTest, EveryNodeKilledAndRestartedKeepsAcknowledgedWrites) {
  ClusterSpec spec;
  spec.orders = 2;
  spec.name = "cluster-restart";
  ProcessCluster c(spec);
  std::string why;
  ASSERT_TRUE(c.StartAll(&why)) << why;
  WaitHeralds(c, 2);

  HistoryRecorder rec(c.client_addresses(), 6);
  rec.Start(/*clients=*/4, /*max_ops_per_client=*/150, /*seed=*/3);
  Sleep(1000);
  // Every radiant at once, mid-load: only what storage synced survives.
  for (int i = 0; i < c.size(); ++i) c.Kill(i);
  rec.Stop();
  ASSERT_TRUE(c.StartAll(&why)) << why;
  WaitHeralds(c, 2);
  sb::lincheck::History h = rec.Finish();
  EXPECT_GT(rec.acknowledged(), 0u);
  ExpectLinearizable(h);
}

}  // namespace
