// plugins/raft/plugin.cc — the raft.so entry point: configuration, the
// consensus vtable, and the assembly of ready batches from Raft's output.
#include <cerrno>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "codec.h"
#include "raft.h"
#include "shardbearer/abi/consensus.h"

struct sb_consensus {
  sb_consensus(const sbraft::Options& opts, const sb_consensus_options* o,
               const sb_host_services* host)
      : raft(opts, o->group_id, o->node_id, o->seed, o->log, host),
        opts(opts) {}

  sbraft::Raft raft;
  sbraft::Options opts;

  // The outstanding ready batch: everything its pointers reference.
  bool in_ready = false;
  int deferred_ticks = 0;
  sbraft::HardState emitted_hs;
  uint64_t emitted_stable = 0;
  uint64_t emitted_applied = 0;
  std::string hard_state;
  std::vector<std::string> metas;
  std::vector<sb_consensus_entry> entries;
  std::vector<sbraft::Entry> committed_src;
  std::vector<std::string> committed_metas;
  std::vector<sb_consensus_entry> committed;
  std::vector<sbraft::Message> sent;
  std::vector<std::string> msg_bufs;
  std::vector<sb_consensus_message> msgs;
  std::vector<sb_consensus_message> early_msgs;
  std::vector<sbraft::ReadState> read_src;
  std::vector<sb_consensus_read_state> reads;
  sb_consensus_snapshot_chunk chunk{};
};

namespace {

using sbraft::Options;

sb_bytes Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string_view View(sb_bytes b) {
  return {reinterpret_cast<const char*>(b.data), b.len};
}

bool ParseInt(const char* v, long long lo, long long hi, long long* out) {
  errno = 0;
  char* end = nullptr;
  long long x = strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi) return false;
  *out = x;
  return true;
}

bool ParseBool(const char* v, bool* out) {
  if (strcmp(v, "true") == 0) {
    *out = true;
  } else if (strcmp(v, "false") == 0) {
    *out = false;
  } else {
    return false;
  }
  return true;
}

sb_code ParseConfig(const sb_config* cfg, Options* opts, sb_status* st) {
  if (cfg == nullptr) return sb_status_ok(st);
  if (cfg->count > 0 && cfg->entries == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "config entries missing");
  }
  for (size_t i = 0; i < cfg->count; ++i) {
    const sb_config_entry& e = cfg->entries[i];
    const char* key = e.key != nullptr ? e.key : "";
    const char* val = e.value != nullptr ? e.value : "";
    long long n = 0;
    bool ok = true;
    if (strcmp(key, "election_ticks") == 0) {
      ok = ParseInt(val, 2, 1000000, &n);
      opts->election_ticks = static_cast<int>(n);
    } else if (strcmp(key, "heartbeat_ticks") == 0) {
      ok = ParseInt(val, 1, 1000000, &n);
      opts->heartbeat_ticks = static_cast<int>(n);
    } else if (strcmp(key, "max_inflight") == 0) {
      ok = ParseInt(val, 1, 1 << 20, &n);
      opts->max_inflight = static_cast<size_t>(n);
    } else if (strcmp(key, "max_batch_bytes") == 0) {
      ok = ParseInt(val, 1, 1LL << 30, &n);
      opts->max_batch_bytes = static_cast<uint64_t>(n);
    } else if (strcmp(key, "pre_vote") == 0) {
      ok = ParseBool(val, &opts->pre_vote);
    } else if (strcmp(key, "check_quorum") == 0) {
      ok = ParseBool(val, &opts->check_quorum);
    } else if (strcmp(key, "lease_reads") == 0) {
      ok = ParseBool(val, &opts->lease_reads);
    } else {
      return sb_status_set(st, SB_INVALID_ARGUMENT,
                           "unknown raft config key '%s' (known: "
                           "election_ticks, heartbeat_ticks, max_inflight, "
                           "max_batch_bytes, pre_vote, check_quorum, "
                           "lease_reads)",
                           key);
    }
    if (!ok) {
      return sb_status_set(st, SB_INVALID_ARGUMENT,
                           "raft config key '%s': bad value '%s'", key, val);
    }
  }
  if (opts->election_ticks <= opts->heartbeat_ticks) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "raft config: election_ticks (%d) must exceed "
                         "heartbeat_ticks (%d)",
                         opts->election_ticks, opts->heartbeat_ticks);
  }
  if (opts->lease_reads && !opts->check_quorum) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "raft config: lease_reads requires check_quorum");
  }
  return sb_status_ok(st);
}

sb_code CheckConfig(const sb_config* cfg, sb_status* st) {
  Options opts;
  return ParseConfig(cfg, &opts, st);
}

sb_code Busy(sb_status* st) {
  return sb_status_set(st, SB_BUSY,
                       "a ready batch is outstanding: call advance first");
}

sb_code Create(const sb_host_services* host, const sb_consensus_options* o,
               sb_consensus** out, sb_status* st) {
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
      r->entries == nullptr || r->snapshot_meta == nullptr ||
      r->snapshot_read == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "log reader incomplete");
  }
  if (o->bootstrap_voters_count > 0 && o->bootstrap_voters == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "bootstrap voters missing");
  }
  Options opts;
  sb_code code = ParseConfig(o->config, &opts, st);
  if (code != SB_OK) return code;
  std::vector<uint64_t> voters(o->bootstrap_voters,
                               o->bootstrap_voters + o->bootstrap_voters_count);
  std::unique_ptr<sb_consensus> c(new (std::nothrow)
                                      sb_consensus(opts, o, host));
  if (!c) return sb_status_set(st, SB_INTERNAL, "out of memory");
  std::string error;
  if (!c->raft.Init(View(o->hard_state), o->applied, voters, &error)) {
    return sb_status_set(st, SB_CORRUPTION, "raft: %s", error.c_str());
  }
  *out = c.release();
  return sb_status_ok(st);
}

void Destroy(sb_consensus* c) { delete c; }

void Tick(sb_consensus* c) {
  if (c->in_ready) {
    ++c->deferred_ticks;
  } else {
    c->raft.Tick();
  }
}

sb_code Step(sb_consensus* c, sb_bytes msg, sb_status* st) {
  if (c->in_ready) return Busy(st);
  sbraft::Message m;
  if (!sbraft::DecodeMessage(View(msg), &m)) {
    return sb_status_set(st, SB_CORRUPTION,
                         "malformed raft message (%zu bytes)", msg.len);
  }
  return c->raft.Step(m, st);
}

sb_code Propose(sb_consensus* c, sb_bytes data, uint64_t* out_index,
                sb_status* st) {
  if (c->in_ready) return Busy(st);
  return c->raft.Propose(std::string(View(data)), out_index, st);
}

sb_code ReadIndex(sb_consensus* c, sb_bytes ctx, sb_status* st) {
  if (c->in_ready) return Busy(st);
  return c->raft.ReadIndex(std::string(View(ctx)), st);
}

sb_code ChangeMembership(sb_consensus* c, uint32_t op, uint64_t node,
                         sb_status* st) {
  if (c->in_ready) return Busy(st);
  return c->raft.ChangeMembership(op, node, st);
}

sb_code TransferLeadership(sb_consensus* c, uint64_t target, sb_status* st) {
  if (c->in_ready) return Busy(st);
  return c->raft.TransferLeadership(target, st);
}

sb_code Compact(sb_consensus* c, uint64_t index, sb_bytes_sink sink,
                void* sink_ctx, sb_status* st) {
  if (c->in_ready) return Busy(st);
  if (sink == nullptr) return sb_status_set(st, SB_INVALID_ARGUMENT, "no sink");
  std::string meta;
  sb_code code = c->raft.Compact(index, &meta, st);
  if (code == SB_OK) {
    sink(sink_ctx, reinterpret_cast<const uint8_t*>(meta.data()), meta.size());
  }
  return code;
}

void Status(const sb_consensus* c, sb_consensus_status* out) {
  if (out == nullptr) return;
  uint32_t size = out->struct_size;
  sb_consensus_status s{};
  s.struct_size = sizeof s;
  const sbraft::Raft& r = c->raft;
  switch (r.role()) {
    case sbraft::Role::kFollower:
      s.role =
          r.membership().IsLearner(r.id()) ? SB_ROLE_LEARNER : SB_ROLE_FOLLOWER;
      break;
    case sbraft::Role::kPreCandidate:
      s.role = SB_ROLE_PRE_CANDIDATE;
      break;
    case sbraft::Role::kCandidate:
      s.role = SB_ROLE_CANDIDATE;
      break;
    case sbraft::Role::kLeader:
      s.role = SB_ROLE_LEADER;
      break;
  }
  s.term = r.term();
  s.leader = r.leader();
  s.commit = r.commit();
  s.applied = r.applied();
  s.last_index = r.log().last_index();
  s.first_index = r.log().first_index();
  s.voters = static_cast<uint32_t>(r.membership().voters.size());
  s.learners = static_cast<uint32_t>(r.membership().learners.size());
  // Copy no more than the caller's struct holds (it may be older).
  size_t n = size < sizeof s ? size : sizeof s;
  memcpy(out, &s, n);
  out->struct_size = size;
}

void Members(const sb_consensus* c, sb_consensus_member_fn fn, void* ctx) {
  if (fn == nullptr) return;
  const sbraft::Membership& ms = c->raft.membership();
  for (uint64_t v : ms.voters) fn(ctx, v, SB_MEMBER_VOTER);
  for (uint64_t l : ms.learners) fn(ctx, l, SB_MEMBER_LEARNER);
}

int32_t HasReady(const sb_consensus* c) {
  return !c->in_ready && c->raft.HasReady() ? 1 : 0;
}

sb_consensus_entry MakeEntry(const sbraft::Entry& e, std::string* meta) {
  sbraft::EncodeEntryMeta(e.term, meta);
  sb_consensus_entry out{};
  out.struct_size = sizeof out;
  out.type = e.type;
  out.index = e.index;
  out.data = Bytes(e.data);
  return out;
}

sb_code Ready(sb_consensus* c, sb_consensus_ready* out, sb_status* st) {
  if (c->in_ready) return Busy(st);
  if (out == nullptr || !SB_HAS_FIELD(out, reads_count)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "ready struct too small");
  }
  sbraft::Raft& r = c->raft;
  r.FlushBroadcast();
  uint32_t size = out->struct_size;
  memset(out, 0, size);
  out->struct_size = size;

  // Hard state: term and vote must be durable before any message relies on
  // them (§5.2); a commit-only change need not be synced.
  sbraft::HardState hs = r.hard_state();
  bool sync = false;
  bool term_or_vote_changed = false;
  c->hard_state.clear();
  if (hs != r.persisted_hard_state()) {
    sbraft::EncodeHardState(hs, &c->hard_state);
    out->hard_state = Bytes(c->hard_state);
    sync = hs.term != r.persisted_hard_state().term ||
           hs.vote != r.persisted_hard_state().vote;
    term_or_vote_changed = sync;
  }
  c->emitted_hs = hs;

  // Entries to append (the unstable tail). Metas first, spans after, so no
  // reallocation moves a string a span points into.
  const std::vector<sbraft::Entry>& unstable = r.log().unstable();
  c->metas.resize(unstable.size());
  c->entries.clear();
  for (size_t i = 0; i < unstable.size(); ++i) {
    c->entries.push_back(MakeEntry(unstable[i], &c->metas[i]));
  }
  for (size_t i = 0; i < unstable.size(); ++i) {
    c->entries[i].meta = Bytes(c->metas[i]);
  }
  out->entries = c->entries.data();
  out->entries_count = c->entries.size();
  c->emitted_stable = unstable.empty() ? 0 : unstable.back().index;
  sync = sync || !unstable.empty();

  if (r.pending_chunk().has_value()) {
    const sbraft::PendingChunk& pc = *r.pending_chunk();
    c->chunk = {};
    c->chunk.struct_size = sizeof c->chunk;
    c->chunk.done = pc.done ? 1 : 0;
    c->chunk.index = pc.index;
    c->chunk.offset = pc.offset;
    c->chunk.meta = Bytes(pc.meta);
    c->chunk.data = Bytes(pc.data);
    out->snapshot = &c->chunk;
    sync = true;
  }
  out->must_sync = sync ? 1 : 0;

  c->sent.clear();
  c->sent.swap(r.messages());
  c->msg_bufs.resize(c->sent.size());
  c->msgs.clear();
  c->early_msgs.clear();
  // A leader whose term and vote are already durable may have its appends,
  // heartbeats and snapshots sent before this batch is persisted (ABI 1.1,
  // early_messages): they promise nothing about its own storage, and its
  // host handles acknowledgements only after the persist. Votes and every
  // response wait for the persist.
  const bool early_ok = SB_HAS_FIELD(out, early_messages_count) &&
                        r.role() == sbraft::Role::kLeader &&
                        !term_or_vote_changed;
  for (size_t i = 0; i < c->sent.size(); ++i) {
    sbraft::EncodeMessage(c->sent[i], &c->msg_bufs[i]);
    sb_consensus_message m{};
    m.struct_size = sizeof m;
    m.to = c->sent[i].to;
    m.data = Bytes(c->msg_bufs[i]);
    const sbraft::MsgType t = c->sent[i].type;
    const bool early = early_ok && (t == sbraft::MsgType::kAppend ||
                                    t == sbraft::MsgType::kHeartbeat ||
                                    t == sbraft::MsgType::kSnapshot);
    (early ? c->early_msgs : c->msgs).push_back(m);
  }
  out->messages = c->msgs.data();
  out->messages_count = c->msgs.size();
  if (SB_HAS_FIELD(out, early_messages_count)) {
    out->early_messages = c->early_msgs.data();
    out->early_messages_count = c->early_msgs.size();
  }

  c->committed_src.clear();
  std::string error;
  if (!r.NextCommitted(4 * c->opts.max_batch_bytes, &c->committed_src,
                       &error)) {
    // Leave the batch unissued: the host sees the error and may retry.
    r.messages().swap(c->sent);
    return sb_status_set(st, SB_IO_ERROR, "reading committed entries: %s",
                         error.c_str());
  }
  c->committed_metas.resize(c->committed_src.size());
  c->committed.clear();
  for (size_t i = 0; i < c->committed_src.size(); ++i) {
    c->committed.push_back(
        MakeEntry(c->committed_src[i], &c->committed_metas[i]));
  }
  for (size_t i = 0; i < c->committed.size(); ++i) {
    c->committed[i].meta = Bytes(c->committed_metas[i]);
  }
  out->committed = c->committed.data();
  out->committed_count = c->committed.size();
  c->emitted_applied =
      c->committed_src.empty() ? 0 : c->committed_src.back().index;

  c->read_src.clear();
  c->read_src.swap(r.read_states());
  c->reads.clear();
  for (const sbraft::ReadState& rs : c->read_src) {
    sb_consensus_read_state s{};
    s.struct_size = sizeof s;
    s.index = rs.index;
    s.context = Bytes(rs.context);
    c->reads.push_back(s);
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
  c->raft.Advance(c->emitted_hs, c->emitted_stable, c->emitted_applied);
  c->raft.pending_chunk().reset();
  int ticks = c->deferred_ticks;
  c->deferred_ticks = 0;
  for (int i = 0; i < ticks; ++i) c->raft.Tick();
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
    "raft",
    "1.0.0",
    "Raft: pre-vote, check-quorum, pipelining, snapshots, learners, "
    "single-server membership change, leadership transfer, ReadIndex",
    &kVtable,
};

}  // namespace

extern "C" SB_PLUGIN_EXPORT const sb_plugin_info* shardbearer_plugin_entry(
    void) {
  return &kInfo;
}
