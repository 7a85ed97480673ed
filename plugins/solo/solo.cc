// plugins/solo/solo.cc — a consensus plugin for a group of exactly one
// voter.
//
// No replication, no election: the node is leader from the start, at term
// 1, and an entry is committed as soon as the host has persisted it (acked
// by advance). It implements the same ABI as raft.so, so hosts and tests
// run unchanged on a single node. Operations that need peers are refused:
// step (SB_INVALID_ARGUMENT), membership change (SB_NOT_SUPPORTED),
// leadership transfer to another node (SB_NOT_SUPPORTED).
//
// Hard state: format byte 'S', then commit as a little-endian u64. Entry
// and snapshot metadata: format byte 'S' (entries carry no term).
// Thread safety: per the consensus ABI (one thread at a time).
#include <cinttypes>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "shardbearer/abi/consensus.h"

namespace {

constexpr char kFormat = 'S';
constexpr uint64_t kTerm = 1;
constexpr uint64_t kApplyBudget = 4u << 20;
constexpr size_t kMaxProposalBytes = 64u << 20;

struct Entry {
  uint64_t index;
  std::string data;
};

}  // namespace

struct sb_consensus {
  uint64_t id = 0;
  const sb_consensus_log_reader* log = nullptr;
  uint64_t snap_index = 0;
  uint64_t stable_last = 0;
  uint64_t commit = 0;
  uint64_t persisted_commit = 0;
  uint64_t applied = 0;
  std::vector<Entry> unstable;
  std::vector<std::string> reads_pending;

  // Outstanding ready batch.
  bool in_ready = false;
  std::string hard_state;
  uint64_t emitted_commit = 0;
  uint64_t emitted_stable = 0;
  uint64_t emitted_applied = 0;
  std::string meta = std::string(1, kFormat);
  std::vector<sb_consensus_entry> entries;
  std::vector<std::string> committed_data;
  std::vector<sb_consensus_entry> committed;
  std::vector<std::string> read_ctx;
  std::vector<sb_consensus_read_state> reads;
  uint64_t read_index = 0;
};

namespace {

sb_bytes Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

uint64_t LastIndex(const sb_consensus* c) {
  return c->unstable.empty() ? c->stable_last : c->unstable.back().index;
}

sb_code Busy(sb_status* st) {
  return sb_status_set(st, SB_BUSY,
                       "a ready batch is outstanding: call advance first");
}

sb_code CheckConfig(const sb_config* cfg, sb_status* st) {
  if (cfg != nullptr && cfg->count > 0) {
    const char* key = cfg->entries != nullptr && cfg->entries[0].key != nullptr
                          ? cfg->entries[0].key
                          : "";
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "unknown solo config key '%s' (solo has no keys)",
                         key);
  }
  return sb_status_ok(st);
}

struct ScanCtx {
  uint64_t next;
  bool bad = false;
};

void CountSink(void* ctx, const sb_consensus_entry* e) {
  auto* s = static_cast<ScanCtx*>(ctx);
  if (e == nullptr || e->index != s->next) {
    s->bad = true;
    return;
  }
  ++s->next;
}

void IgnoreBytes(void*, const uint8_t*, size_t) {}

sb_code Create(const sb_host_services*, const sb_consensus_options* o,
               sb_consensus** out, sb_status* st) {
  sb_status local{};
  if (st == nullptr) st = &local;
  if (out == nullptr || o == nullptr ||
      !SB_HAS_FIELD(o, bootstrap_voters_count)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "options missing or short");
  }
  *out = nullptr;
  if (o->node_id == 0 || o->group_id == 0) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "group id and node id must be non-zero");
  }
  const sb_consensus_log_reader* r = o->log;
  if (r == nullptr || !SB_HAS_FIELD(r, snapshot_read) || r->range == nullptr ||
      r->entries == nullptr || r->snapshot_meta == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "log reader incomplete");
  }
  sb_code code = CheckConfig(o->config, st);
  if (code != SB_OK) return code;
  for (size_t i = 0; i < o->bootstrap_voters_count; ++i) {
    if (o->bootstrap_voters == nullptr ||
        o->bootstrap_voters[i] != o->node_id) {
      return sb_status_set(
          st, SB_INVALID_ARGUMENT,
          "solo runs exactly one voter: this node (%" PRIu64 ")", o->node_id);
    }
  }
  std::unique_ptr<sb_consensus> c(new (std::nothrow) sb_consensus());
  if (!c) return sb_status_set(st, SB_INTERNAL, "out of memory");
  c->id = o->node_id;
  c->log = r;
  uint64_t first = 0, last = 0;
  if (r->range(r->ctx, &first, &last, st) != SB_OK) return st->code;
  uint64_t sidx = 0;
  code = r->snapshot_meta(r->ctx, &sidx, IgnoreBytes, nullptr, st);
  if (code == SB_OK) {
    c->snap_index = sidx;
  } else if (code != SB_NOT_FOUND) {
    return code;
  }
  if (first != c->snap_index + 1 || last + 1 < first) {
    return sb_status_set(st, SB_CORRUPTION,
                         "log range does not follow the snapshot");
  }
  // Every stored entry was persisted, so it is committed: check the log is
  // readable and contiguous.
  ScanCtx scan{first};
  while (scan.next <= last && !scan.bad) {
    uint64_t before = scan.next;
    if (r->entries(r->ctx, scan.next, last + 1, kApplyBudget, CountSink, &scan,
                   st) != SB_OK) {
      return st->code;
    }
    if (scan.next == before) scan.bad = true;
  }
  if (scan.bad) {
    return sb_status_set(st, SB_CORRUPTION, "stored log is not contiguous");
  }
  bool fresh = o->hard_state.len == 0 && last == 0 && c->snap_index == 0;
  if (fresh && o->bootstrap_voters_count == 0) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "solo cannot join a group: bootstrap it with this "
                         "node as the only voter");
  }
  if (o->hard_state.len != 0) {
    if (o->hard_state.len != 9 || o->hard_state.data[0] != kFormat) {
      return sb_status_set(st, SB_CORRUPTION, "solo hard state is corrupt");
    }
    memcpy(&c->persisted_commit, o->hard_state.data + 1, 8);
  }
  if (o->applied > last) {
    return sb_status_set(st, SB_CORRUPTION,
                         "applied index is beyond the stored log");
  }
  c->stable_last = last;
  c->commit = last;
  c->applied = o->applied > c->snap_index ? o->applied : c->snap_index;
  *out = c.release();
  return sb_status_ok(st);
}

void Destroy(sb_consensus* c) { delete c; }

void Tick(sb_consensus*) {}

sb_code Step(sb_consensus* c, sb_bytes, sb_status* st) {
  if (c->in_ready) return Busy(st);
  return sb_status_set(st, SB_INVALID_ARGUMENT,
                       "solo has no peers: no message can be for it");
}

sb_code Propose(sb_consensus* c, sb_bytes data, uint64_t* out_index,
                sb_status* st) {
  if (c->in_ready) return Busy(st);
  if (data.len > kMaxProposalBytes) {
    return sb_status_set(st, SB_TOO_LARGE, "proposal of %zu bytes", data.len);
  }
  Entry e{LastIndex(c) + 1,
          std::string(reinterpret_cast<const char*>(data.data), data.len)};
  c->unstable.push_back(std::move(e));
  if (out_index != nullptr) *out_index = LastIndex(c);
  return sb_status_ok(st);
}

sb_code ReadIndex(sb_consensus* c, sb_bytes ctx, sb_status* st) {
  if (c->in_ready) return Busy(st);
  // With one voter every acknowledged write is committed here: the commit
  // index is a linearizable read point.
  c->reads_pending.emplace_back(reinterpret_cast<const char*>(ctx.data),
                                ctx.len);
  return sb_status_ok(st);
}

sb_code ChangeMembership(sb_consensus*, uint32_t, uint64_t, sb_status* st) {
  return sb_status_set(st, SB_NOT_SUPPORTED,
                       "solo has a fixed membership of one voter");
}

sb_code TransferLeadership(sb_consensus* c, uint64_t target, sb_status* st) {
  if (target == c->id) return sb_status_ok(st);
  return sb_status_set(st, SB_NOT_SUPPORTED, "solo has no other voter");
}

sb_code Compact(sb_consensus* c, uint64_t index, sb_bytes_sink sink, void* ctx,
                sb_status* st) {
  if (c->in_ready) return Busy(st);
  if (sink == nullptr) return sb_status_set(st, SB_INVALID_ARGUMENT, "no sink");
  if (index <= c->snap_index || index > c->applied) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "cannot compact through %" PRIu64 " (snapshot %" PRIu64
                         ", applied %" PRIu64 ")",
                         index, c->snap_index, c->applied);
  }
  c->snap_index = index;
  sink(ctx, reinterpret_cast<const uint8_t*>(c->meta.data()), c->meta.size());
  return sb_status_ok(st);
}

void Status(const sb_consensus* c, sb_consensus_status* out) {
  if (out == nullptr) return;
  uint32_t size = out->struct_size;
  sb_consensus_status s{};
  s.struct_size = sizeof s;
  s.role = SB_ROLE_LEADER;
  s.term = kTerm;
  s.leader = c->id;
  s.commit = c->commit;
  s.applied = c->applied;
  s.last_index = LastIndex(c);
  s.first_index = c->snap_index + 1;
  s.voters = 1;
  s.learners = 0;
  memcpy(out, &s, size < sizeof s ? size : sizeof s);
  out->struct_size = size;
}

void Members(const sb_consensus* c, sb_consensus_member_fn fn, void* ctx) {
  if (fn != nullptr) fn(ctx, c->id, SB_MEMBER_VOTER);
}

int32_t HasReady(const sb_consensus* c) {
  return !c->in_ready &&
                 (!c->unstable.empty() || c->commit > c->applied ||
                  c->commit != c->persisted_commit || !c->reads_pending.empty())
             ? 1
             : 0;
}

struct CommitSink {
  sb_consensus* c;
  uint64_t next;
  bool bad = false;
};

void CommittedSink(void* ctx, const sb_consensus_entry* e) {
  auto* s = static_cast<CommitSink*>(ctx);
  if (s->bad || e == nullptr || e->index != s->next) {
    s->bad = true;
    return;
  }
  s->c->committed_data.emplace_back(reinterpret_cast<const char*>(e->data.data),
                                    e->data.len);
  ++s->next;
}

sb_code Ready(sb_consensus* c, sb_consensus_ready* out, sb_status* st) {
  sb_status local{};
  if (st == nullptr) st = &local;
  if (c->in_ready) return Busy(st);
  if (out == nullptr || !SB_HAS_FIELD(out, reads_count)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "ready struct too small");
  }
  uint32_t size = out->struct_size;
  memset(out, 0, size);
  out->struct_size = size;

  c->hard_state.clear();
  if (c->commit != c->persisted_commit) {
    c->hard_state.push_back(kFormat);
    c->hard_state.append(reinterpret_cast<const char*>(&c->commit), 8);
    out->hard_state = Bytes(c->hard_state);
  }
  c->emitted_commit = c->commit;

  c->entries.clear();
  for (const Entry& e : c->unstable) {
    sb_consensus_entry ce{};
    ce.struct_size = sizeof ce;
    ce.type = SB_ENTRY_NORMAL;
    ce.index = e.index;
    ce.meta = Bytes(c->meta);
    ce.data = Bytes(e.data);
    c->entries.push_back(ce);
  }
  out->entries = c->entries.data();
  out->entries_count = c->entries.size();
  out->must_sync = c->entries.empty() ? 0 : 1;
  c->emitted_stable = c->unstable.empty() ? 0 : c->unstable.back().index;

  // Committed entries are persisted ones: read them back from the host.
  c->committed_data.clear();
  c->committed.clear();
  c->emitted_applied = 0;
  if (c->commit > c->applied) {
    CommitSink sink{c, c->applied + 1};
    if (c->log->entries(c->log->ctx, c->applied + 1, c->commit + 1,
                        kApplyBudget, CommittedSink, &sink, st) != SB_OK) {
      return st->code;
    }
    if (sink.bad || c->committed_data.empty()) {
      return sb_status_set(st, SB_CORRUPTION, "committed entries unreadable");
    }
    for (size_t i = 0; i < c->committed_data.size(); ++i) {
      sb_consensus_entry ce{};
      ce.struct_size = sizeof ce;
      ce.type = SB_ENTRY_NORMAL;
      ce.index = c->applied + 1 + i;
      ce.meta = Bytes(c->meta);
      ce.data = Bytes(c->committed_data[i]);
      c->committed.push_back(ce);
    }
    c->emitted_applied = c->committed.back().index;
  }
  out->committed = c->committed.data();
  out->committed_count = c->committed.size();

  c->read_ctx.swap(c->reads_pending);
  c->reads_pending.clear();
  c->reads.clear();
  for (const std::string& ctx : c->read_ctx) {
    sb_consensus_read_state r{};
    r.struct_size = sizeof r;
    r.index = c->commit;
    r.context = Bytes(ctx);
    c->reads.push_back(r);
  }
  out->reads = c->reads.data();
  out->reads_count = c->reads.size();
  c->in_ready = true;
  return sb_status_ok(st);
}

sb_code Advance(sb_consensus* c, sb_status* st) {
  if (!c->in_ready) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "advance without ready");
  }
  c->in_ready = false;
  c->persisted_commit = c->emitted_commit;
  if (c->emitted_stable != 0) {
    c->unstable.clear();
    c->stable_last = c->emitted_stable;
    // Persisted is committed: the one voter is the whole quorum.
    c->commit = c->stable_last;
  }
  if (c->emitted_applied > c->applied) c->applied = c->emitted_applied;
  c->read_ctx.clear();
  return sb_status_ok(st);
}

const sb_consensus_vtable kVtable = {
    sizeof(sb_consensus_vtable),
    CheckConfig,
    Create,
    Destroy,
    Tick,
    Step,
    Propose,
    ReadIndex,
    ChangeMembership,
    TransferLeadership,
    Compact,
    Status,
    Members,
    HasReady,
    Ready,
    Advance,
};

const sb_plugin_info kInfo = {
    sizeof(sb_plugin_info),
    SB_PLUGIN_MAGIC,
    SB_ABI_MAJOR,
    SB_ABI_MINOR,
    SB_KIND_CONSENSUS,
    "solo",
    "1.0.0",
    "single voter: no replication, an entry commits once persisted",
    &kVtable,
};

}  // namespace

extern "C" SB_PLUGIN_EXPORT const sb_plugin_info* shardbearer_plugin_entry(
    void) {
  return &kInfo;
}
