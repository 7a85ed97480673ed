// tests/simulation/orders_cluster.h — a whole sharded cluster in one
// process: several orders of radiants, each radiant running the host's real
// order code, on simulated time and an in-process network.
//
// Every radiant runs what the daemon's OrderRuntime runs
// (host/radiant/order_runtime.cc), single-threaded: a ConsensusDriver with
// the consensus plugin (loaded as a real .so), the order's
// OrderStateMachine on a storage-mem instance, and a Herald (writes via
// Propose, linearizable reads via LinearizableGet / read_index). Its loop is
// the runtime's: Tick the driver every tick; after a tick, a delivered
// message or a queued request, Pump the herald, then RunCycle while any group
// has work, each cycle followed by Pump. The herald's
// clocks are the simulation's (one tick = 10 ms).
//
// Radiants talk through sb::Transport instances on an in-process network
// (tests/support/inproc_transport) in kManual mode, advanced kTickUs per
// tick. A consensus message travels as the group id (8 bytes, big-endian)
// followed by the plugin's bytes; the receiver hands it to its driver.
//
// Crash: the radiant's herald, state machine, driver and transport are
// destroyed; its storage-mem engine survives and a restart reopens the
// order from it (storage-mem keeps every write, synced or not, so a crash
// loses nothing written; unsynced-loss is modelled by the simple Cluster's
// SimDisk only).
//
// Everything random derives from the one seed given; the same seed and
// the same sequence of calls replay the same run. Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/consensus/driver.h"
#include "host/order/herald.h"
#include "host/order/state_machine.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"
#include "host/transport/transport.h"
#include "tests/simulation/cluster.h"

namespace sb::sim {

struct OrdersOptions {
  uint64_t seed = 1;
  uint32_t orders = 3;     // group ids 1..orders
  uint32_t per_order = 3;  // radiants per order: order g has ids
                           // (g-1)*per_order+1 .. g*per_order
  uint32_t shards = 12;    // split in equal contiguous ranges over orders
  std::string consensus = "raft";
  std::vector<PluginConfigEntry> consensus_config;
  uint64_t snapshot_every = 0;  // [compaction] log_entries; 0: off
  uint64_t request_timeout_ms = 1000;
};

class OrdersCluster {
 public:
  explicit OrdersCluster(OrdersOptions opts);
  ~OrdersCluster();
  OrdersCluster(const OrdersCluster&) = delete;
  OrdersCluster& operator=(const OrdersCluster&) = delete;

  // Loads the plugins, opens every radiant's storage and starts them all.
  Status Start();

  const OrdersOptions& options() const { return opts_; }
  uint64_t now() const { return now_; }  // ticks
  uint64_t now_ms() const { return now_ * 10; }

  // --- Layout. ---
  std::vector<uint64_t> radiants() const;  // 1..orders*per_order
  std::vector<uint64_t> Members(uint64_t group) const;
  uint64_t GroupOf(uint64_t radiant) const;
  // The order owning `shard`, and the shard of a key.
  uint64_t OrderOfShard(uint16_t shard) const;
  uint16_t ShardOf(const std::string& key) const;

  // --- Time. ---
  void Tick();

  // --- Radiants. ---
  bool IsUp(uint64_t id) const;
  void Crash(uint64_t id);
  Status Restart(uint64_t id);
  // Null when the radiant is down.
  order::Herald* herald(uint64_t id);
  order::OrderStateMachine* state_machine(uint64_t id);
  // Runs the radiant's loop until idle (after a request was queued, as the
  // runtime's Wake does). No-op when down.
  void Wake(uint64_t id);
  // Consensus status of the radiant's group ({} when down).
  ConsensusStatus StatusOf(uint64_t id) const;
  // The live member of `group` that leads in the highest term, or 0.
  uint64_t Leader(uint64_t group) const;

  // --- Network. ---
  ClusterNetwork& net() { return net_; }

  // --- Failures of the harness or of a radiant's driver. ---
  bool ok() const { return failure_.empty(); }
  const std::string& failure() const { return failure_; }
  void Fail(const std::string& what);

 private:
  struct Radiant;
  Status Boot(Radiant* r);
  void Down(Radiant* r);
  void RunUntilIdle(Radiant* r);
  void OnDeliver(uint64_t to, uint64_t from, std::string_view data);

  OrdersOptions opts_;
  Rng rng_;
  ClusterNetwork net_;  // outlives the radiants' transports
  struct Host;
  std::unique_ptr<Host> host_;
  std::shared_ptr<PluginLibrary> consensus_;
  std::shared_ptr<PluginLibrary> storage_lib_;
  std::map<uint64_t, std::unique_ptr<Radiant>> radiants_;
  uint64_t now_ = 0;
  std::string failure_;
};

}  // namespace sb::sim
