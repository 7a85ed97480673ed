// tests/simulation/network.h — a simulated message network.
//
// Messages between node ids travel with a delay counted in simulation
// ticks. The network can lose, duplicate and reorder (random delays, with
// occasional long ones) messages, cut a node off, cut single directed links
// (one-way partitions) or split the nodes into partitions. A message is
// dropped if its link is down when it is sent or when it is due. All
// choices come from the simulation's Rng. Thread safety: none.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/simulation/rng.h"

namespace sb::sim {

struct NetworkOptions {
  double loss = 0.0;        // probability a message is dropped
  double duplicate = 0.0;   // probability a message is delivered twice
  uint64_t min_delay = 1;   // ticks, >= 1
  uint64_t max_delay = 1;   // ticks
  double long_delay = 0.0;  // probability of a long delay (reordering)
  uint64_t long_delay_max = 50;

  static NetworkOptions Reliable() { return {}; }
  // The 6.824 "unreliable" network: 10% loss, jitter, some long delays.
  static NetworkOptions Unreliable() {
    NetworkOptions o;
    o.loss = 0.1;
    o.duplicate = 0.05;
    o.min_delay = 1;
    o.max_delay = 3;
    o.long_delay = 0.02;
    o.long_delay_max = 40;
    return o;
  }
};

struct NetworkStats {
  uint64_t sent = 0;   // messages handed to the network
  uint64_t bytes = 0;  // their bytes
  uint64_t delivered = 0;
  uint64_t dropped = 0;
};

class Network {
 public:
  explicit Network(Rng* rng) : rng_(rng) {}

  void set_options(const NetworkOptions& o) { opts_ = o; }
  const NetworkOptions& options() const { return opts_; }

  void Send(uint64_t now, uint64_t from, uint64_t to, std::string data);
  // Delivers every message due at or before `now` (in due order, ties by
  // send order). `deliver` may send more messages; those are due later.
  void DeliverDue(uint64_t now,
                  const std::function<void(uint64_t from, uint64_t to,
                                           const std::string& data)>& deliver);

  // Connectivity. A disconnected node neither sends nor receives.
  void SetConnected(uint64_t node, bool connected);
  bool IsConnected(uint64_t node) const { return !cut_.count(node); }
  // Directed link from -> to.
  void SetLink(uint64_t from, uint64_t to, bool up);
  // Only nodes in the same group talk; nodes in no group are cut off.
  void Partition(const std::vector<std::vector<uint64_t>>& groups,
                 const std::vector<uint64_t>& all_nodes);
  // All nodes connected, all links up.
  void Heal();
  bool CanTalk(uint64_t from, uint64_t to) const;

  const NetworkStats& stats() const { return stats_; }
  size_t in_flight() const { return queue_.size(); }

 private:
  struct Pending {
    uint64_t due;
    uint64_t seq;
    uint64_t from;
    uint64_t to;
    std::string data;
    bool operator>(const Pending& o) const {
      return due != o.due ? due > o.due : seq > o.seq;
    }
  };
  uint64_t Delay();

  Rng* rng_;
  NetworkOptions opts_;
  std::vector<Pending> queue_;  // min-heap by (due, seq)
  uint64_t seq_ = 0;
  std::set<uint64_t> cut_;
  std::set<std::pair<uint64_t, uint64_t>> down_links_;
  NetworkStats stats_;
};

}  // namespace sb::sim
