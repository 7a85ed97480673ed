// host/consensus/consensus.cc — see consensus.h.
#include "host/consensus/consensus.h"

#include <cstring>

namespace sb {
namespace {

std::string_view View(sb_bytes b) {
  return {reinterpret_cast<const char*>(b.data), b.len};
}

sb_bytes Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

sb_code ToAbi(const Status& s, sb_status* st) {
  if (s.ok()) return sb_status_ok(st);
  return sb_status_set(st, static_cast<sb_code>(s.code()), "%s",
                       s.message().c_str());
}

// ---- Log reader trampolines: ABI callbacks into ConsensusLog. ----

sb_code ReaderRange(void* ctx, uint64_t* first, uint64_t* last, sb_status* st) {
  return ToAbi(static_cast<ConsensusLog*>(ctx)->Range(first, last), st);
}

sb_code ReaderEntries(void* ctx, uint64_t lo, uint64_t hi, uint64_t max_bytes,
                      sb_consensus_entry_sink sink, void* sink_ctx,
                      sb_status* st) {
  Status s = static_cast<ConsensusLog*>(ctx)->Entries(
      lo, hi, max_bytes, [&](const LogEntry& e) {
        sb_consensus_entry ce{};
        ce.struct_size = sizeof ce;
        ce.type = static_cast<uint32_t>(e.type);
        ce.index = e.index;
        ce.meta = Bytes(e.meta);
        ce.data = Bytes(e.data);
        sink(sink_ctx, &ce);
      });
  return ToAbi(s, st);
}

sb_code ReaderSnapshotMeta(void* ctx, uint64_t* index, sb_bytes_sink sink,
                           void* sink_ctx, sb_status* st) {
  std::string meta;
  Status s = static_cast<ConsensusLog*>(ctx)->SnapshotMeta(index, &meta);
  if (s.ok()) {
    sink(sink_ctx, reinterpret_cast<const uint8_t*>(meta.data()), meta.size());
  }
  return ToAbi(s, st);
}

sb_code ReaderSnapshotRead(void* ctx, uint64_t index, uint64_t offset,
                           uint64_t max_bytes, sb_bytes_sink sink,
                           void* sink_ctx, int32_t* done, sb_status* st) {
  std::string data;
  bool d = false;
  Status s = static_cast<ConsensusLog*>(ctx)->SnapshotRead(
      index, offset, max_bytes, &data, &d);
  if (s.ok()) {
    sink(sink_ctx, reinterpret_cast<const uint8_t*>(data.data()), data.size());
    *done = d ? 1 : 0;
  }
  return ToAbi(s, st);
}

StatusOr<const sb_consensus_vtable*> Vtable(const PluginLibrary& lib) {
  if (lib.kind() != SB_KIND_CONSENSUS) {
    return Status::InvalidArgument("plugin '" + lib.path() +
                                   "' is not a consensus plugin");
  }
  auto* vt = static_cast<const sb_consensus_vtable*>(lib.vtable());
  if (vt->struct_size < sizeof(sb_consensus_vtable)) {
    return Status::InvalidArgument(
        "consensus plugin '" + lib.path() + "' has a vtable of " +
        std::to_string(vt->struct_size) + " bytes; this host needs " +
        std::to_string(sizeof(sb_consensus_vtable)));
  }
  const void* members[] = {
      reinterpret_cast<const void*>(vt->check_config),
      reinterpret_cast<const void*>(vt->create),
      reinterpret_cast<const void*>(vt->destroy),
      reinterpret_cast<const void*>(vt->tick),
      reinterpret_cast<const void*>(vt->step),
      reinterpret_cast<const void*>(vt->propose),
      reinterpret_cast<const void*>(vt->read_index),
      reinterpret_cast<const void*>(vt->change_membership),
      reinterpret_cast<const void*>(vt->transfer_leadership),
      reinterpret_cast<const void*>(vt->compact),
      reinterpret_cast<const void*>(vt->status),
      reinterpret_cast<const void*>(vt->members),
      reinterpret_cast<const void*>(vt->has_ready),
      reinterpret_cast<const void*>(vt->ready),
      reinterpret_cast<const void*>(vt->advance)};
  for (const void* m : members) {
    if (m == nullptr) {
      return Status::InvalidArgument("consensus plugin '" + lib.path() +
                                     "' has a null vtable member");
    }
  }
  return vt;
}

EntryView ToView(const sb_consensus_entry& e) {
  return {static_cast<EntryType>(e.type), e.index, View(e.meta), View(e.data)};
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
    case Role::kLearner:
      return "learner";
  }
  return "unknown";
}

Status ConsensusInstance::CheckConfig(
    const PluginLibrary& lib, const std::vector<PluginConfigEntry>& config) {
  PluginConfigAbi cfg(config);
  return CheckConfig(lib, *cfg.get());
}

Status ConsensusInstance::CheckConfig(const PluginLibrary& lib,
                                      const sb_config& config) {
  auto vt = Vtable(lib);
  if (!vt.ok()) return vt.status();
  sb_status st{};
  sb_code code = (*vt)->check_config(&config, &st);
  return Status::FromAbi(code, st);
}

StatusOr<std::unique_ptr<ConsensusInstance>> ConsensusInstance::Create(
    std::shared_ptr<PluginLibrary> lib, const sb_host_services* host,
    const ConsensusOptions& opts, ConsensusLog* log) {
  auto vt = Vtable(*lib);
  if (!vt.ok()) return vt.status();
  std::unique_ptr<ConsensusInstance> inst(new ConsensusInstance());
  inst->vt_ = *vt;
  inst->name_ = lib->name();
  inst->lib_ = std::move(lib);
  inst->log_ = log;
  inst->reader_.struct_size = sizeof inst->reader_;
  inst->reader_.ctx = log;
  inst->reader_.range = ReaderRange;
  inst->reader_.entries = ReaderEntries;
  inst->reader_.snapshot_meta = ReaderSnapshotMeta;
  inst->reader_.snapshot_read = ReaderSnapshotRead;

  PluginConfigAbi cfg(opts.config);
  sb_consensus_options o{};
  o.struct_size = sizeof o;
  o.group_id = opts.group_id;
  o.node_id = opts.node_id;
  o.seed = opts.seed;
  o.config = cfg.get();
  o.log = &inst->reader_;
  o.hard_state = Bytes(opts.hard_state);
  o.applied = opts.applied;
  o.bootstrap_voters = opts.bootstrap_voters.data();
  o.bootstrap_voters_count = opts.bootstrap_voters.size();
  sb_status st{};
  sb_code code = inst->vt_->create(host, &o, &inst->c_, &st);
  if (code != SB_OK) {
    return Status::FromAbi(code, st).Annotate("creating consensus '" +
                                              inst->name_ + "' for group " +
                                              std::to_string(opts.group_id));
  }
  return inst;
}

ConsensusInstance::~ConsensusInstance() {
  if (c_ != nullptr) vt_->destroy(c_);
}

void ConsensusInstance::Tick() { vt_->tick(c_); }

Status ConsensusInstance::Step(std::string_view msg) {
  sb_status st{};
  sb_code code = vt_->step(c_, Bytes(msg), &st);
  return Status::FromAbi(code, st);
}

Status ConsensusInstance::Propose(std::string_view data, uint64_t* index) {
  sb_status st{};
  sb_code code = vt_->propose(c_, Bytes(data), index, &st);
  return Status::FromAbi(code, st);
}

Status ConsensusInstance::ReadIndex(std::string_view context) {
  sb_status st{};
  sb_code code = vt_->read_index(c_, Bytes(context), &st);
  return Status::FromAbi(code, st);
}

Status ConsensusInstance::ChangeMembership(MemberOp op, uint64_t node) {
  sb_status st{};
  sb_code code =
      vt_->change_membership(c_, static_cast<uint32_t>(op), node, &st);
  return Status::FromAbi(code, st);
}

Status ConsensusInstance::TransferLeadership(uint64_t target) {
  sb_status st{};
  sb_code code = vt_->transfer_leadership(c_, target, &st);
  return Status::FromAbi(code, st);
}

StatusOr<std::string> ConsensusInstance::Compact(uint64_t index) {
  std::string meta;
  sb_status st{};
  sb_code code = vt_->compact(
      c_, index,
      [](void* ctx, const uint8_t* data, size_t len) {
        static_cast<std::string*>(ctx)->assign(
            reinterpret_cast<const char*>(data), len);
      },
      &meta, &st);
  if (code != SB_OK) return Status::FromAbi(code, st);
  return meta;
}

ConsensusStatus ConsensusInstance::GetStatus() const {
  sb_consensus_status s{};
  s.struct_size = sizeof s;
  vt_->status(c_, &s);
  ConsensusStatus out;
  out.role = static_cast<Role>(s.role);
  out.term = s.term;
  out.leader = s.leader;
  out.commit = s.commit;
  out.applied = s.applied;
  out.first_index = s.first_index;
  out.last_index = s.last_index;
  out.voters = s.voters;
  out.learners = s.learners;
  return out;
}

std::vector<Member> ConsensusInstance::Members() const {
  std::vector<Member> out;
  vt_->members(
      c_,
      [](void* ctx, uint64_t node, uint32_t kind) {
        static_cast<std::vector<Member>*>(ctx)->push_back(
            {node, kind == SB_MEMBER_VOTER});
      },
      &out);
  return out;
}

bool ConsensusInstance::HasReady() const { return vt_->has_ready(c_) != 0; }

Status ConsensusInstance::GetReady(ConsensusReady* rd) {
  sb_consensus_ready r{};
  r.struct_size = sizeof r;
  sb_status st{};
  sb_code code = vt_->ready(c_, &r, &st);
  if (code != SB_OK) return Status::FromAbi(code, st);
  *rd = ConsensusReady();
  rd->hard_state = View(r.hard_state);
  rd->must_sync = r.must_sync != 0;
  for (size_t i = 0; i < r.entries_count; ++i) {
    rd->entries.push_back(ToView(r.entries[i]));
  }
  if (r.snapshot != nullptr) {
    const sb_consensus_snapshot_chunk& c = *r.snapshot;
    rd->snapshot = SnapshotChunkView{c.done != 0, c.index, c.offset,
                                     View(c.meta), View(c.data)};
  }
  for (size_t i = 0; i < r.messages_count; ++i) {
    rd->messages.push_back({r.messages[i].to, View(r.messages[i].data)});
  }
  if (SB_HAS_FIELD(&r, early_messages_count)) {
    for (size_t i = 0; i < r.early_messages_count; ++i) {
      rd->early_messages.push_back(
          {r.early_messages[i].to, View(r.early_messages[i].data)});
    }
  }
  for (size_t i = 0; i < r.committed_count; ++i) {
    rd->committed.push_back(ToView(r.committed[i]));
  }
  for (size_t i = 0; i < r.reads_count; ++i) {
    rd->reads.push_back({r.reads[i].index, View(r.reads[i].context)});
  }
  return Status::OK();
}

Status ConsensusInstance::Advance() {
  sb_status st{};
  sb_code code = vt_->advance(c_, &st);
  return Status::FromAbi(code, st);
}

}  // namespace sb
