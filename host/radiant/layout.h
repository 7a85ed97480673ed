// host/radiant/layout.h — the cluster's static layout as the runtime uses
// it: which radiants form which order, and which order owns which shard.
//
// A Layout comes from the node's configuration: a [layout] table names every
// radiant and its order; single_node = true is the layout of one order (id
// 1) of this node alone. Orders own contiguous shard ranges, in order id
// order: with k orders and S shards, shard s belongs to the
// (floor(s * k / S) + 1)-th order (docs/orders.md). Every node computes the
// same layout from the same table, so no message is needed to agree on it.
//
// Digest() fingerprints what the data of a cluster depends on (shard count,
// order ids, their members' node ids; not addresses, which may change): a
// data directory records it at first start and refuses another one later,
// and the transport's cluster id carries it, so nodes whose layouts differ
// never exchange consensus messages.
//
// Thread safety: immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/config/config.h"

namespace sb::radiant {

// The configuration number of a static layout (Admin.query_config, WrongGroup).
inline constexpr int64_t kStaticConfigNum = 1;

struct LayoutMember {
  uint64_t node = 0;  // NodeNumber(name)
  std::string name;   // [node] id
  uint64_t order = 0;
  std::string peer_address;    // host:port
  std::string client_address;  // host:port
};

struct LayoutOrder {
  uint64_t id = 0;
  std::vector<uint64_t> members;  // node numbers, in layout order
  uint32_t first_shard = 0;       // owns [first_shard, end_shard)
  uint32_t end_shard = 0;
};

class Layout {
 public:
  // The layout of `config` (empty when it has neither [layout] nor
  // single_node). The config was validated by ParseConfig.
  static Layout FromConfig(const NodeConfig& config);

  bool empty() const { return orders_.empty(); }
  uint32_t shards() const { return shards_; }
  const std::vector<LayoutOrder>& orders() const { return orders_; }
  const std::vector<LayoutMember>& members() const { return members_; }

  // The order owning `shard` (< shards()); 0 for an empty layout.
  uint64_t OwnerOf(uint32_t shard) const;
  // The shards of an order, ascending (empty for an unknown order).
  std::vector<uint16_t> ShardsOf(uint64_t order) const;
  // nullptr when unknown.
  const LayoutOrder* Order(uint64_t id) const;
  const LayoutMember* Member(uint64_t node) const;

  // 16 hex digits; see the file comment.
  std::string Digest() const;
  // The transport's and Admin's cluster id: "static-<digest>".
  std::string ClusterId() const { return "static-" + Digest(); }

 private:
  uint32_t shards_ = 0;
  std::vector<LayoutOrder> orders_;  // ascending id
  std::vector<LayoutMember> members_;
};

}  // namespace sb::radiant
