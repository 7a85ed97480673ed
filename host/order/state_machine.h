// host/order/state_machine.h — an order's replicated state: the shards it
// owns and their client sessions, kept in the node's storage plugin.
//
// OrderStateMachine is the GroupStateMachine (host/consensus/driver.h) of an
// order. The driver feeds it committed entries; each is a Command
// (command.h) whose data writes go into the driver's batch, committed
// together with the applied index. Nothing of the data set lives on the
// heap: every read goes to storage (through a small overlay of this cycle's
// not yet written writes, see below), so data sets larger than memory
// work. Only the session table's changes since the last checkpoint are
// held in memory (bounded, see Session checkpoints).
//
// Storage layout (one set of keyspaces per order, <g> = group id in
// decimal; shard = 2 bytes big-endian, client = 8 bytes big-endian):
//
//   order.<g>.data      shard | user key            -> value
//   order.<g>.sessions  shard | client              -> last sequence (8B) |
//                                                      last seen ms (8B) |
//                                                      its result (command.h)
//   order.<g>.lru       shard | index time (8B) | client -> empty
//                       (the sessions of a shard, oldest first; index
//                       time = last seen rounded up, see below)
//   order.<g>.meta      'a'                          -> applied index (8B)
//                       'c'                          -> checkpoint index (8B)
//                       'n' | shard                  -> sessions in shard (8B)
//                       'r' | index (8B)             -> result of the write
//                                                       at index (not a put)
//                       'v'                          -> format (8B), 3
//
// Because every key starts with its shard, one shard's data and sessions
// are each one key range: they travel together (migration) and a snapshot
// is a scan of four keyspaces.
//
// Sessions (docs/orders.md has the rules): a write with client id C and
// sequence S is applied at most once. The session remembers C's last S and
// its result. S equal to the stored one answers the stored result; lower is
// kStaleSequence; with no session in the shard the write applies and opens
// one (sessions are per shard; sequences per client). A session
// expires when a command of its shard carries a herald timestamp past its
// last-seen time + session_expiry_ms, and a shard holds at most
// max_sessions_per_shard sessions (the least recently seen is evicted).
// Both happen at apply time from log contents only, so every replica keeps
// the same sessions.
//
// The session index orders sessions by their last-seen time rounded up to
// a multiple of the index granularity (session_expiry_ms / 16, between
// 1 ms and 1 s), so a client writing often rewrites its index key once per
// granule rather than on every write. Expiry compares that rounded time:
// a session lives at least session_expiry_ms past its last write and at
// most one granule more; eviction takes the oldest granule first, and
// within one granule the smallest client id. Stores written with exact
// times (format 1) are refused at open: the two formats expire sessions at
// different moments, so replicas must not mix them.
//
// Batch overlay: the driver applies a cycle's entries into one batch and
// writes it afterwards, so a later entry of the same cycle must see the
// earlier ones' writes. The state machine keeps those writes in a small
// overlay (bounded by one cycle's entries). When the driver reports the
// batch written (OnWritten), the overlay's session-table changes move to
// the delta and the rest is forgotten; when an index is applied again (the
// batch holding it was never written), all of it is forgotten.
//
// Session checkpoints: data is written with every batch, but the session
// table (sessions, their index, the per-shard counts) is not. Its changes
// stay in memory (the delta) and are written all at once at a checkpoint,
// which records its index ('c'): a checkpoint comes every
// checkpoint_entries applied entries, when the delta holds
// checkpoint_keys keys or checkpoint_bytes bytes, and before every
// snapshot is read. So storage
// holds the data as of the applied index and the session table as of the
// checkpoint. A client writing often rewrites its session in memory only,
// instead of once per write in storage.
//
// After a restart the driver replays the log from the checkpoint to the
// applied index (ReplayFrom, Replay): each entry goes through the same
// session rules as when it was applied (expiry, duplicate, stale, eviction)
// but changes no data. What the session remembers is the write's result:
// a put's result is its index; any other write's result cannot be
// recomputed from the data once later writes changed it, so applying it
// stores its result ('r' | index) with the data, and a checkpoint deletes
// those up to its index. The log is never compacted past a checkpoint:
// a snapshot checkpoints first. A store of format 2 (session table
// written with every batch) is a checkpoint at its applied index, and is
// upgraded to format 3 at open.
//
// Session cache: every write reads its client's session. Sessions written
// at a checkpoint go into a cache of what storage holds (at most
// kMaxCachedSessions; cleared when full and on restore), so the next
// write of the same client reads memory, not storage.
//
// Thread safety: Apply, Replay, Checkpoint, Snapshot*, Restore* and
// OnWritten run on the driver's thread. Get, Owns and results() may be called
// from any thread (Get reads storage directly: it sees written batches only).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "host/config/config.h"
#include "host/consensus/driver.h"
#include "host/order/apply_results.h"
#include "host/order/command.h"
#include "host/plugin/storage.h"

namespace sb::order {

struct OrderOptions {
  uint64_t group_id = 0;
  uint32_t shards = 64;                  // [cluster] shards, 1..65536
  std::vector<uint16_t> owned;           // shards this order serves (static)
  uint64_t session_expiry_ms = 600'000;  // [cluster] session_expiry_ms
  uint64_t max_sessions_per_shard = 100'000;
  // Expired sessions removed per applied command, at most (bounds the work
  // of one apply; expiry catches up over later commands).
  uint32_t max_expirations_per_apply = 16;
  // Session checkpoints: after this many applied entries (bounds the log a
  // restart replays), or once the delta holds this many keys or bytes
  // (bounds its memory: a session holds its write's result, a
  // compare-and-set's prior value included), whichever comes first.
  uint64_t checkpoint_entries = 100'000;
  uint64_t checkpoint_keys = 1 << 16;
  uint64_t checkpoint_bytes = 64ull << 20;  // keys and values held
};

// The options of order `group_id` owning `owned`, from the node's
// [cluster] section (shards, session_expiry_ms, max_sessions_per_shard).
OrderOptions OrderOptionsFor(const ClusterOptions& cluster, uint64_t group_id,
                             std::vector<uint16_t> owned);

// An order's consensus group compacts per [compaction]: log_entries into
// snapshot_every, log_bytes into snapshot_bytes.
void SetCompaction(const CompactionOptions& compaction, GroupOptions* group);

class OrderStateMachine;

// A streaming reader of an order's state at one point: a storage Snapshot
// and iterators over the order's keyspaces. Each Next() returns one chunk
// of at most max_bytes (a single record larger than max_bytes is sent
// alone), so no whole-state blob is ever built. Chunks are cut at record
// boundaries and must be restored in order.
class SnapshotSource : public StateReader {
 public:
  ~SnapshotSource() override;
  // The applied index the snapshot covers.
  uint64_t index() const override { return index_; }
  // The next chunk; *done is set with the last one.
  StatusOr<std::string> Next(size_t max_bytes, bool* done) override;

 private:
  friend class OrderStateMachine;
  SnapshotSource() = default;
  const Storage* snap_storage_ = nullptr;
  std::optional<Snapshot> snap_;
  std::vector<uint32_t> keyspaces_;
  size_t table_ = 0;
  std::optional<Iterator> it_;
  uint64_t index_ = 0;
  uint64_t records_ = 0;
  bool header_sent_ = false;
  bool finished_ = false;
};

class OrderStateMachine : public GroupStateMachine {
 public:
  // Opens (creating) the order's keyspaces. `storage` must outlive it.
  static StatusOr<std::unique_ptr<OrderStateMachine>> Open(
      Storage* storage, const OrderOptions& options);

  // --- GroupStateMachine. ---
  Status Apply(const EntryView& entry, WriteBatch* batch) override;
  // Stores the applied index (once per batch), and a checkpoint when one
  // is due.
  Status FinishApply(uint64_t applied, WriteBatch* batch) override;
  // After a restart: the entry after the stored checkpoint, if the applied
  // index is past it (0 otherwise); Replay takes the entries from there
  // through the applied index, in order, before anything is applied.
  uint64_t ReplayFrom() const override;
  Status Replay(const EntryView& entry) override;
  // Checkpoints first, then a SnapshotSource (streaming).
  StatusOr<std::unique_ptr<StateReader>> OpenSnapshot() override;
  // Restores one chunk (in order). Chunks may be cut anywhere, not only
  // at record boundaries (at most one partial record is carried to the
  // next chunk). The first chunk clears the order's keyspaces
  // (delete-range) before its records; `last` finishes the restore (checks
  // the record count, sets the applied index).
  Status RestoreChunk(uint64_t index, bool first, bool last,
                      std::string_view chunk, WriteBatch* batch) override;

  // --- Streaming snapshots. ---
  StatusOr<std::unique_ptr<SnapshotSource>> NewSnapshotSource();
  // The whole stream in one string, and its restore in one call: for tests
  // and tools on small states only (the driver streams).
  StatusOr<std::string> Snapshot();
  Status Restore(uint64_t index, std::string_view data, WriteBatch* batch);

  // --- Reads (from written state; linearizable when the caller waited for
  // a ReadIndex to be applied). NotFound if absent. ---
  Status Get(uint16_t shard, std::string_view key, std::string* value) const;
  bool Owns(uint16_t shard) const;
  uint32_t shards() const { return opts_.shards; }
  // The applied index as written to storage.
  StatusOr<uint64_t> StoredAppliedIndex() const;
  // Writes the session table's changes held in memory: a checkpoint at the
  // applied index. Between batches only (Busy while applied
  // entries wait for their batch to be written).
  Status Checkpoint();
  // The index of the last checkpoint written.
  uint64_t checkpoint_index() const { return checkpoint_index_; }

  ApplyResults& results() { return results_; }
  // Driver thread: read_index answers go to `fn` (the order's Herald).
  void SetReadIndexHandler(std::function<void(std::string_view, uint64_t)> fn) {
    read_index_handler_ = std::move(fn);
  }
  void OnReadIndex(std::string_view context, uint64_t index) override {
    if (read_index_handler_) read_index_handler_(context, index);
  }

  void OnWritten(uint64_t applied) override;

  // Keyspace ids, for tests and tools: data, sessions, lru, meta.
  std::vector<uint32_t> keyspaces() const;
  // The format this build writes (meta 'v'); it also opens format 2.
  static constexpr uint64_t kFormat = 3;
  // Session cache bounds (entries, and bytes of keys and values).
  static constexpr size_t kMaxCachedSessions = 1 << 16;
  static constexpr size_t kMaxCachedSessionBytes = 64 << 20;

 private:
  enum Table : size_t { kData = 0, kSessions = 1, kLru = 2, kMeta = 3 };
  static constexpr size_t kTables = 4;
  struct Session;

  OrderStateMachine(Storage* storage, OrderOptions options);

  // Whether writes of `key` in `t` belong to the session table (kept in
  // the delta until a checkpoint) rather than going into the batch.
  static bool Deferred(Table t, std::string_view key);
  // What the overlay, or else the delta, holds for `key`: null if neither
  // has it, else the value (nullopt: deleted).
  const std::optional<std::string>* Pending(Table t,
                                            const std::string& key) const;
  // Adds the session table's pending changes (delta and overlay), the
  // checkpoint index and the removal of result records to `batch`.
  Status AddCheckpoint(uint64_t applied, WriteBatch* batch);
  // The checkpoint at `index` was written: the delta is in storage now.
  void NoteCheckpoint(uint64_t index);
  // Moves the overlay's session-table writes into the delta and empties
  // the overlay (its batch was written, or it holds a replayed entry).
  void KeepOverlay();

  // Storage access through this cycle's overlay (and the delta).
  Status Read(Table t, std::string_view key, std::string* value) const;
  Status Write(Table t, std::string_view key, std::string_view value,
               WriteBatch* batch);
  Status Erase(Table t, std::string_view key, WriteBatch* batch);
  // The smallest live key starting with `prefix` (and greater than
  // `after`, if given); NotFound if none.
  Status First(Table t, std::string_view prefix, std::string* key,
               const std::string* after = nullptr) const;
  void ForgetOverlayIfReapplied(uint64_t index);
  // Checks the stored format (writes it into an empty store).
  Status CheckFormat();
  // The session-index time of a session last seen at `seen_ms`.
  uint64_t IndexTime(uint64_t seen_ms) const;
  // Forgets every session-index floor (storage changed behind them).
  void ForgetLruFloors();

  // Applies `c` at `index`. Replaying (batch null), only the session table
  // changes, with the result the entry had when it was applied.
  StatusOr<CommandResult> Execute(const Command& c, uint64_t index,
                                  WriteBatch* batch);
  // The result of the write at `index` stored when it was applied.
  StatusOr<CommandResult> StoredResult(uint64_t index) const;
  Status ExpireSessions(uint16_t shard, uint64_t now_ms, WriteBatch* batch);
  Status RemoveSession(uint16_t shard, uint64_t client, uint64_t index_time,
                       WriteBatch* batch);
  Status AddToSessionCount(uint16_t shard, int64_t delta, uint64_t* count,
                           WriteBatch* batch);
  Status StoreSession(const Command& c, const Session* old,
                      const CommandResult& r, WriteBatch* batch);

  Storage* storage_;
  OrderOptions opts_;
  std::vector<bool> owned_;
  uint32_t ks_[kTables] = {};
  std::map<std::string, std::optional<std::string>> overlay_[kTables];
  uint64_t overlay_index_ = 0;  // newest index whose writes are in overlay_
  // Session-table changes of written batches since the last checkpoint
  // (nullopt: deleted); the overlay sits above it.
  std::map<std::string, std::optional<std::string>> delta_[kTables];
  uint64_t delta_bytes_ = 0;       // keys and values moved into delta_ (bound)
  uint64_t checkpoint_index_ = 0;  // the stored 'c'
  uint64_t checkpoint_pending_ = 0;  // a checkpoint in the unwritten batch
  uint64_t stored_applied_ = 0;      // applied index at open (for replay)
  uint64_t index_granule_ms_ = 1;
  // Session key -> stored session value, for sessions written at a
  // checkpoint (the delta and the overlay sit above it).
  std::unordered_map<std::string, std::string> session_cache_;
  size_t session_cache_bytes_ = 0;
  // Per shard, a session-index key no live key of the shard sorts below
  // (empty: unknown). First() on the session index seeks from there instead
  // of from the shard's prefix: every session write deletes the client's
  // previous index key, and without the floor each apply would step over
  // all those deletion markers again (the memtable holds them until a
  // flush). Lowered by every index write, raised to what First() finds,
  // forgotten when an unwritten overlay or a snapshot replaces the state.
  mutable std::vector<std::string> lru_floor_;
  // Restore in progress: records seen so far, a record cut by the chunk
  // boundary, whether header and trailer were seen.
  uint64_t restore_records_ = 0;
  std::string restore_carry_;
  bool restore_header_ = false;
  bool restore_trailer_ = false;
  ApplyResults results_;
  std::function<void(std::string_view, uint64_t)> read_index_handler_;
};

}  // namespace sb::order
