// host/consensus/driver.cc — see driver.h.
#include "host/consensus/driver.h"

#include <algorithm>

namespace sb {

struct ConsensusDriver::Group {
  GroupOptions opts;
  GroupStateMachine* sm = nullptr;
  std::unique_ptr<StorageLog> log;
  std::unique_ptr<ConsensusInstance> inst;
  ConsensusReady rd;       // the outstanding batch during a cycle
  bool installed = false;  // rd.snapshot was the last chunk, installed
};

ConsensusDriver::ConsensusDriver(uint64_t node_id, Storage* storage,
                                 std::shared_ptr<PluginLibrary> plugin,
                                 const sb_host_services* host, SendFn send)
    : node_id_(node_id),
      storage_(storage),
      plugin_(std::move(plugin)),
      host_(host),
      send_(std::move(send)) {}

ConsensusDriver::~ConsensusDriver() {
  // Instances read through their logs until destroyed: instances first.
  for (auto& [id, g] : groups_) g->inst.reset();
}

Status ConsensusDriver::Init() {
  auto ks = ConsensusKeyspaces::Open(storage_);
  if (!ks.ok()) return ks.status();
  ks_ = *ks;
  initialized_ = true;
  return Status::OK();
}

Status ConsensusDriver::AddGroup(const GroupOptions& opts,
                                 GroupStateMachine* sm) {
  if (!initialized_) return Status::Unavailable("driver not initialized");
  if (opts.group_id == 0 || sm == nullptr) {
    return Status::InvalidArgument("group id 0 or no state machine");
  }
  if (groups_.count(opts.group_id)) {
    return Status::AlreadyExists("group " + std::to_string(opts.group_id) +
                                 " already hosted");
  }
  auto g = std::make_unique<Group>();
  g->opts = opts;
  g->sm = sm;
  g->log = std::make_unique<StorageLog>(storage_, ks_, opts.group_id);
  SB_RETURN_IF_ERROR(g->log->Load().Annotate("loading group " +
                                             std::to_string(opts.group_id)));
  ConsensusOptions co;
  co.group_id = opts.group_id;
  co.node_id = node_id_;
  co.seed = opts.seed;
  co.config = opts.config;
  co.hard_state = g->log->hard_state();
  co.applied = std::max(g->log->applied(), g->log->snapshot_index());
  co.bootstrap_voters = opts.bootstrap_voters;
  auto inst = ConsensusInstance::Create(plugin_, host_, co, g->log.get());
  if (!inst.ok()) return inst.status();
  g->inst = std::move(inst.value());
  groups_[opts.group_id] = std::move(g);
  return Status::OK();
}

ConsensusInstance* ConsensusDriver::group(uint64_t group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second->inst.get();
}

std::vector<uint64_t> ConsensusDriver::groups() const {
  std::vector<uint64_t> out;
  for (const auto& [id, g] : groups_) out.push_back(id);
  return out;
}

Status ConsensusDriver::Deliver(uint64_t group, std::string_view message) {
  auto it = groups_.find(group);
  if (it == groups_.end()) {
    return Status::NotFound("group " + std::to_string(group) +
                            " is not hosted on node " +
                            std::to_string(node_id_));
  }
  return it->second->inst->Step(message);
}

void ConsensusDriver::Tick() {
  for (auto& [id, g] : groups_) g->inst->Tick();
}

StatusOr<size_t> ConsensusDriver::RunCycle() {
  std::vector<Group*> ready;
  for (auto& [id, g] : groups_) {
    if (!g->inst->HasReady()) continue;
    Status s = g->inst->GetReady(&g->rd);
    if (!s.ok()) {
      // Groups already holding a batch must still advance.
      for (Group* r : ready) (void)r->inst->Advance();
      return s.Annotate("group " + std::to_string(id));
    }
    g->installed = false;
    ready.push_back(g.get());
  }
  if (ready.empty()) return size_t{0};
  // 1. Persist, 2. send, 3. apply, 4. advance — in this order: a message
  // may promise that its sender stored what it acknowledges.
  Status s = Persist(ready);
  if (s.ok()) {
    for (Group* g : ready) {
      for (const MessageView& m : g->rd.messages) {
        send_(m.to, g->opts.group_id, m.data);
      }
    }
    s = Apply(ready);
  }
  for (Group* g : ready) {
    Status a = g->inst->Advance();
    if (s.ok() && !a.ok()) s = a;
  }
  SB_RETURN_IF_ERROR(s);
  for (Group* g : ready) SB_RETURN_IF_ERROR(MaybeCompact(g));
  return ready.size();
}

Status ConsensusDriver::Persist(std::vector<Group*>& ready) {
  auto batch = storage_->NewBatch();
  if (!batch.ok()) return batch.status();
  bool sync = false;
  for (Group* g : ready) {
    const ConsensusReady& rd = g->rd;
    if (rd.snapshot.has_value()) {
      const SnapshotChunkView& c = *rd.snapshot;
      if (c.done) {
        // Install: the state machine takes the snapshot, the log goes, in
        // the same batch as the rest of this cycle.
        auto data = g->log->AssembleIncoming(c);
        if (!data.ok()) return data.status();
        SB_RETURN_IF_ERROR(g->sm->Restore(c.index, *data, &*batch));
        uint64_t through = 0;
        uint64_t first = 0, last = 0;
        SB_RETURN_IF_ERROR(g->log->Range(&first, &last));
        through = std::max(last, c.index);
        SB_RETURN_IF_ERROR(
            g->log->AddSnapshot(c.index, c.meta, *data, through, &*batch));
        SB_RETURN_IF_ERROR(g->log->AddApplied(c.index, &*batch));
        g->installed = true;
      } else {
        SB_RETURN_IF_ERROR(g->log->AddChunk(c, &*batch));
      }
    }
    SB_RETURN_IF_ERROR(g->log->AddEntries(rd.entries, &*batch));
    if (!rd.hard_state.empty()) {
      SB_RETURN_IF_ERROR(g->log->AddHardState(rd.hard_state, &*batch));
    }
    sync = sync || rd.must_sync;
  }
  if (batch->Count() > 0) {
    SB_RETURN_IF_ERROR(storage_->Write(*batch, sync));
  }
  for (Group* g : ready) {
    if (g->installed) {
      const SnapshotChunkView& c = *g->rd.snapshot;
      uint64_t first = 0, last = 0;
      (void)g->log->Range(&first, &last);
      g->log->NoteSnapshot(c.index, std::max(last, c.index));
      g->log->NoteApplied(c.index);
    }
    g->log->NoteEntries(g->rd.entries);
    if (!g->rd.hard_state.empty()) g->log->NoteHardState(g->rd.hard_state);
  }
  return Status::OK();
}

Status ConsensusDriver::Apply(std::vector<Group*>& ready) {
  auto batch = storage_->NewBatch();
  if (!batch.ok()) return batch.status();
  for (Group* g : ready) {
    if (g->rd.committed.empty()) continue;
    for (const EntryView& e : g->rd.committed) {
      SB_RETURN_IF_ERROR(
          g->sm->Apply(e, &*batch)
              .Annotate("group " + std::to_string(g->opts.group_id) +
                        " applying index " + std::to_string(e.index)));
    }
    SB_RETURN_IF_ERROR(
        g->log->AddApplied(g->rd.committed.back().index, &*batch));
  }
  if (batch->Count() > 0) SB_RETURN_IF_ERROR(storage_->Write(*batch, false));
  for (Group* g : ready) {
    if (!g->rd.committed.empty()) {
      g->log->NoteApplied(g->rd.committed.back().index);
    }
    for (const ReadStateView& r : g->rd.reads) {
      g->sm->OnReadIndex(r.context, r.index);
    }
  }
  return Status::OK();
}

Status ConsensusDriver::MaybeCompact(Group* g) {
  uint64_t every = g->opts.snapshot_every;
  uint64_t applied = g->log->applied();
  if (every == 0 || applied < g->log->snapshot_index() + every) {
    return Status::OK();
  }
  auto data = g->sm->Snapshot();
  if (!data.ok()) return data.status();
  auto meta = g->inst->Compact(applied);
  if (!meta.ok()) return meta.status();
  auto batch = storage_->NewBatch();
  if (!batch.ok()) return batch.status();
  SB_RETURN_IF_ERROR(
      g->log->AddSnapshot(applied, *meta, *data, applied, &*batch));
  // Atomic, so no sync is needed: after a crash either the old snapshot
  // with its log or the new one is there.
  SB_RETURN_IF_ERROR(storage_->Write(*batch, false));
  g->log->NoteSnapshot(applied, applied);
  return Status::OK();
}

}  // namespace sb
