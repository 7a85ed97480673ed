// tests/simulation/cluster.h — a whole consensus group in one process.
//
// Cluster runs N nodes of one consensus plugin (loaded as a real .so through
// sb::PluginLoader) over a simulated network (network.h) and simulated disks
// (disk.h), under a simulated clock counted in ticks. Everything random —
// election timeouts (the plugin's seed), delays, losses, duplicates — derives
// from ONE seed, so a seed replays a run exactly; ReplayCommand() prints how.
//
// Each node runs the host loop of the consensus ABI: persist (synced when
// the batch says so), send, apply, advance; optionally it snapshots its
// state machine and compacts the log every `snapshot_every` entries. After
// every drained loop the Checker (checker.h) verifies the safety invariants.
//
// The helpers mirror the MIT 6.824 Raft test harness (checkOneLeader, one,
// nCommitted) with time in ticks. Thread safety: none.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/consensus/consensus.h"
#include "host/plugin/loader.h"
#include "tests/simulation/checker.h"
#include "tests/simulation/disk.h"
#include "tests/simulation/network.h"
#include "tests/simulation/rng.h"

namespace sb::sim {

struct ClusterOptions {
  std::string plugin = "raft";
  size_t nodes = 3;  // founding voters: ids 1..nodes
  uint64_t seed = 1;
  uint64_t group_id = 1;
  std::vector<PluginConfigEntry> config;  // the plugin's config section
  uint64_t snapshot_every = 0;            // 0: never compact
  NetworkOptions net;
};

// A completed linearizable read (ReadIndex) served by a node.
struct ReadResult {
  std::string context;
  uint64_t index = 0;
  std::string value;  // value of key `context` after '|' (empty if absent)
  uint64_t served_at = 0;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions opts);
  ~Cluster();

  // Loads the plugin and creates the founding nodes.
  Status Start();

  uint64_t seed() const { return opts_.seed; }
  uint64_t now() const { return now_; }
  const ClusterOptions& options() const { return opts_; }
  // "SB_SIM_SEED=<seed> <binary> --gtest_filter=<current test>".
  std::string ReplayCommand() const;
  // Order-sensitive hash of everything that happened (determinism checks).
  uint64_t trace_hash() const { return trace_; }

  // --- Time. ---
  void Tick();
  void RunTicks(uint64_t n);

  // --- Nodes. ---
  std::vector<uint64_t> ids() const;  // every node ever created
  bool IsUp(uint64_t id) const;
  void Crash(uint64_t id);      // unsynced writes are lost
  Status Restart(uint64_t id);  // from what the disk kept
  // A new, empty node that joins the group (the leader adds it).
  Status AddNode(uint64_t id);
  ConsensusStatus StatusOf(uint64_t id) const;
  ConsensusInstance* instance(uint64_t id);
  const SmState& sm(uint64_t id) const;
  const DiskState& disk(uint64_t id) const;

  // --- Network. ---
  Network& net() { return net_; }
  void Disconnect(uint64_t id) { net_.SetConnected(id, false); }
  void Connect(uint64_t id) { net_.SetConnected(id, true); }
  bool IsConnected(uint64_t id) const { return net_.IsConnected(id); }

  // --- 6.824-style helpers. ---
  // A live, connected node that believes it leads in the highest term, or 0.
  uint64_t Leader() const;
  // Runs until exactly one connected node leads in the highest term;
  // returns it, or 0 (and records a failure) after max_ticks.
  uint64_t CheckOneLeader(uint64_t max_ticks = 500);
  // True if no connected live node is leader.
  bool NoLeader() const;
  // The term all connected live nodes agree on, or 0 if they disagree.
  uint64_t AgreedTerm() const;
  // How many live nodes applied `index`, and its payload (normal entries).
  int NCommitted(uint64_t index, std::string* data = nullptr) const;
  // Proposes `cmd` until `expected` nodes applied it; returns its index or 0
  // (and records a failure) after max_ticks. retry: re-propose on another
  // leader if the first attempt does not commit.
  uint64_t One(const std::string& cmd, int expected, bool retry,
               uint64_t max_ticks = 1000);
  // Waits until `expected` nodes applied `index`; returns its payload or
  // nullopt after max_ticks.
  std::optional<std::string> Wait(uint64_t index, int expected,
                                  uint64_t max_ticks = 1000);
  Status Propose(uint64_t id, const std::string& cmd, uint64_t* index);

  // --- Reads. ---
  Status ReadIndex(uint64_t id, const std::string& context);
  std::vector<ReadResult> TakeReads(uint64_t id);

  // --- Invariants. ---
  bool ok() const { return checker_.ok() && failure_.empty(); }
  // First violation or helper failure, with the seed and replay command.
  std::string Report() const;
  Checker& checker() { return checker_; }
  void Fail(const std::string& what);

  const NetworkStats& net_stats() const { return net_.stats(); }

  // Called with every message a node sends (before the network sees it).
  using SendTap =
      std::function<void(uint64_t from, uint64_t to, const std::string& data)>;
  void set_send_tap(SendTap tap) { tap_ = std::move(tap); }

 private:
  struct Node;
  struct HostState;
  Status CreateInstance(Node* n, const std::vector<uint64_t>& bootstrap);
  void Process(Node* n);
  void ServeReads(Node* n);
  void Trace(uint64_t v);

  ClusterOptions opts_;
  Rng rng_;
  Network net_;
  Checker checker_;
  std::unique_ptr<HostState> host_;  // sb_host_services for the plugin
  std::shared_ptr<PluginLibrary> lib_;
  std::map<uint64_t, std::unique_ptr<Node>> nodes_;
  uint64_t now_ = 0;
  uint64_t trace_ = 0;
  std::string failure_;
  SendTap tap_;
};

// Seeds for a scenario: SB_SIM_SEED=<s> runs exactly that seed; otherwise
// SB_SIM_SEEDS=<n> (default `default_count`) seeds derived from 1..n.
std::vector<uint64_t> SimSeeds(size_t default_count);

}  // namespace sb::sim
