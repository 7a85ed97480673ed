// tests/simulation/cluster.h — a whole consensus group in one process.
//
// Cluster runs N nodes of one consensus plugin (loaded as a real .so through
// sb::PluginLoader) over simulated disks (disk.h), under a simulated clock
// counted in ticks. Messages between nodes go through real sb_transport
// instances (one sb::Transport per node, the host's wrapper over the
// transport ABI) created on an in-process network
// (tests/support/inproc_transport) in its deterministic kManual mode: the
// network's virtual time advances by kTickUs per tick, and its loss,
// duplication, reordering, delays, partitions, one-way links and isolated
// nodes are the simulation's network faults. Everything random — election
// timeouts (the plugin's seed), and the network's choices (its generator
// is seeded from the same seed) — derives from ONE seed, so a seed replays
// a run exactly; ReplayCommand() prints how.
//
// Each node runs the host loop of the consensus ABI: persist (synced when
// the batch says so), send, apply, advance; optionally it snapshots its
// state machine and compacts the log every `snapshot_every` entries. After
// every drained loop the Checker (checker.h) verifies the safety invariants.
// A tick first delivers the messages due by its end (each delivery is
// stepped and processed at once), then ticks every live node.
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
#include <string_view>
#include <vector>

#include "host/consensus/consensus.h"
#include "host/plugin/loader.h"
#include "host/transport/transport.h"
#include "tests/simulation/checker.h"
#include "tests/simulation/disk.h"
#include "tests/simulation/rng.h"
#include "tests/support/inproc_transport/inproc_transport.h"

namespace sb::sim {

// One simulation tick in the in-process network's virtual microseconds (and
// 10 ms on the host clock the plugins see).
inline constexpr uint64_t kTickUs = 10000;

// The network's faults in ticks (mapped onto inproc::Faults).
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
  // The equivalent inproc::Faults: delays uniform in [min, max] ticks; a
  // long-delayed message waits up to long_delay_max ticks in all.
  inproc::Faults ToFaults() const;
};

struct NetworkStats {
  uint64_t sent = 0;   // messages handed to the transports
  uint64_t bytes = 0;  // their bytes
  uint64_t delivered = 0;
  uint64_t dropped = 0;  // lost, partitioned, refused or queue full
};

// The cluster's in-process network (kManual mode), seen in the harness's
// terms: connectivity of nodes, directed links, partitions where nodes in
// no group are cut off, faults in ticks.
class ClusterNetwork {
 public:
  explicit ClusterNetwork(uint64_t seed);
  inproc::Network& inproc() { return *net_; }

  void set_options(const NetworkOptions& o);
  const NetworkOptions& options() const { return opts_; }
  // A disconnected node neither sends nor receives.
  void SetConnected(uint64_t node, bool connected);
  bool IsConnected(uint64_t node) const;
  // Directed link from -> to.
  void SetLink(uint64_t from, uint64_t to, bool up);
  // Only nodes in the same group talk; nodes of `all_nodes` in no group are
  // cut off. Clears earlier partitions, links and disconnections first.
  void Partition(const std::vector<std::vector<uint64_t>>& groups,
                 const std::vector<uint64_t>& all_nodes);
  // All nodes connected, all links up (faults stay).
  void Heal();
  bool CanTalk(uint64_t from, uint64_t to) const;

  NetworkStats stats() const;
  void CountBusy() { ++busy_; }

 private:
  std::unique_ptr<inproc::Network> net_;
  NetworkOptions opts_;
  uint64_t busy_ = 0;  // sends refused because a link queue was full
};

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
  ClusterNetwork& net() { return net_; }
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

  NetworkStats net_stats() const { return net_.stats(); }
  // Messages a plugin marked early (sent before the batch was persisted),
  // and how many of them came from a node that was not the leader then.
  uint64_t early_sent() const { return early_sent_; }
  uint64_t early_from_non_leader() const { return early_from_non_leader_; }
  // The transport counters of a live node (zeroes if it is down).
  sb_transport_stats TransportStats(uint64_t id) const;

  // Called with every message a node sends (before the network sees it).
  using SendTap =
      std::function<void(uint64_t from, uint64_t to, const std::string& data)>;
  void set_send_tap(SendTap tap) { tap_ = std::move(tap); }

 private:
  struct Node;
  struct HostState;
  Status CreateInstance(Node* n, const std::vector<uint64_t>& bootstrap);
  // Creates the node's transport, listening on its address and knowing
  // every other node as a peer.
  Status OpenTransport(Node* n);
  void OnDeliver(uint64_t to, uint64_t from, std::string_view data);
  void Process(Node* n);
  // Hands `messages` of node n to its transport (a full queue loses one).
  void SendAll(Node* n, const std::vector<MessageView>& messages);
  uint64_t early_sent_ = 0;
  uint64_t early_from_non_leader_ = 0;
  void ServeReads(Node* n);
  void Trace(uint64_t v);

  ClusterOptions opts_;
  Rng rng_;
  ClusterNetwork net_;  // outlives the nodes' transports
  Checker checker_;
  std::unique_ptr<HostState> host_;  // sb_host_services for the plugins
  std::shared_ptr<PluginLibrary> lib_;
  std::map<uint64_t, std::unique_ptr<Node>> nodes_;
  uint64_t now_ = 0;
  uint64_t trace_ = 0;
  std::string failure_;
  SendTap tap_;
};

// "SB_SIM_SEED=<seed> <this binary> --gtest_filter='<current test>'" (a
// value-parameterized test's index becomes '*').
std::string ReplayCommandFor(uint64_t seed);

// Seeds for a scenario: SB_SIM_SEED=<s> runs exactly that seed; otherwise
// SB_SIM_SEEDS=<n> (default `default_count`) seeds derived from 1..n.
std::vector<uint64_t> SimSeeds(size_t default_count);

}  // namespace sb::sim
