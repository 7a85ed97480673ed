// host/consensus/storage_log.h — a consensus group's log, hard state and
// snapshot, kept in the node's storage plugin.
//
// StorageLog is the ConsensusLog (consensus.h) a plugin reads back, backed
// by sb::Storage, plus the writes the driver adds to its per-cycle batch.
// Layout (every key starts with the group id, 8 bytes big-endian, so groups
// share keyspaces and one group is one key range):
//
//   consensus.log       group | index (8B BE)         -> type (1B) |
//                                                        meta length (4B) |
//                                                        meta | payload
//   consensus.state     group | 'h'                   -> hard state
//                       group | 'a'                   -> applied index (8B)
//                       group | 'm'                   -> snapshot index (8B)
//                                                        | snapshot meta
//                       group | 'r'                   -> install in progress:
//                                                        index (8B) | meta
//   consensus.snapshot  group | 's' | index (8B BE)
//                             | offset (8B BE)        -> snapshot at index,
//                                                        in pieces of any size
//                       group | 'i' | offset (8B BE)  -> chunks received so
//                                                        far (incoming)
//
// Pieces of a snapshot are written in their own batches before the batch
// that makes them current ('m'); that batch deletes every other index's
// pieces, so pieces left by a crash in the middle go with the next one.
//
// The cached index range reflects what is written: the driver calls the
// Note* methods only after the batch holding the matching writes was
// written. Thread safety: none; owned by the driver's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "host/consensus/consensus.h"
#include "host/plugin/storage.h"

namespace sb {

struct ConsensusKeyspaces {
  uint32_t log = 0;
  uint32_t state = 0;
  uint32_t snapshot = 0;
  static StatusOr<ConsensusKeyspaces> Open(Storage* storage);
};

class StorageLog : public ConsensusLog {
 public:
  StorageLog(Storage* storage, ConsensusKeyspaces ks, uint64_t group);

  // Reads the stored range, hard state, applied index and snapshot index.
  Status Load();
  const std::string& hard_state() const { return hard_state_; }
  uint64_t applied() const { return applied_; }
  uint64_t snapshot_index() const { return snap_index_; }

  // --- Writes added to a batch (visible once the batch is written). ---
  // Entries to append; deletes the log from entries[0].index on first.
  Status AddEntries(const std::vector<EntryView>& entries, WriteBatch* b);
  Status AddHardState(std::string_view hs, WriteBatch* b);
  Status AddApplied(uint64_t index, WriteBatch* b);
  // Stores a chunk of an incoming snapshot.
  Status AddChunk(const SnapshotChunkView& chunk, WriteBatch* b);
  // Calls fn(offset, data, last) for each stored incoming chunk, in order;
  // Corruption on a gap.
  Status ForEachIncoming(
      const std::function<Status(uint64_t offset, std::string_view data,
                                 bool last)>& fn);
  // Marks (or clears, with index 0) an install of the incoming snapshot in
  // progress.
  Status AddInstallMarker(uint64_t index, std::string_view meta, WriteBatch* b);
  // The install in progress, if any (read by Load): index 0 if none.
  uint64_t install_index() const { return install_index_; }
  const std::string& install_meta() const { return install_meta_; }
  // One piece of the snapshot at `index`, starting at `offset`.
  Status AddSnapshotPiece(uint64_t index, uint64_t offset,
                          std::string_view data, WriteBatch* b);
  // Makes the pieces at `index` (`size` bytes in all) the current snapshot
  // with `meta`; deletes every other snapshot's pieces, the incoming
  // chunks, the install marker, and the log through `log_through`.
  Status AddSnapshotCommit(uint64_t index, std::string_view meta, uint64_t size,
                           uint64_t log_through, WriteBatch* b);
  // Approximate bytes of the stored log.
  uint64_t log_bytes() const { return log_bytes_; }

  // --- Cache updates after a successful write. ---
  void NoteEntries(const std::vector<EntryView>& entries);
  void NoteHardState(std::string_view hs) { hard_state_ = std::string(hs); }
  void NoteSnapshot(uint64_t index, uint64_t log_through);
  void NoteApplied(uint64_t index) { applied_ = index; }

  // --- ConsensusLog. ---
  Status Range(uint64_t* first, uint64_t* last) override;
  Status Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                 const std::function<void(const LogEntry&)>& fn) override;
  Status SnapshotMeta(uint64_t* index, std::string* meta) override;
  Status SnapshotRead(uint64_t index, uint64_t offset, uint64_t max_bytes,
                      std::string* data, bool* done) override;

 private:
  std::string LogKey(uint64_t index) const;
  std::string StateKey(char tag) const;
  std::string SnapKey(char kind, uint64_t offset) const;
  std::string PieceKey(uint64_t index, uint64_t offset) const;

  Storage* storage_;
  ConsensusKeyspaces ks_;
  uint64_t group_;
  uint64_t snap_index_ = 0;
  uint64_t last_ = 0;
  uint64_t snap_size_ = 0;
  uint64_t snap_size_pending_ = 0;  // size written by AddSnapshot
  uint64_t applied_ = 0;
  uint64_t log_bytes_ = 0;
  uint64_t install_index_ = 0;
  std::string install_meta_;
  std::string hard_state_;
};

}  // namespace sb
