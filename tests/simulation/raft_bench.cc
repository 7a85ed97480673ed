// raft_bench — throughput and allocation cost of the Raft plugin alone.
//
// Three voters of raft.so (loaded through sb::PluginLoader) in one process,
// with a minimal in-memory log and a zero-delay in-process network, no
// invariant checker: what is measured is the plugin plus the thin host loop
// the ABI requires (persist to memory, send, apply, advance). The leader
// proposes 256-byte entries in batches; the run reports
//   - committed proposals per CPU-second (process CPU time), and
//   - heap allocations per committed entry (global operator new is replaced
//     in this binary; the dlopen'ed plugin's allocations resolve to it).
// Not a test: run by hand, results in docs/raft.md.
//
//   raft_bench [--proposals N] [--batch B] [--size BYTES]
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "host/consensus/consensus.h"
#include "host/plugin/loader.h"

namespace {
std::atomic<uint64_t> g_allocs{0};
}  // namespace

void* operator new(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }

namespace {

using sb::ConsensusInstance;
using sb::ConsensusReady;
using sb::LogEntry;
using sb::Status;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// An in-memory log with periodic compaction (empty snapshot data).
class MemLog : public sb::ConsensusLog {
 public:
  Status Range(uint64_t* first, uint64_t* last) override {
    *first = snap_ + 1;
    *last = snap_ + log_.size();
    return Status::OK();
  }
  Status Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                 const std::function<void(const LogEntry&)>& fn) override {
    if (lo <= snap_ || hi > snap_ + log_.size() + 1 || lo >= hi) {
      return Status::NotFound("range");
    }
    uint64_t bytes = 0;
    for (uint64_t i = lo; i < hi; ++i) {
      const LogEntry& e = log_[i - snap_ - 1];
      if (i > lo && bytes + e.data.size() > max_bytes) break;
      bytes += e.data.size() + e.meta.size();
      fn(e);
    }
    return Status::OK();
  }
  Status SnapshotMeta(uint64_t* index, std::string* meta) override {
    if (snap_ == 0) return Status::NotFound("none");
    *index = snap_;
    *meta = meta_;
    return Status::OK();
  }
  Status SnapshotRead(uint64_t index, uint64_t, uint64_t, std::string* data,
                      bool* done) override {
    if (index != snap_) return Status::NotFound("replaced");
    data->clear();
    *done = true;
    return Status::OK();
  }
  void Append(const std::vector<sb::EntryView>& es) {
    if (es.empty()) return;
    while (!log_.empty() && snap_ + log_.size() >= es.front().index) {
      log_.pop_back();
    }
    for (const auto& e : es) {
      log_.push_back(
          {e.type, e.index, std::string(e.meta), std::string(e.data)});
    }
  }
  void Compact(uint64_t index, std::string meta) {
    while (snap_ < index && !log_.empty()) {
      log_.pop_front();
      ++snap_;
    }
    meta_ = std::move(meta);
  }
  uint64_t snapshot_index() const { return snap_; }

  std::string hard_state;

 private:
  uint64_t snap_ = 0;
  std::string meta_;
  std::deque<LogEntry> log_;
};

struct Node {
  uint64_t id;
  MemLog log;
  std::unique_ptr<ConsensusInstance> inst;
  uint64_t applied_normal = 0;
};

struct Msg {
  uint64_t to;
  std::string data;
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t proposals = 200000, batch = 64, size = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    uint64_t v = strtoull(argv[i + 1], nullptr, 10);
    if (!strcmp(argv[i], "--proposals"))
      proposals = v;
    else if (!strcmp(argv[i], "--batch"))
      batch = v;
    else if (!strcmp(argv[i], "--size"))
      size = v;
  }
  sb::PluginLoader loader;
  auto lib = loader.Load("raft", SB_KIND_CONSENSUS);
  if (!lib.ok()) {
    fprintf(stderr, "%s\n", lib.status().ToString().c_str());
    return 1;
  }
  std::vector<std::unique_ptr<Node>> nodes;
  for (uint64_t id = 1; id <= 3; ++id) {
    auto n = std::make_unique<Node>();
    n->id = id;
    sb::ConsensusOptions o;
    o.group_id = 1;
    o.node_id = id;
    o.seed = id;
    o.bootstrap_voters = {1, 2, 3};
    auto inst = ConsensusInstance::Create(*lib, nullptr, o, &n->log);
    if (!inst.ok()) {
      fprintf(stderr, "%s\n", inst.status().ToString().c_str());
      return 1;
    }
    n->inst = std::move(inst.value());
    nodes.push_back(std::move(n));
  }
  std::deque<std::pair<uint64_t, std::string>> net;  // (to, bytes)
  auto process = [&](Node* n) {
    ConsensusReady rd;
    while (n->inst->HasReady()) {
      if (!n->inst->GetReady(&rd).ok()) abort();
      for (const auto& m : rd.early_messages)
        net.emplace_back(m.to, std::string(m.data));
      n->log.Append(rd.entries);
      if (!rd.hard_state.empty())
        n->log.hard_state = std::string(rd.hard_state);
      for (const auto& m : rd.messages)
        net.emplace_back(m.to, std::string(m.data));
      for (const auto& e : rd.committed) {
        if (e.type == sb::EntryType::kNormal) ++n->applied_normal;
      }
      uint64_t applied = rd.committed.empty() ? 0 : rd.committed.back().index;
      if (!n->inst->Advance().ok()) abort();
      if (applied > n->log.snapshot_index() + 20000) {
        auto meta = n->inst->Compact(applied - 10000);
        if (meta.ok()) n->log.Compact(applied - 10000, *meta);
      }
    }
  };
  auto settle = [&]() {
    for (auto& n : nodes) process(n.get());
    while (!net.empty()) {
      auto [to, data] = std::move(net.front());
      net.pop_front();
      Node* n = nodes[to - 1].get();
      (void)n->inst->Step(data);
      process(n);
    }
  };
  Node* leader = nullptr;
  for (int t = 0; t < 1000 && leader == nullptr; ++t) {
    for (auto& n : nodes) n->inst->Tick();
    settle();
    for (auto& n : nodes) {
      if (n->inst->GetStatus().role == sb::Role::kLeader) leader = n.get();
    }
  }
  if (leader == nullptr) {
    fprintf(stderr, "no leader\n");
    return 1;
  }
  std::string payload(size, 'x');
  uint64_t start_applied = leader->applied_normal;
  uint64_t allocs0 = g_allocs.load();
  double cpu0 = CpuSeconds();
  uint64_t proposed = 0, rounds = 0;
  while (leader->applied_normal - start_applied < proposals) {
    for (uint64_t i = 0; i < batch && proposed < proposals; ++i, ++proposed) {
      payload[i % size] = static_cast<char>('a' + proposed % 26);
      if (!leader->inst->Propose(payload).ok()) abort();
    }
    settle();
    if (++rounds % 4 == 0) {
      for (auto& n : nodes) n->inst->Tick();
      settle();
    }
  }
  double cpu = CpuSeconds() - cpu0;
  uint64_t allocs = g_allocs.load() - allocs0;
  uint64_t committed = leader->applied_normal - start_applied;
  printf(
      "{\"voters\": 3, \"proposal_bytes\": %llu, \"batch\": %llu, "
      "\"committed\": %llu, \"cpu_seconds\": %.3f, "
      "\"committed_per_cpu_second\": %.0f, "
      "\"allocations_per_entry\": %.1f}\n",
      static_cast<unsigned long long>(size),
      static_cast<unsigned long long>(batch),
      static_cast<unsigned long long>(committed), cpu, committed / cpu,
      static_cast<double>(allocs) / committed);
  return 0;
}
