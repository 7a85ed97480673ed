// host/consensus/driver.h — runs the consensus groups of one node.
//
// ConsensusDriver owns one ConsensusInstance per group hosted on this node,
// all sharing the node's storage plugin. It routes incoming messages by
// group id, ticks every group, and runs the ABI's host loop for all groups
// at once, once per cycle:
//
//   1. persist: every group's snapshot chunk, entries and hard state go into
//      ONE write batch, written once (synced if any group asked);
//   2. send: every group's messages, through the SendFn;
//   3. apply: committed entries go to each group's state machine, whose
//      writes share one batch with the new applied indexes (so a crash never
//      separates data from the index it covers), written unsynced;
//   4. advance every group; then compact groups whose log grew past
//      `snapshot_every` entries or `snapshot_bytes` bytes since their last
//      snapshot.
//
// Snapshots stream: compaction reads the state machine's StateReader chunk
// by chunk into stored pieces (one batch per piece, then one batch that
// makes them current); an incoming snapshot is stored chunk by chunk as it
// arrives, and once complete is fed to the state machine piece by piece
// (one batch each) under an install marker that a restart resumes from.
// Memory holds one chunk at a time, never the whole state.
//
// Thread safety: none. One thread owns the driver and calls Tick, Deliver,
// RunCycle and the group's ConsensusInstance methods; the SendFn is called
// from RunCycle on that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "host/consensus/consensus.h"
#include "host/consensus/storage_log.h"
#include "host/plugin/storage.h"

namespace sb {

// A reader of a group's state at one applied index, in chunks, so that no
// whole-state blob is ever built. Used on the driver's thread only.
class StateReader {
 public:
  virtual ~StateReader() = default;
  // The applied index the state is as of.
  virtual uint64_t index() const = 0;
  // The next chunk, of at most `max_bytes` (one indivisible item larger
  // than that may come alone); *done is set with the last chunk.
  virtual StatusOr<std::string> Next(size_t max_bytes, bool* done) = 0;
};

// A group's replicated state machine, as the driver sees it.
class GroupStateMachine {
 public:
  virtual ~GroupStateMachine() = default;
  // Applies one committed entry. Normal entries carry what was proposed;
  // protocol entries only advance the applied index (no-op allowed). Writes
  // go into `batch`, committed together with the applied index.
  virtual Status Apply(const EntryView& entry, WriteBatch* batch) = 0;
  // After the Apply calls of one batch: `applied` is the last entry applied
  // into `batch`. What depends only on where applying stopped (a stored
  // applied index) is written here, once per batch rather than per entry.
  virtual Status FinishApply(uint64_t applied, WriteBatch* batch) {
    (void)applied;
    (void)batch;
    return Status::OK();
  }
  // After a restart, before anything is applied: a state machine that
  // keeps part of its state in memory between its own checkpoints names
  // the first entry whose effects storage may lack (0: none), and the
  // driver hands it the entries from there through the applied index, in
  // order, to Replay. Their writes are in storage already; Replay rebuilds
  // only what memory held. The log is never compacted past that entry:
  // OpenSnapshot must leave storage complete as of the snapshot's index.
  virtual uint64_t ReplayFrom() const { return 0; }
  virtual Status Replay(const EntryView& entry) {
    (void)entry;
    return Status::OK();
  }
  // A reader of the state as of the last applied entry whose batch was
  // written (for compaction; followers that fell behind get what it read).
  virtual StatusOr<std::unique_ptr<StateReader>> OpenSnapshot() = 0;
  // Replaces the state with a snapshot read on another node at `index`,
  // one chunk at a time, in order. Chunks are cut anywhere (by bytes, not
  // at the reader's chunk boundaries). `first` starts over (the state
  // machine discards its current state in that batch); `last` finishes.
  // Each chunk's writes go into `batch`; the driver writes the batches of
  // a restore one by one and marks the install in progress, so a crash in
  // the middle restarts the install from the stored chunks.
  virtual Status RestoreChunk(uint64_t index, bool first, bool last,
                              std::string_view chunk, WriteBatch* batch) = 0;
  // The batch holding every entry through `applied` was written (called
  // after each Apply batch and after an install). Until then the entries'
  // writes are only in the batch: a state machine that caches what storage
  // holds may take them into its cache now, and results of those entries
  // may be released to clients.
  virtual void OnWritten(uint64_t applied) { (void)applied; }
  // A read_index request completed: reads issued before it may be served
  // once `index` is applied.
  virtual void OnReadIndex(std::string_view context, uint64_t index) {
    (void)context;
    (void)index;
  }
};

struct GroupOptions {
  uint64_t group_id = 0;
  uint64_t seed = 0;
  std::vector<PluginConfigEntry> config;   // the consensus plugin's section
  std::vector<uint64_t> bootstrap_voters;  // only for a brand-new group
  // Compaction: snapshot once this many entries were applied since the
  // last snapshot ([compaction] log_entries), or once the stored log holds
  // about this many bytes ([compaction] log_bytes). 0: that threshold off.
  uint64_t snapshot_every = 0;
  uint64_t snapshot_bytes = 0;
  // A compaction stores the state in pieces of this size, one piece per
  // driver cycle (see RunCycle), so that it never holds the driver's
  // thread for longer than one piece takes.
  uint64_t snapshot_piece_bytes = 1 << 18;
};

class ConsensusDriver {
 public:
  using SendFn = std::function<void(uint64_t to_node, uint64_t group,
                                    std::string_view message)>;

  // `storage` and `host` (may be null) must outlive the driver; `plugin` is
  // a consensus plugin from PluginLoader.
  ConsensusDriver(uint64_t node_id, Storage* storage,
                  std::shared_ptr<PluginLibrary> plugin,
                  const sb_host_services* host, SendFn send);
  ~ConsensusDriver();

  // Opens the consensus keyspaces. Call once before AddGroup.
  Status Init();
  // Starts hosting a group: restores it from storage (or bootstraps it).
  // `sm` must outlive the group.
  Status AddGroup(const GroupOptions& opts, GroupStateMachine* sm);
  // The group's instance (propose, read_index, membership, status), or null.
  ConsensusInstance* group(uint64_t group_id);
  std::vector<uint64_t> groups() const;

  // A message for `group` arrived from the network (bytes borrowed).
  // NotFound for a group not hosted here.
  Status Deliver(uint64_t group, std::string_view message);
  void Tick();
  // One cycle over every group with work. Returns how many groups had work.
  // Every call (with work or not) also copies one piece of each
  // compaction in progress; a compaction that is not done yet does not
  // count as work.
  StatusOr<size_t> RunCycle();
  // Whether a compaction of `group_id` is in progress (for tests).
  bool compacting(uint64_t group_id) const;

 private:
  struct Group;
  Status Persist(std::vector<Group*>& ready);
  Status Apply(std::vector<Group*>& ready);
  // Starts a compaction when a threshold is reached: the state machine's
  // reader is opened at the applied index, its pieces are copied by
  // CompactStep, one per cycle.
  Status MaybeCompact(Group* g);
  // Copies the next piece of g's compaction; after the last one the plugin
  // compacts and one batch makes the snapshot current. A compaction whose
  // base snapshot was replaced meanwhile (an install) is dropped.
  Status CompactStep(Group* g);
  // Feeds the stored incoming snapshot to the state machine; the final
  // writes go into `batch` (the caller writes it, then NoteInstalled).
  Status RunInstall(Group* g, uint64_t index, std::string_view meta,
                    WriteBatch* batch);
  void NoteInstalled(Group* g, uint64_t index);
  // At AddGroup: the entries the state machine asks for (ReplayFrom)
  // through the applied index, from the log to its Replay.
  Status Replay(Group* g);

  const uint64_t node_id_;
  Storage* storage_;
  std::shared_ptr<PluginLibrary> plugin_;
  const sb_host_services* host_;
  SendFn send_;
  ConsensusKeyspaces ks_;
  bool initialized_ = false;
  std::map<uint64_t, std::unique_ptr<Group>> groups_;
};

}  // namespace sb
