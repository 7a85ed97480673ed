// tests/support/inproc_transport/inproc_transport.h — an in-process
// transport for tests: many nodes in one process, connected by a simulated
// Network with seeded fault injection.
//
// Each node's transport is an ordinary sb_transport instance created through
// Network::Vtable() (the same vtable shape as a transport plugin, so the
// host's Transport wrapper and any harness use it unchanged). The instance
// finds its network by the config key `network` (the name a Network was
// constructed with). Other config keys: `send_queue_messages` (default
// 4096, per destination). Unknown keys are refused like a real plugin.
//
// Addresses: `listen` registers the instance under its listen_address
// (any string; "host:0" is turned into a unique "inproc:<n>"). add_peer maps
// a node id to such an address. Delivery applies the checks of the real
// handshake: the receiver must be the node id the sender dialed, must know
// the sender as a peer, and share its cluster id; otherwise the message is
// dropped with a log line on the receiver.
//
// Faults (all decisions come from one generator seeded at construction):
//  - drop, duplicate and reorder probabilities and a delay range, network-
//    wide or per directed link;
//  - partitions (groups that cannot talk), one-way link blocks, isolated
//    nodes (cut off from everyone, both ways), heal.
//  A partition is checked at send time and again at delivery time, so
//  messages in flight when a partition starts are lost, as on a real
//  network.
//
// Modes:
//  - kRealTime: a network thread delivers each message when its delay
//    elapses (wall clock); deliver runs on that thread.
//  - kManual (deterministic): nothing moves until the harness calls Step(),
//    DeliverAll() or AdvanceTime(); deliver runs on the caller's thread, in
//    (due time, send order) order. The same seed and the same sequence of
//    calls give the same deliveries. Time is virtual, in microseconds.
//
// Thread safety: every Network method and every vtable function is
// thread-safe. Deliver callbacks run without network locks held, so they may
// call send. A Network must outlive the instances created on it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "shardbearer/abi/transport.h"

namespace sb::inproc {

struct Faults {
  double drop = 0;       // probability a message is lost
  double duplicate = 0;  // probability a message is delivered twice
  double reorder = 0;    // probability a message gets extra delay
  uint64_t min_delay_us = 0;
  uint64_t max_delay_us = 0;
  // Extra delay of a reordered message: reorder_delay_us, or uniform in
  // [reorder_delay_us, reorder_delay_max_us] when the latter is larger.
  uint64_t reorder_delay_us = 10000;
  uint64_t reorder_delay_max_us = 0;
};

struct NetworkStats {
  uint64_t sent = 0, delivered = 0, dropped = 0, duplicated = 0,
           partitioned = 0, refused = 0;
  uint64_t bytes_sent = 0;  // bytes of the `sent` messages
};

class Instance;

class Network {
 public:
  enum class Mode { kRealTime, kManual };

  // `name` is what instances put in their `network` config key; it must be
  // unique among live networks.
  Network(std::string name, uint64_t seed, Mode mode);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // The transport vtable and a plugin descriptor for it ("transport-inproc").
  static const sb_transport_vtable* Vtable();
  static const sb_plugin_info* Info();

  const std::string& name() const { return name_; }
  uint64_t seed() const { return seed_; }

  void SetFaults(const Faults& f);
  void SetLinkFaults(uint64_t from, uint64_t to, const Faults& f);
  // Nodes in different groups cannot exchange messages; nodes in no group
  // talk to everyone. Replaces any previous partition.
  void Partition(const std::vector<std::set<uint64_t>>& groups);
  // One-way: messages from `from` to `to` are lost.
  void BlockLink(uint64_t from, uint64_t to);
  void UnblockLink(uint64_t from, uint64_t to);
  // An isolated node neither sends nor receives (until un-isolated or
  // healed), whatever the partition.
  void Isolate(uint64_t node, bool isolated);
  bool IsIsolated(uint64_t node) const;
  // Whether a message from `from` to `to` would pass the partition, the
  // link blocks and isolation now (faults aside).
  bool CanTalk(uint64_t from, uint64_t to) const;
  // Removes partitions, blocks and isolation (faults stay).
  void Heal();

  // --- Manual mode ---
  // Delivers the earliest pending message (moving virtual time to its due
  // time). False when nothing is pending.
  bool Step();
  // Steps until nothing is pending or max_steps were taken; returns steps.
  size_t DeliverAll(size_t max_steps = 1000000);
  // Moves virtual time forward by `us`, delivering everything due by then.
  size_t AdvanceTime(uint64_t us);
  uint64_t now_us() const;
  size_t pending() const;

  NetworkStats stats() const;

  // Used by instances (not by tests).
  struct Message {
    uint64_t due_us;
    uint64_t seq;
    uint64_t from, to;
    std::string to_address;
    std::string cluster;  // sender's cluster id
    std::string bytes;
    bool operator<(const Message& o) const {
      return due_us != o.due_us ? due_us > o.due_us : seq > o.seq;
    }
  };
  static Network* Find(const std::string& name);
  sb_code Register(const std::string& address, Instance* inst, sb_status* st,
                   std::string* bound);
  void Unregister(Instance* inst);
  // Applies faults and queues; SB_BUSY when the link queue is full.
  sb_code Submit(uint64_t from, const std::string& cluster, uint64_t to,
                 const std::string& address, const uint8_t* data, size_t len,
                 size_t queue_limit, sb_status* st);

 private:
  bool Blocked(uint64_t from, uint64_t to) const;  // mu_ held
  const Faults& FaultsFor(uint64_t from, uint64_t to) const;
  uint64_t Delay(const Faults& f);  // mu_ held
  uint64_t Now() const;             // mu_ held
  // Pops the next due message (<= limit) if any; mu_ held.
  bool PopDue(uint64_t limit, Message* out);
  void Deliver(Message m);  // mu_ not held
  void RunRealTime();

  const std::string name_;
  const uint64_t seed_;
  const Mode mode_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::mt19937_64 rng_;
  uint64_t seq_ = 0;
  uint64_t virtual_now_us_ = 0;
  uint64_t real_start_us_ = 0;
  bool stop_ = false;
  std::vector<Message> heap_;  // std::push_heap order: earliest first
  std::map<std::pair<uint64_t, uint64_t>, size_t> in_flight_;
  Faults faults_;
  std::map<std::pair<uint64_t, uint64_t>, Faults> link_faults_;
  std::map<uint64_t, int> group_of_;
  std::set<std::pair<uint64_t, uint64_t>> blocked_;
  std::set<uint64_t> isolated_;
  std::map<std::string, Instance*> by_address_;
  std::multiset<Instance*> busy_;  // instances inside a deliver call
  std::condition_variable idle_cv_;
  uint64_t next_port_ = 1;
  NetworkStats stats_;
  std::thread thread_;
};

}  // namespace sb::inproc
