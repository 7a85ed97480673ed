// host/consensus/driver.cc — see driver.h.
#include "host/consensus/driver.h"

#include <algorithm>
#include <optional>

namespace sb {
namespace {

// Bytes of log entries read at a time when replaying.
constexpr size_t kReplayReadBytes = 1 << 20;

}  // namespace

struct ConsensusDriver::Group {
  GroupOptions opts;
  GroupStateMachine* sm = nullptr;
  std::unique_ptr<StorageLog> log;
  std::unique_ptr<ConsensusInstance> inst;
  ConsensusReady rd;       // the outstanding batch during a cycle
  bool installed = false;  // rd.snapshot was the last chunk, installed
  // A compaction in progress: the reader, the index it covers, the bytes
  // stored so far, and the snapshot it will replace.
  struct Compaction {
    std::unique_ptr<StateReader> reader;
    uint64_t index = 0;
    uint64_t offset = 0;
    uint64_t base = 0;
  };
  std::optional<Compaction> compaction;
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
  if (g->log->install_index() != 0) {
    // A crash interrupted a snapshot install: the state machine may hold
    // part of it. Every chunk was stored before the install began, so it
    // starts over from them, before the plugin sees the group.
    auto batch = storage_->NewBatch();
    if (!batch.ok()) return batch.status();
    const uint64_t index = g->log->install_index();
    const std::string meta = g->log->install_meta();
    SB_RETURN_IF_ERROR(RunInstall(g.get(), index, meta, &*batch));
    SB_RETURN_IF_ERROR(storage_->Write(*batch, true));
    NoteInstalled(g.get(), index);
  }
  SB_RETURN_IF_ERROR(Replay(g.get()));
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
  if (ready.empty()) {
    for (auto& [id, g] : groups_) SB_RETURN_IF_ERROR(CompactStep(g.get()));
    return size_t{0};
  }
  // 0. Early messages (a leader's appends: they promise nothing about this
  // batch) leave first, so followers write while this node does. Then
  // 1. persist, 2. send, 3. apply, 4. advance — in this order: a message
  // may promise that its sender stored what it acknowledges. (The plugin
  // counts its own copy only after Advance.)
  for (Group* g : ready) {
    for (const MessageView& m : g->rd.early_messages) {
      send_(m.to, g->opts.group_id, m.data);
    }
  }
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
  for (auto& [id, g] : groups_) SB_RETURN_IF_ERROR(CompactStep(g.get()));
  return ready.size();
}

bool ConsensusDriver::compacting(uint64_t group_id) const {
  auto it = groups_.find(group_id);
  return it != groups_.end() && it->second->compaction.has_value();
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
        // Install. The last chunk is stored like the others, together with
        // the install marker (so a crash from here on resumes the install
        // on restart); then the stored chunks are fed to the state machine
        // one batch each; the final writes (snapshot made current, log
        // dropped, applied index) join the rest of this cycle's batch.
        auto first = storage_->NewBatch();
        if (!first.ok()) return first.status();
        SB_RETURN_IF_ERROR(g->log->AddChunk(c, &*first));
        SB_RETURN_IF_ERROR(g->log->AddInstallMarker(c.index, c.meta, &*first));
        SB_RETURN_IF_ERROR(storage_->Write(*first, false));
        SB_RETURN_IF_ERROR(RunInstall(g, c.index, c.meta, &*batch));
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
    if (g->installed) NoteInstalled(g, g->rd.snapshot->index);
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
    const uint64_t applied = g->rd.committed.back().index;
    SB_RETURN_IF_ERROR(g->sm->FinishApply(applied, &*batch));
    SB_RETURN_IF_ERROR(g->log->AddApplied(applied, &*batch));
  }
  if (batch->Count() > 0) SB_RETURN_IF_ERROR(storage_->Write(*batch, false));
  for (Group* g : ready) {
    if (!g->rd.committed.empty()) {
      g->log->NoteApplied(g->rd.committed.back().index);
      g->sm->OnWritten(g->rd.committed.back().index);
    }
    for (const ReadStateView& r : g->rd.reads) {
      g->sm->OnReadIndex(r.context, r.index);
    }
  }
  return Status::OK();
}

Status ConsensusDriver::RunInstall(Group* g, uint64_t index,
                                   std::string_view meta, WriteBatch* batch) {
  uint64_t size = 0;
  Status s = g->log->ForEachIncoming(
      [&](uint64_t offset, std::string_view data, bool last) -> Status {
        // Each chunk goes to the state machine and becomes a piece of the
        // stored snapshot (what this node sends to others later). Chunks
        // before the last are written at once, in their own batch: memory
        // holds one chunk, never the whole state.
        WriteBatch* into = batch;
        std::optional<WriteBatch> own;
        if (!last) {
          auto b = storage_->NewBatch();
          if (!b.ok()) return b.status();
          own.emplace(std::move(b.value()));
          into = &*own;
        }
        SB_RETURN_IF_ERROR(
            g->sm->RestoreChunk(index, offset == 0, last, data, into));
        SB_RETURN_IF_ERROR(g->log->AddSnapshotPiece(index, offset, data, into));
        size = offset + data.size();
        if (own.has_value()) SB_RETURN_IF_ERROR(storage_->Write(*own, false));
        return Status::OK();
      });
  SB_RETURN_IF_ERROR(s.Annotate("installing snapshot at " +
                                std::to_string(index) + " in group " +
                                std::to_string(g->opts.group_id)));
  uint64_t first = 0, last = 0;
  SB_RETURN_IF_ERROR(g->log->Range(&first, &last));
  SB_RETURN_IF_ERROR(g->log->AddSnapshotCommit(index, meta, size,
                                               std::max(last, index), batch));
  return g->log->AddApplied(index, batch);
}

Status ConsensusDriver::Replay(Group* g) {
  const uint64_t from = g->sm->ReplayFrom();
  const uint64_t through = g->log->applied();
  if (from == 0 || from > through) return Status::OK();
  const std::string what = "group " + std::to_string(g->opts.group_id) +
                           " replaying [" + std::to_string(from) + ", " +
                           std::to_string(through) + "]";
  uint64_t first = 0, last = 0;
  SB_RETURN_IF_ERROR(g->log->Range(&first, &last));
  if (from < first || through > last) {
    return Status::Corruption(what + ": the log holds [" +
                              std::to_string(first) + ", " +
                              std::to_string(last) + "]");
  }
  for (uint64_t next = from; next <= through;) {
    const uint64_t before = next;
    Status replayed;
    SB_RETURN_IF_ERROR(g->log
                           ->Entries(next, through + 1, kReplayReadBytes,
                                     [&](const LogEntry& e) {
                                       if (!replayed.ok()) return;
                                       replayed = g->sm->Replay(EntryView{
                                           e.type, e.index, e.meta, e.data});
                                       next = e.index + 1;
                                     })
                           .Annotate(what));
    SB_RETURN_IF_ERROR(replayed.Annotate(what));
    if (next == before) return Status::Internal(what + ": no progress");
  }
  return Status::OK();
}

void ConsensusDriver::NoteInstalled(Group* g, uint64_t index) {
  uint64_t first = 0, last = 0;
  (void)g->log->Range(&first, &last);
  g->log->NoteSnapshot(index, std::max(last, index));
  g->log->NoteApplied(index);
  g->sm->OnWritten(index);
}

Status ConsensusDriver::MaybeCompact(Group* g) {
  if (g->compaction.has_value()) return Status::OK();
  const uint64_t every = g->opts.snapshot_every;
  const uint64_t bytes = g->opts.snapshot_bytes;
  const uint64_t applied = g->log->applied();
  if (applied <= g->log->snapshot_index()) return Status::OK();
  bool by_count = every != 0 && applied >= g->log->snapshot_index() + every;
  bool by_bytes = bytes != 0 && g->log->log_bytes() >= bytes;
  if (!by_count && !by_bytes) return Status::OK();
  auto reader = g->sm->OpenSnapshot();
  if (!reader.ok()) return reader.status();
  // The state machine's own view of what it applied is the snapshot index;
  // it matches the driver's applied index, written in the same batches.
  const uint64_t index = (*reader)->index();
  if (index != applied) {
    return Status::Internal("group " + std::to_string(g->opts.group_id) +
                            " state machine is at " + std::to_string(index) +
                            ", the log applied " + std::to_string(applied));
  }
  Group::Compaction c;
  c.reader = std::move(reader.value());
  c.index = index;
  c.base = g->log->snapshot_index();
  g->compaction = std::move(c);
  return Status::OK();
}

Status ConsensusDriver::CompactStep(Group* g) {
  if (!g->compaction.has_value()) return Status::OK();
  Group::Compaction& c = *g->compaction;
  if (g->log->snapshot_index() != c.base) {
    // An installed snapshot replaced the one this compaction would have
    // replaced: its pieces go with the next snapshot made current.
    g->compaction.reset();
    return Status::OK();
  }
  // 1. Pieces, one per cycle, each in its own batch, under the new index:
  // not current yet, so a crash here leaves the previous snapshot intact
  // (the next commit deletes these pieces). The reader reads a storage
  // snapshot: the state at c.index, whatever was applied since.
  const size_t piece = std::max<uint64_t>(1, g->opts.snapshot_piece_bytes);
  bool done = false;
  auto chunk = c.reader->Next(piece, &done);
  if (!chunk.ok()) {
    g->compaction.reset();
    return chunk.status();
  }
  if (!chunk->empty()) {
    auto b = storage_->NewBatch();
    if (!b.ok()) return b.status();
    SB_RETURN_IF_ERROR(
        g->log->AddSnapshotPiece(c.index, c.offset, *chunk, &*b));
    SB_RETURN_IF_ERROR(storage_->Write(*b, false));
    c.offset += chunk->size();
  }
  if (!done) return Status::OK();
  // 2. The plugin compacts; 3. one batch makes the snapshot current and
  // drops the log it covers. Atomic, so no sync is needed: after a crash
  // either the old snapshot with its log or the new one is there.
  const uint64_t index = c.index;
  const uint64_t size = c.offset;
  g->compaction.reset();
  auto meta = g->inst->Compact(index);
  if (!meta.ok()) return meta.status();
  auto batch = storage_->NewBatch();
  if (!batch.ok()) return batch.status();
  SB_RETURN_IF_ERROR(
      g->log->AddSnapshotCommit(index, *meta, size, index, &*batch));
  SB_RETURN_IF_ERROR(storage_->Write(*batch, false));
  g->log->NoteSnapshot(index, index);
  return Status::OK();
}

}  // namespace sb
