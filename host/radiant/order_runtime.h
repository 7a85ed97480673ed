// host/radiant/order_runtime.h — the order a radiant belongs to, running.
//
// OrderRuntime owns a ConsensusDriver over the node's storage, the order's
// OrderStateMachine (its shards of the layout) and its Herald, and ONE
// driver thread that is the only thread touching the driver, the state
// machine's apply side and the herald's Pump. The thread loops:
//
//   1. Tick the driver every [cluster] tick_ms (elections, heartbeats);
//   2. hand the consensus messages that arrived (Deliver) to the driver;
//   3. Herald::Pump (queued writes become proposals, queued reads one
//      read_index), then RunCycle while any group has work (results of
//      written batches reach their requests as the driver reports the
//      batches written), each cycle followed by Pump (reads whose index is
//      applied are served);
//   4. sleep on a condition variable until the next tick or until a request
//      or a message is queued.
//
// Messages the consensus plugin sends go to `send` on the driver thread
// (the node's transport, which never blocks). Messages from peers arrive on
// transport threads through Deliver and wait in an inbox bounded by
// kMaxInboxBytes: past it they are dropped (consensus retransmits) with a
// rate-limited warning.
//
// Bootstrap: a brand-new group (empty log) starts with the order's members
// as its voters; on restart the driver restores the group from storage and
// the bootstrap voters are ignored. An order of one voter (single-node
// mode) has no peers: Start waits (bounded) until this node leads it, so a
// fresh single node serves at once. An order of several voters elects its
// herald after Start returns; until then requests answer not-the-herald.
//
// A storage error in RunCycle stops the order for good: the runtime logs it,
// fails every queued and in-flight request (outcome unknown for writes), and
// answers later requests Unavailable with the error. Restarting the node
// replays the log from storage.
//
// Thread safety: Propose, Get, MultiGet, Deliver, leader() and failure() may
// be called from any thread, but not concurrently with Stop or destruction
// (the Node stops the API server and the transport first); after Stop they
// answer Unavailable. Start and Stop from one thread (the Node's).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "host/common/status.h"
#include "host/config/config.h"
#include "host/consensus/driver.h"
#include "host/log/host_services.h"
#include "host/order/herald.h"
#include "host/order/state_machine.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"

namespace sb::radiant {

struct OrderRuntimeOptions {
  uint64_t node_number = 0;  // NodeNumber([node] id)
  uint64_t order_id = 1;     // the order's id, also its consensus group id
  // The order's members (node numbers, this node among them): the voters
  // of a brand-new group.
  std::vector<uint64_t> members;
  // The shards the order owns (every shard when empty).
  std::vector<uint16_t> owned_shards;
  // Sends a consensus message to another member (driver thread; must not
  // block). Unset for an order of one.
  ConsensusDriver::SendFn send;
  ClusterOptions cluster;
  CompactionOptions compaction;
  // [limits] max_value_bytes: the largest value an append may produce.
  uint32_t max_value_bytes = 1 << 20;
  // The consensus plugin's section, passed to every group it runs.
  std::vector<PluginConfigEntry> consensus_config;
  // How long Start waits for a one-voter group to elect this node (after
  // one election timeout).
  uint32_t leader_wait_ms = 10000;
};

class OrderRuntime {
 public:
  // Opens the order on `storage`, adds its group to a driver running
  // `consensus` and starts the driver thread (for an order of one, waits,
  // bounded, for this node to lead it). `storage` and `consensus_host` must
  // outlive the runtime.
  static StatusOr<std::unique_ptr<OrderRuntime>> Start(
      const OrderRuntimeOptions& options, Storage* storage,
      std::shared_ptr<PluginLibrary> consensus,
      const sb_host_services* consensus_host);
  ~OrderRuntime();  // Stop()
  OrderRuntime(const OrderRuntime&) = delete;
  OrderRuntime& operator=(const OrderRuntime&) = delete;

  // Stops the driver thread (joined; the loop checks the flag at least
  // every tick) and answers every request still queued or in flight
  // Unavailable. Idempotent.
  void Stop();

  // Queue a write / a linearizable read on the herald and wake the driver.
  std::future<StatusOr<order::CommandResult>> Propose(order::Command command);
  std::future<order::ReadResult> Get(uint16_t shard, std::string key);
  // The same through a callback (order::Herald's rules: called once, on
  // the driver's thread, or at once on this thread when the order failed).
  void Propose(order::Command command, order::Herald::WriteDone done);
  void Get(uint16_t shard, std::string key, order::Herald::ReadDone done);
  // Several reads queued together: they share one read_index.
  std::vector<std::future<order::ReadResult>> MultiGet(
      const std::vector<std::pair<uint16_t, std::string>>& keys);

  // A consensus message for `group` from node `from` (any thread; the
  // bytes are copied). Messages for another group are dropped.
  void Deliver(uint64_t from, uint64_t group, std::string_view message);

  // The cluster's shard count (shard = ShardOf(key, shards())).
  uint32_t shards() const { return opts_.cluster.shards; }
  uint64_t node_number() const { return opts_.node_number; }
  uint64_t order_id() const { return opts_.order_id; }
  // The group's leader as last seen by the driver thread (0: none known).
  uint64_t leader() const { return leader_.load(); }
  // Non-OK once the driver failed (storage error) or Stop was called.
  Status failure() const;

 private:
  explicit OrderRuntime(const OrderRuntimeOptions& options) : opts_(options) {}
  void Loop();
  // One round of step 2 of the loop; returns false on a driver error.
  bool RunUntilIdle();
  void Wake();
  // Hands the inbox to the driver (driver thread).
  void DrainInbox();

  OrderRuntimeOptions opts_;
  // Destroyed in reverse: herald before state machine before driver.
  std::unique_ptr<ConsensusDriver> driver_;
  std::unique_ptr<order::OrderStateMachine> sm_;
  std::unique_ptr<order::Herald> herald_;

  std::atomic<uint64_t> leader_{0};
  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  Status failure_;
  // Consensus messages waiting for the driver thread, and their bytes.
  std::vector<std::string> inbox_;
  size_t inbox_bytes_ = 0;
  uint64_t inbox_dropped_ = 0;
  std::thread thread_;
};

}  // namespace sb::radiant
