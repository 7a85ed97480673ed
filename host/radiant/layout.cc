// host/radiant/layout.cc — see layout.h.
#include "host/radiant/layout.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "host/common/node_number.h"
#include "host/order/shard.h"

namespace sb::radiant {

Layout Layout::FromConfig(const NodeConfig& config) {
  Layout l;
  l.shards_ = config.cluster.shards;
  if (config.node.single_node) {
    LayoutMember m;
    m.node = NodeNumber(config.node.id);
    m.name = config.node.id;
    m.order = 1;
    m.peer_address = config.node.advertise_peer.ToString();
    m.client_address = config.node.advertise_client.ToString();
    l.members_.push_back(std::move(m));
  } else {
    for (const LayoutRadiant& r : config.layout.radiants) {
      LayoutMember m;
      m.node = NodeNumber(r.id);
      m.name = r.id;
      m.order = r.order;
      m.peer_address = r.peer.ToString();
      m.client_address = r.client.ToString();
      l.members_.push_back(std::move(m));
    }
  }
  std::map<uint64_t, std::vector<uint64_t>> by_order;
  for (const LayoutMember& m : l.members_) {
    by_order[m.order].push_back(m.node);
  }
  const uint64_t k = by_order.size();
  size_t i = 0;
  for (auto& [id, members] : by_order) {
    LayoutOrder o;
    o.id = id;
    o.members = std::move(members);
    // Shard s belongs to order index floor(s * k / S): the ranges below are
    // that rule solved for s (first s with floor(s*k/S) >= i).
    o.first_shard = static_cast<uint32_t>((i * l.shards_ + k - 1) / k);
    o.end_shard = static_cast<uint32_t>(((i + 1) * l.shards_ + k - 1) / k);
    l.orders_.push_back(std::move(o));
    ++i;
  }
  return l;
}

uint64_t Layout::OwnerOf(uint32_t shard) const {
  if (orders_.empty() || shard >= shards_) return 0;
  const size_t i =
      static_cast<size_t>(uint64_t{shard} * orders_.size() / shards_);
  return orders_[i].id;
}

std::vector<uint16_t> Layout::ShardsOf(uint64_t order) const {
  std::vector<uint16_t> out;
  const LayoutOrder* o = Order(order);
  if (o == nullptr) return out;
  for (uint32_t s = o->first_shard; s < o->end_shard; ++s) {
    out.push_back(static_cast<uint16_t>(s));
  }
  return out;
}

const LayoutOrder* Layout::Order(uint64_t id) const {
  for (const LayoutOrder& o : orders_) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

const LayoutMember* Layout::Member(uint64_t node) const {
  for (const LayoutMember& m : members_) {
    if (m.node == node) return &m;
  }
  return nullptr;
}

std::string Layout::Digest() const {
  std::string canonical = "shards=" + std::to_string(shards_);
  for (const LayoutOrder& o : orders_) {
    canonical += ";order=" + std::to_string(o.id) + ":";
    std::vector<std::string> names;
    for (uint64_t n : o.members) names.push_back(Member(n)->name);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) canonical += name + ",";
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(order::Fnv1a64(canonical)));
  return buf;
}

}  // namespace sb::radiant
