// clients/cpp/route_table.h — the C++ client's cached cluster configuration
// (internal to sb_client).
//
// A RouteTable holds what the client learned from Admin.query_config: the
// number of shards, which order owns each shard, each order's members and
// herald, and each radiant's client address. It answers "where should a
// request for this shard go": the order's herald first, then its other
// members in listed order. Heralds learned later from WrongLeader answers
// override the configuration's (Learn*), and a herald that stopped answering
// is forgotten (ForgetHerald) so the next request asks a member instead.
//
// Install() checks a configuration before taking it: shards > 0, one owner
// per shard, every member and herald a listed radiant or 0, every client
// address "host:port". A configuration that fails is refused with a message
// and the previous one (if any) is kept.
//
// Thread safety: none; the owning Client is single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shardbearer/wire/shardbearer_types.h"

namespace sb::client {

class RouteTable {
 public:
  // True when a configuration is installed.
  bool loaded() const { return shards_ > 0; }
  int64_t num() const { return num_; }
  int32_t shards() const { return shards_; }

  // Takes `config` when it is well formed; otherwise returns false, sets
  // *why and keeps the current table.
  bool Install(const ::shardbearer::wire::Configuration& config,
               std::string* why);
  void Clear();

  // Order owning `shard`, 0 when unassigned, unknown or out of range.
  int64_t OwnerOf(uint32_t shard) const;

  // Where to send a request for `order`: the herald's address first (when
  // known), then the other members' addresses, without duplicates. Empty
  // when the order is unknown.
  std::vector<std::string> Candidates(int64_t order) const;

  // Every radiant's client address, in node id order.
  std::vector<std::string> AllAddresses() const;

  // A WrongLeader answer for `order` named `node_id` (0: unknown) at
  // `address` (empty: unknown). Records the herald so later requests go
  // straight to it; an address alone is matched against the radiants.
  void LearnHerald(int64_t order, int64_t node_id, const std::string& address);
  // The herald of `order` did not answer: requests go to members until a
  // WrongLeader answer names the new one.
  void ForgetHerald(int64_t order);
  // Node id of `order`'s herald, 0 when unknown.
  int64_t HeraldOf(int64_t order) const;

 private:
  struct OrderInfo {
    std::vector<int64_t> members;
    int64_t herald = 0;
  };
  std::string AddressOf(int64_t node_id) const;

  int64_t num_ = 0;
  int32_t shards_ = 0;
  std::vector<int64_t> owner_;
  std::map<int64_t, OrderInfo> orders_;
  std::map<int64_t, std::string> addresses_;  // node id -> client address
};

}  // namespace sb::client
