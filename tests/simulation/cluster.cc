// tests/simulation/cluster.cc — see cluster.h.
#include "tests/simulation/cluster.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace sb::sim {

struct Cluster::Node {
  uint64_t id = 0;
  bool up = false;
  SimDisk disk;
  std::unique_ptr<Transport> transport;  // null while down
  std::unique_ptr<ConsensusInstance> inst;
  struct PendingRead {
    std::string context;
    uint64_t index;
  };
  std::vector<PendingRead> pending_reads;
  std::vector<ReadResult> done_reads;
};

// The host-services table handed to plugins: logging to stderr (errors
// always, everything with SB_SIM_VERBOSE=1) and the simulated clock.
struct Cluster::HostState {
  const uint64_t* now;
  sb_host_services services{};
};

namespace {

// Bound on ready batches drained in one go: a plugin that never settles is
// a bug, reported instead of spinning forever.
constexpr int kMaxReadyLoops = 100000;
// Ticks `One` waits for agreement on one attempt before retrying.
constexpr uint64_t kOneAttemptTicks = 200;

bool Verbose() {
  static const bool v = getenv("SB_SIM_VERBOSE") != nullptr;
  return v;
}

const uint64_t* NowOf(void* ctx) { return *static_cast<const uint64_t**>(ctx); }

void HostLog(void* ctx, int32_t level, const char* msg, size_t len) {
  if (!Verbose() && level < SB_LOG_ERROR) return;
  fprintf(stderr, "[t=%llu] %.*s\n",
          static_cast<unsigned long long>(*NowOf(ctx)), static_cast<int>(len),
          msg);
}

int32_t HostLogEnabled(void*, int32_t level) {
  return Verbose() || level >= SB_LOG_ERROR ? 1 : 0;
}

// One tick is 10 simulated milliseconds.
uint64_t HostClock(void* ctx) { return *NowOf(ctx) * 10000000ULL; }

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0x100000001b3ULL;
}

std::string AddressOf(uint64_t id) { return "node-" + std::to_string(id); }

// Live networks need distinct names; the name plays no part in the run.
std::string UniqueNetworkName(uint64_t seed) {
  static std::atomic<uint64_t> counter{0};
  return "sim-" + std::to_string(seed) + "-" + std::to_string(++counter);
}

}  // namespace

// ---- NetworkOptions / ClusterNetwork ----------------------------------------

inproc::Faults NetworkOptions::ToFaults() const {
  inproc::Faults f;
  f.drop = loss;
  f.duplicate = duplicate;
  f.min_delay_us = std::max<uint64_t>(1, min_delay) * kTickUs;
  f.max_delay_us = std::max(min_delay, max_delay) * kTickUs;
  f.reorder = long_delay;
  // A long delay comes on top of the normal one: up to long_delay_max in
  // all, at least one tick more.
  f.reorder_delay_us = kTickUs;
  f.reorder_delay_max_us =
      std::max<uint64_t>(long_delay_max, std::max(min_delay, max_delay) + 1) *
          kTickUs -
      f.max_delay_us;
  return f;
}

ClusterNetwork::ClusterNetwork(uint64_t seed)
    : net_(std::make_unique<inproc::Network>(UniqueNetworkName(seed), seed,
                                             inproc::Network::Mode::kManual)) {
  set_options(opts_);
}

void ClusterNetwork::set_options(const NetworkOptions& o) {
  opts_ = o;
  net_->SetFaults(o.ToFaults());
}

void ClusterNetwork::SetConnected(uint64_t node, bool connected) {
  net_->Isolate(node, !connected);
}

bool ClusterNetwork::IsConnected(uint64_t node) const {
  return !net_->IsIsolated(node);
}

void ClusterNetwork::SetLink(uint64_t from, uint64_t to, bool up) {
  if (up) {
    net_->UnblockLink(from, to);
  } else {
    net_->BlockLink(from, to);
  }
}

void ClusterNetwork::Partition(const std::vector<std::vector<uint64_t>>& groups,
                               const std::vector<uint64_t>& all_nodes) {
  net_->Heal();
  std::vector<std::set<uint64_t>> sets;
  std::set<uint64_t> placed;
  for (const auto& g : groups) {
    sets.emplace_back(g.begin(), g.end());
    placed.insert(g.begin(), g.end());
  }
  // A node in no group is a group of its own: it talks to nobody, yet
  // counts as connected (as a node cut off by links, not disconnected).
  for (uint64_t n : all_nodes) {
    if (!placed.count(n)) sets.push_back({n});
  }
  net_->Partition(sets);
}

void ClusterNetwork::Heal() { net_->Heal(); }

bool ClusterNetwork::CanTalk(uint64_t from, uint64_t to) const {
  return net_->CanTalk(from, to);
}

NetworkStats ClusterNetwork::stats() const {
  inproc::NetworkStats s = net_->stats();
  NetworkStats out;
  out.sent = s.sent + busy_;
  out.bytes = s.bytes_sent;
  out.delivered = s.delivered;
  out.dropped = s.dropped + s.partitioned + s.refused + busy_;
  return out;
}

// ---- Cluster ----------------------------------------------------------------

Cluster::Cluster(ClusterOptions opts)
    : opts_(std::move(opts)),
      rng_(opts_.seed),
      net_(Rng(opts_.seed ^ 0x6e6574776f726b31ULL).Next()) {
  net_.set_options(opts_.net);
  host_ = std::make_unique<HostState>();
  host_->now = &now_;
  host_->services.struct_size = sizeof host_->services;
  host_->services.host_ctx = &host_->now;
  host_->services.log = HostLog;
  host_->services.log_enabled = HostLogEnabled;
  host_->services.monotonic_ns = HostClock;
  host_->services.wall_ns = HostClock;
}

Cluster::~Cluster() {
  // Instances first, then the library they came from.
  nodes_.clear();
}

Status Cluster::Start() {
  PluginLoader loader;
  auto lib = loader.Load(opts_.plugin, SB_KIND_CONSENSUS);
  if (!lib.ok()) return lib.status();
  lib_ = std::move(lib.value());
  std::vector<uint64_t> voters;
  for (uint64_t id = 1; id <= opts_.nodes; ++id) voters.push_back(id);
  // Every node exists before the first transport opens, so each transport
  // knows every other node as a peer.
  for (uint64_t id : voters) {
    auto n = std::make_unique<Node>();
    n->id = id;
    nodes_[id] = std::move(n);
  }
  for (uint64_t id : voters) {
    SB_RETURN_IF_ERROR(CreateInstance(nodes_[id].get(), voters));
  }
  for (auto& [id, n] : nodes_) Process(n.get());
  return Status::OK();
}

Status Cluster::CreateInstance(Node* n,
                               const std::vector<uint64_t>& bootstrap) {
  ConsensusOptions o;
  o.group_id = opts_.group_id;
  o.node_id = n->id;
  o.seed = rng_.Next();
  o.config = opts_.config;
  o.hard_state = n->disk.state().hard_state;
  o.applied = n->disk.state().sm.applied;
  o.bootstrap_voters = bootstrap;
  auto inst = ConsensusInstance::Create(lib_, &host_->services, o, &n->disk);
  if (!inst.ok()) return inst.status();
  n->inst = std::move(inst.value());
  SB_RETURN_IF_ERROR(OpenTransport(n));
  n->up = true;
  return Status::OK();
}

Status Cluster::OpenTransport(Node* n) {
  PluginConfigAbi cfg{{"network", net_.inproc().name()}};
  TransportOptions o;
  o.local_node_id = n->id;
  o.cluster_id = "sim";
  o.listen_address = AddressOf(n->id);
  o.host = &host_->services;
  o.config = cfg.get();
  const uint64_t self = n->id;
  auto t =
      Transport::Create(inproc::Network::Vtable(), nullptr, o,
                        [this, self](uint64_t from, std::string_view data) {
                          OnDeliver(self, from, data);
                        });
  if (!t.ok())
    return t.status().Annotate("transport of node " + std::to_string(self));
  SB_RETURN_IF_ERROR((*t)->Listen());
  for (const auto& [id, other] : nodes_) {
    if (id != self) SB_RETURN_IF_ERROR((*t)->AddPeer(id, AddressOf(id)));
  }
  n->transport = std::move(*t);
  return Status::OK();
}

void Cluster::OnDeliver(uint64_t to, uint64_t from, std::string_view data) {
  auto it = nodes_.find(to);
  if (it == nodes_.end() || !it->second->up) return;
  Node* n = it->second.get();
  Trace(from * 131 + to * 7 + data.size());
  Status s = n->inst->Step(data);
  if (!s.ok()) {
    Fail("node " + std::to_string(to) + " rejected a message from " +
         std::to_string(from) + ": " + s.ToString());
  }
  Process(n);
}

sb_transport_stats Cluster::TransportStats(uint64_t id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end() || it->second->transport == nullptr) return {};
  return it->second->transport->Stats();
}

void Cluster::Trace(uint64_t v) { trace_ = Mix(trace_, v); }

void Cluster::Fail(const std::string& what) {
  if (failure_.empty()) {
    failure_ = "at tick " + std::to_string(now_) + ": " + what;
  }
}

std::string Cluster::ReplayCommand() const {
  return ReplayCommandFor(opts_.seed);
}

std::string ReplayCommandFor(uint64_t seed) {
  std::string binary = "<test binary>";
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) binary.assign(buf, n);
  std::string filter = "*";
  if (const auto* info =
          ::testing::UnitTest::GetInstance()->current_test_info()) {
    std::string suite = info->test_suite_name();
    std::string name = info->name();
    // Drop the value-parameter suffix: with SB_SIM_SEED set the suite has
    // exactly one instantiation.
    size_t slash = name.rfind('/');
    if (slash != std::string::npos) name = name.substr(0, slash) + "/*";
    filter = suite + "." + name;
  }
  return "SB_SIM_SEED=" + std::to_string(seed) + " " + binary +
         " --gtest_filter='" + filter + "'";
}

std::string Cluster::Report() const {
  std::string what =
      !checker_.ok() ? "invariant violated: " + checker_.violation() : failure_;
  if (what.empty()) what = "no invariant violated";
  return what + "\n  plugin: " + opts_.plugin +
         "\n  seed: " + std::to_string(opts_.seed) +
         "\n  replay: " + ReplayCommand();
}

void Cluster::SendAll(Node* n, const std::vector<MessageView>& messages) {
  for (const MessageView& m : messages) {
    if (tap_) tap_(n->id, m.to, std::string(m.data));
    Status sent = n->transport->Send(m.to, m.data);
    if (sent.code() == Code::kBusy) {
      net_.CountBusy();  // a full link queue loses the message
    } else if (!sent.ok()) {
      Fail("node " + std::to_string(n->id) + " could not send to node " +
           std::to_string(m.to) + ": " + sent.ToString());
    }
  }
}

void Cluster::Process(Node* n) {
  if (!n->up) return;
  SimDisk& disk = n->disk;
  for (int loops = 0; n->inst->HasReady(); ++loops) {
    if (loops >= kMaxReadyLoops) {
      Fail("node " + std::to_string(n->id) + ": ready loop never settles");
      break;
    }
    ConsensusReady rd;
    Status s = n->inst->GetReady(&rd);
    if (!s.ok()) {
      Fail("node " + std::to_string(n->id) + " ready: " + s.ToString());
      break;
    }
    // 0. Early messages (a leader's appends) may leave before the persist.
    if (!rd.early_messages.empty()) {
      early_sent_ += rd.early_messages.size();
      if (n->inst->GetStatus().role != Role::kLeader) {
        early_from_non_leader_ += rd.early_messages.size();
      }
    }
    SendAll(n, rd.early_messages);
    // 1. Persist: snapshot chunk, entries, hard state — one write, synced
    //    when the batch asks, before any other message leaves.
    if (rd.snapshot.has_value()) {
      const SnapshotChunkView& c = *rd.snapshot;
      if (!disk.WriteChunk(c.offset, c.data)) {
        Fail("node " + std::to_string(n->id) +
             ": snapshot chunk out of order at offset " +
             std::to_string(c.offset));
      } else if (c.done) {
        if (!disk.InstallSnapshot(c.index, c.meta)) {
          Fail("node " + std::to_string(n->id) +
               ": received snapshot does not parse");
        } else {
          checker_.OnSnapshotInstalled(n->id, c.index, disk.state().sm.hash);
        }
      }
    }
    disk.AppendEntries(rd.entries);
    if (!rd.hard_state.empty()) disk.SetHardState(rd.hard_state);
    if (rd.must_sync) disk.Sync();
    // 2. Send.
    SendAll(n, rd.messages);
    // 3. Apply (state-machine writes are not synced on their own).
    for (const EntryView& e : rd.committed) {
      uint64_t prev = disk.state().sm.applied;
      if (e.index != prev + 1) {
        checker_.OnApply(n->id, prev, e.index, e.type, e.data, 0);
        break;
      }
      disk.ApplyCommitted({e});
      checker_.OnApply(n->id, prev, e.index, e.type, e.data,
                       disk.state().sm.hash);
      Trace(e.index);
    }
    for (const ReadStateView& r : rd.reads) {
      n->pending_reads.push_back({std::string(r.context), r.index});
    }
    s = n->inst->Advance();
    if (!s.ok()) {
      Fail("node " + std::to_string(n->id) + " advance: " + s.ToString());
      break;
    }
    ServeReads(n);
    // Log compaction: snapshot the state machine every snapshot_every
    // entries and drop the log it covers.
    const DiskState& ds = disk.state();
    if (opts_.snapshot_every > 0 &&
        ds.sm.applied >= ds.snap_index + opts_.snapshot_every) {
      uint64_t index = ds.sm.applied;
      auto meta = n->inst->Compact(index);
      if (!meta.ok()) {
        Fail("node " + std::to_string(n->id) +
             " compact: " + meta.status().ToString());
      } else {
        disk.TakeSnapshot(index, *meta);
        disk.Sync();
      }
    }
  }
  ConsensusStatus st = n->inst->GetStatus();
  checker_.OnStatus(n->id, st);
  Trace(st.term * 31 + static_cast<uint64_t>(st.role));
}

void Cluster::ServeReads(Node* n) {
  const SmState& sm = n->disk.state().sm;
  auto it = n->pending_reads.begin();
  while (it != n->pending_reads.end()) {
    if (it->index > sm.applied) {
      ++it;
      continue;
    }
    ReadResult r;
    r.context = it->context;
    r.index = it->index;
    r.served_at = now_;
    size_t bar = r.context.find('|');
    std::string key =
        bar == std::string::npos ? r.context : r.context.substr(bar + 1);
    auto kv = sm.kv.find(key);
    if (kv != sm.kv.end()) r.value = kv->second;
    n->done_reads.push_back(std::move(r));
    it = n->pending_reads.erase(it);
  }
}

void Cluster::Tick() {
  ++now_;
  Trace(now_);
  // Everything due by the end of this tick arrives (OnDeliver steps and
  // processes each at once; what that sends is due a tick later at least).
  net_.inproc().AdvanceTime(kTickUs);
  for (auto& [id, n] : nodes_) {
    if (!n->up) continue;
    n->inst->Tick();
    Process(n.get());
  }
}

void Cluster::RunTicks(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) Tick();
}

std::vector<uint64_t> Cluster::ids() const {
  std::vector<uint64_t> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

bool Cluster::IsUp(uint64_t id) const {
  auto it = nodes_.find(id);
  return it != nodes_.end() && it->second->up;
}

void Cluster::Crash(uint64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end() || !it->second->up) return;
  Node* n = it->second.get();
  n->inst.reset();
  // Its address goes away: messages in flight to it are lost unless it
  // restarts before they are due.
  n->transport.reset();
  n->disk.Crash();
  n->up = false;
  n->pending_reads.clear();
  Trace(id * 1000003);
}

Status Cluster::Restart(uint64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end())
    return Status::NotFound("no node " + std::to_string(id));
  Crash(id);
  SB_RETURN_IF_ERROR(CreateInstance(it->second.get(), {}));
  Process(it->second.get());
  return Status::OK();
}

Status Cluster::AddNode(uint64_t id) {
  if (nodes_.count(id)) {
    return Status::AlreadyExists("node " + std::to_string(id) + " exists");
  }
  auto n = std::make_unique<Node>();
  n->id = id;
  Node* raw = n.get();
  nodes_[id] = std::move(n);
  Status s = CreateInstance(raw, {});
  if (!s.ok()) {
    nodes_.erase(id);
    return s;
  }
  // The others learn the new node's address (down nodes learn it when
  // they restart).
  for (auto& [other, on] : nodes_) {
    if (other != id && on->transport != nullptr) {
      SB_RETURN_IF_ERROR(on->transport->AddPeer(id, AddressOf(id)));
    }
  }
  Process(raw);
  return Status::OK();
}

ConsensusStatus Cluster::StatusOf(uint64_t id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end() || !it->second->up) return {};
  return it->second->inst->GetStatus();
}

ConsensusInstance* Cluster::instance(uint64_t id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() || !it->second->up ? nullptr
                                               : it->second->inst.get();
}

const SmState& Cluster::sm(uint64_t id) const {
  return nodes_.at(id)->disk.state().sm;
}

const DiskState& Cluster::disk(uint64_t id) const {
  return nodes_.at(id)->disk.state();
}

uint64_t Cluster::Leader() const {
  uint64_t best = 0, best_term = 0;
  for (const auto& [id, n] : nodes_) {
    if (!n->up || !net_.IsConnected(id)) continue;
    ConsensusStatus st = n->inst->GetStatus();
    if (st.role == Role::kLeader && st.term >= best_term) {
      best = id;
      best_term = st.term;
    }
  }
  return best;
}

uint64_t Cluster::CheckOneLeader(uint64_t max_ticks) {
  for (uint64_t t = 0; t <= max_ticks; ++t) {
    uint64_t l = Leader();
    if (l != 0) return l;
    Tick();
  }
  Fail("no leader elected within " + std::to_string(max_ticks) + " ticks");
  return 0;
}

bool Cluster::NoLeader() const {
  for (const auto& [id, n] : nodes_) {
    if (n->up && net_.IsConnected(id) &&
        n->inst->GetStatus().role == Role::kLeader) {
      return false;
    }
  }
  return true;
}

uint64_t Cluster::AgreedTerm() const {
  uint64_t term = 0;
  for (const auto& [id, n] : nodes_) {
    if (!n->up || !net_.IsConnected(id)) continue;
    uint64_t t = n->inst->GetStatus().term;
    if (term != 0 && t != term) return 0;
    term = t;
  }
  return term;
}

int Cluster::NCommitted(uint64_t index, std::string* data) const {
  int count = 0;
  for (const auto& [id, n] : nodes_) {
    if (n->disk.state().sm.applied >= index) ++count;
  }
  if (data != nullptr) {
    const std::string* d = checker_.CommittedData(index);
    *data = d == nullptr ? std::string() : *d;
  }
  return count;
}

Status Cluster::Propose(uint64_t id, const std::string& cmd, uint64_t* index) {
  ConsensusInstance* inst = instance(id);
  if (inst == nullptr) return Status::Unavailable("node is down");
  Status s = inst->Propose(cmd, index);
  if (s.ok()) Process(nodes_[id].get());
  return s;
}

uint64_t Cluster::One(const std::string& cmd, int expected, bool retry,
                      uint64_t max_ticks) {
  const uint64_t start = now_;
  size_t rotate = 0;
  while (now_ - start < max_ticks) {
    uint64_t index = 0;
    std::vector<uint64_t> all = ids();
    for (size_t i = 0; i < all.size() && index == 0; ++i) {
      uint64_t id = all[(rotate + i) % all.size()];
      if (!IsUp(id) || !IsConnected(id)) continue;
      uint64_t idx = 0;
      if (Propose(id, cmd, &idx).ok()) index = idx;
    }
    ++rotate;
    if (index == 0) {
      Tick();
      continue;
    }
    const uint64_t attempt = now_;
    while (now_ - attempt < kOneAttemptTicks && now_ - start < max_ticks) {
      std::string data;
      if (NCommitted(index, &data) >= expected && data == cmd) return index;
      Tick();
    }
    if (!retry) break;
  }
  Fail("one(" + cmd.substr(0, 40) + ") failed to reach agreement on " +
       std::to_string(expected) + " nodes within " + std::to_string(max_ticks) +
       " ticks");
  return 0;
}

std::optional<std::string> Cluster::Wait(uint64_t index, int expected,
                                         uint64_t max_ticks) {
  for (uint64_t t = 0; t <= max_ticks; ++t) {
    std::string data;
    if (NCommitted(index, &data) >= expected) return data;
    Tick();
  }
  return std::nullopt;
}

Status Cluster::ReadIndex(uint64_t id, const std::string& context) {
  ConsensusInstance* inst = instance(id);
  if (inst == nullptr) return Status::Unavailable("node is down");
  Status s = inst->ReadIndex(context);
  if (s.ok()) Process(nodes_[id].get());
  return s;
}

std::vector<ReadResult> Cluster::TakeReads(uint64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return {};
  std::vector<ReadResult> out;
  out.swap(it->second->done_reads);
  return out;
}

std::vector<uint64_t> SimSeeds(size_t default_count) {
  if (const char* one = getenv("SB_SIM_SEED")) {
    char* end = nullptr;
    uint64_t s = strtoull(one, &end, 10);
    if (end != one && *end == '\0') return {s};
    fprintf(stderr, "ignoring malformed SB_SIM_SEED='%s'\n", one);
  }
  size_t n = default_count;
  if (const char* many = getenv("SB_SIM_SEEDS")) {
    char* end = nullptr;
    unsigned long long v = strtoull(many, &end, 10);
    if (end != many && *end == '\0' && v > 0 && v <= 100000) {
      n = static_cast<size_t>(v);
    } else {
      fprintf(stderr, "ignoring malformed SB_SIM_SEEDS='%s'\n", many);
    }
  }
  std::vector<uint64_t> seeds;
  for (size_t i = 1; i <= n; ++i) seeds.push_back(i);
  return seeds;
}

}  // namespace sb::sim
