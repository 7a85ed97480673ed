// host/radiant/order_runtime.h — the orders a radiant hosts, running: today
// one order (group 1) owning every shard, for single-node mode.
//
// OrderRuntime owns a ConsensusDriver over the node's storage, the order's
// OrderStateMachine and its Herald, and ONE driver thread that is the only
// thread touching the driver, the state machine's apply side and the
// herald's Pump. The thread loops:
//
//   1. Tick the driver every [cluster] tick_ms (elections, heartbeats);
//   2. Herald::Pump (queued writes become proposals, queued reads one
//      read_index), then RunCycle while any group has work, each cycle
//      followed by PublishApplied (results of written batches reach their
//      futures) and Pump (reads whose index is applied are served);
//   3. sleep on a condition variable until the next tick or until a request
//      is queued (Propose / Get wake it).
//
// Bootstrap: a brand-new group (empty log) starts with this node as its only
// voter; on restart the driver restores the group from storage and the
// bootstrap voters are ignored. If the new group's leader has committed
// nothing (solo commits nothing on election; raft commits a no-op), the
// runtime proposes one empty entry so that the order has a non-zero read
// index before it serves reads (the herald treats read index 0 as "not yet
// answered"). Start returns once this node leads and commit > 0. A one-voter
// group never sends messages; if the consensus plugin ever asks to, the runtime
// logs an error and drops the message (there is no peer transport in
// single-node mode).
//
// A storage error in RunCycle stops the order for good: the runtime logs it,
// fails every queued and in-flight request (outcome unknown for writes), and
// answers later requests Unavailable with the error. Restarting the node
// replays the log from storage.
//
// Thread safety: Propose, Get, MultiGet, leader() and failure() may be
// called from any thread, but not concurrently with Stop or destruction (the
// Node stops the API server first); after Stop they answer Unavailable.
// Start and Stop from one thread (the Node's).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "host/common/status.h"
#include "host/config/config.h"
#include "host/consensus/driver.h"
#include "host/log/host_services.h"
#include "host/order/herald.h"
#include "host/order/state_machine.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"

namespace sb::radiant {

inline constexpr uint64_t kSingleNodeGroup = 1;

struct OrderRuntimeOptions {
  uint64_t node_number = 0;  // NodeNumber([node] id)
  ClusterOptions cluster;
  CompactionOptions compaction;
  // [limits] max_value_bytes: the largest value an append may produce.
  uint32_t max_value_bytes = 1 << 20;
  // The consensus plugin's section, passed to every group it runs.
  std::vector<PluginConfigEntry> consensus_config;
  // How long Start waits for the group to elect this node (a one-voter
  // group elects itself after one election timeout).
  uint32_t leader_wait_ms = 10000;
};

class OrderRuntime {
 public:
  // Opens the order (all shards) on `storage`, adds its group to a driver
  // running `consensus`, starts the driver thread and waits (bounded) for
  // this node to lead the group. `storage` and `consensus_host` must
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
  // Several reads queued together: they share one read_index.
  std::vector<std::future<order::ReadResult>> MultiGet(
      const std::vector<std::pair<uint16_t, std::string>>& keys);

  uint32_t shards() const { return opts_.cluster.shards; }
  uint64_t node_number() const { return opts_.node_number; }
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

  OrderRuntimeOptions opts_;
  // Destroyed in reverse: herald before state machine before driver.
  std::unique_ptr<ConsensusDriver> driver_;
  std::unique_ptr<order::OrderStateMachine> sm_;
  std::unique_ptr<order::Herald> herald_;

  std::atomic<uint64_t> leader_{0};
  // This node leads the group and its commit index is past 0 (a read point
  // exists). Set by the driver thread.
  std::atomic<bool> ready_{false};
  bool marker_proposed_ = false;  // driver thread only
  mutable std::mutex mu_;         // guards the fields below
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  Status failure_;
  std::thread thread_;
};

}  // namespace sb::radiant
