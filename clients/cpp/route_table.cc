// clients/cpp/route_table.cc — see route_table.h.
#include "route_table.h"

#include <algorithm>
#include <set>

#include "thrift/net/dial.h"

namespace sb::client {

namespace w = ::shardbearer::wire;

bool RouteTable::Install(const w::Configuration& config, std::string* why) {
  if (config.shards <= 0) {
    *why = "configuration " + std::to_string(config.num) + " has " +
           std::to_string(config.shards) + " shards";
    return false;
  }
  if (config.shard_owner.size() != static_cast<size_t>(config.shards)) {
    *why = "configuration " + std::to_string(config.num) + " lists " +
           std::to_string(config.shard_owner.size()) + " shard owners for " +
           std::to_string(config.shards) + " shards";
    return false;
  }
  std::map<int64_t, std::string> addresses;
  for (const w::Radiant& r : config.radiants) {
    sb::wire::HostPort hp;
    std::string bad;
    if (r.node_id == 0 ||
        !sb::wire::ParseHostPort(r.client_address, &hp, &bad)) {
      *why = "configuration " + std::to_string(config.num) + ": radiant " +
             std::to_string(r.node_id) + " has client address '" +
             r.client_address + "'" + (bad.empty() ? "" : " (" + bad + ")");
      return false;
    }
    addresses[r.node_id] = r.client_address;
  }
  std::map<int64_t, OrderInfo> orders;
  for (const w::Order& o : config.orders) {
    if (o.order_id == 0) {
      *why = "configuration " + std::to_string(config.num) + " has order 0";
      return false;
    }
    OrderInfo info;
    for (int64_t m : o.members) {
      if (addresses.count(m) == 0) {
        *why = "configuration " + std::to_string(config.num) + ": member " +
               std::to_string(m) + " of order " + std::to_string(o.order_id) +
               " is not a listed radiant";
        return false;
      }
      info.members.push_back(m);
    }
    // A herald the configuration cannot reach is as good as unknown.
    info.herald = addresses.count(o.herald) ? o.herald : 0;
    orders[o.order_id] = std::move(info);
  }
  num_ = config.num;
  shards_ = config.shards;
  owner_ = config.shard_owner;
  orders_ = std::move(orders);
  addresses_ = std::move(addresses);
  return true;
}

void RouteTable::Clear() { *this = RouteTable(); }

int64_t RouteTable::OwnerOf(uint32_t shard) const {
  if (shard >= owner_.size()) return 0;
  int64_t order = owner_[shard];
  return orders_.count(order) ? order : 0;
}

std::string RouteTable::AddressOf(int64_t node_id) const {
  auto it = addresses_.find(node_id);
  return it == addresses_.end() ? std::string() : it->second;
}

std::vector<std::string> RouteTable::Candidates(int64_t order) const {
  std::vector<std::string> out;
  auto it = orders_.find(order);
  if (it == orders_.end()) return out;
  auto add = [&out](const std::string& a) {
    if (!a.empty() && std::find(out.begin(), out.end(), a) == out.end()) {
      out.push_back(a);
    }
  };
  if (it->second.herald != 0) add(AddressOf(it->second.herald));
  for (int64_t m : it->second.members) add(AddressOf(m));
  return out;
}

std::vector<std::string> RouteTable::AllAddresses() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& [id, a] : addresses_) {
    if (seen.insert(a).second) out.push_back(a);
  }
  return out;
}

void RouteTable::LearnHerald(int64_t order, int64_t node_id,
                             const std::string& address) {
  auto it = orders_.find(order);
  if (it == orders_.end()) return;
  if (node_id == 0 && !address.empty()) {
    for (const auto& [id, a] : addresses_) {
      if (a == address) node_id = id;
    }
  }
  if (node_id == 0) return;
  // A herald the configuration did not list (it joined since): keep its
  // address so the next request reaches it.
  if (!address.empty()) addresses_[node_id] = address;
  if (addresses_.count(node_id) == 0) return;
  it->second.herald = node_id;
}

void RouteTable::ForgetHerald(int64_t order) {
  auto it = orders_.find(order);
  if (it != orders_.end()) it->second.herald = 0;
}

int64_t RouteTable::HeraldOf(int64_t order) const {
  auto it = orders_.find(order);
  return it == orders_.end() ? 0 : it->second.herald;
}

}  // namespace sb::client
