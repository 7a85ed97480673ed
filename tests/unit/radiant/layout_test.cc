// The static layout: orders own contiguous shard ranges covering every
// shard, single_node is an order of one, and the digest changes with what
// the data depends on (shards, orders, members) but not with addresses.
#include "host/radiant/layout.h"

#include <gtest/gtest.h>

#include "host/common/node_number.h"

namespace sb::radiant {
namespace {

NodeConfig Cluster(int orders, int replicas, uint32_t shards) {
  NodeConfig c;
  c.node.id = "r0";
  c.cluster.shards = shards;
  c.cluster.replication_factor = replicas;
  for (int i = 0; i < orders * replicas; ++i) {
    LayoutRadiant r;
    r.id = "r" + std::to_string(i);
    r.order = static_cast<uint64_t>(i / replicas + 1);
    r.peer = HostPort{"127.0.0.1", static_cast<uint16_t>(7400 + i)};
    r.client = HostPort{"127.0.0.1", static_cast<uint16_t>(7500 + i)};
    c.layout.radiants.push_back(r);
  }
  return c;
}

TEST(LayoutTest, OrdersOwnContiguousRangesCoveringEveryShard) {
  for (int orders : {1, 2, 3, 5, 7}) {
    for (uint32_t shards : {7u, 8u, 12u, 64u, 1000u}) {
      if (shards < static_cast<uint32_t>(orders)) continue;
      Layout l = Layout::FromConfig(Cluster(orders, 3, shards));
      ASSERT_EQ(l.orders().size(), static_cast<size_t>(orders));
      uint32_t next = 0;
      for (const LayoutOrder& o : l.orders()) {
        EXPECT_EQ(o.first_shard, next);
        EXPECT_GT(o.end_shard, o.first_shard) << "an order without shards";
        // Balanced: sizes differ by at most one.
        EXPECT_LE(o.end_shard - o.first_shard, shards / orders + 1);
        EXPECT_GE(o.end_shard - o.first_shard, shards / orders);
        for (uint32_t s = o.first_shard; s < o.end_shard; ++s) {
          EXPECT_EQ(l.OwnerOf(s), o.id) << "shard " << s;
        }
        EXPECT_EQ(l.ShardsOf(o.id).size(), o.end_shard - o.first_shard);
        next = o.end_shard;
      }
      EXPECT_EQ(next, shards);
      EXPECT_EQ(l.OwnerOf(shards), 0u);
    }
  }
}

TEST(LayoutTest, MembersAndLookups) {
  Layout l = Layout::FromConfig(Cluster(3, 3, 12));
  EXPECT_EQ(l.members().size(), 9u);
  const LayoutMember* m = l.Member(NodeNumber("r4"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->order, 2u);
  EXPECT_EQ(m->client_address, "127.0.0.1:7504");
  EXPECT_EQ(l.Member(NodeNumber("nobody")), nullptr);
  ASSERT_NE(l.Order(3), nullptr);
  EXPECT_EQ(l.Order(3)->members.size(), 3u);
  EXPECT_EQ(l.Order(4), nullptr);
  EXPECT_TRUE(l.ShardsOf(4).empty());
}

TEST(LayoutTest, SingleNodeIsOneOrderOfOne) {
  NodeConfig c;
  c.node.id = "solo";
  c.node.single_node = true;
  c.cluster.shards = 16;
  Layout l = Layout::FromConfig(c);
  ASSERT_EQ(l.orders().size(), 1u);
  EXPECT_EQ(l.orders()[0].id, 1u);
  EXPECT_EQ(l.orders()[0].members, std::vector<uint64_t>{NodeNumber("solo")});
  EXPECT_EQ(l.ShardsOf(1).size(), 16u);
  EXPECT_TRUE(Layout::FromConfig(NodeConfig{}).empty());
}

TEST(LayoutTest, DigestFollowsDataNotAddresses) {
  const std::string base = Layout::FromConfig(Cluster(3, 3, 12)).Digest();
  EXPECT_EQ(base.size(), 16u);
  NodeConfig moved = Cluster(3, 3, 12);
  moved.layout.radiants[2].client.port = 9999;
  EXPECT_EQ(Layout::FromConfig(moved).Digest(), base);
  EXPECT_NE(Layout::FromConfig(Cluster(3, 3, 16)).Digest(), base);
  EXPECT_NE(Layout::FromConfig(Cluster(2, 3, 12)).Digest(), base);
  NodeConfig swapped = Cluster(3, 3, 12);
  std::swap(swapped.layout.radiants[0].order, swapped.layout.radiants[3].order);
  EXPECT_NE(Layout::FromConfig(swapped).Digest(), base);
}

}  // namespace
}  // namespace sb::radiant
