// tests/simulation/disk.h — a node's simulated disk and state machine.
//
// SimDisk holds what a node persists: hard state, log, snapshot (metadata +
// data), a partially received snapshot, and the state machine. Every write
// is visible at once but only durable after Sync(): Crash() throws away
// whatever was written since the last sync, as a power loss would. The host
// loop syncs when a ready batch says must_sync; state-machine writes are
// never synced on their own (like an applied index written without fsync).
// SimDisk is also the ConsensusLog the plugin reads back.
//
// The state machine (SmState) is a key-value map fed by entries "key=value",
// plus a running hash over every applied entry, so two nodes that applied
// the same prefix have equal hashes. Thread safety: none.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "host/consensus/consensus.h"

namespace sb::sim {

struct SmState {
  uint64_t applied = 0;
  uint64_t hash = 0;
  uint64_t normal_applied = 0;  // count of normal entries applied
  std::map<std::string, std::string> kv;

  // Applies one committed entry (index must be applied + 1).
  void Apply(uint64_t index, EntryType type, std::string_view data);
  std::string Serialize() const;
  bool Deserialize(std::string_view in);
};

struct DiskState {
  std::string hard_state;
  bool has_snapshot = false;
  uint64_t snap_index = 0;
  std::string snap_meta;
  std::string snap_data;
  std::deque<LogEntry> log;  // indexes snap_index + 1, ...
  std::string incoming;      // snapshot chunks received so far
  SmState sm;

  uint64_t last_index() const { return snap_index + log.size(); }
};

class SimDisk : public ConsensusLog {
 public:
  // --- Writes (visible now, durable after Sync). ---
  void SetHardState(std::string_view hs);
  // Deletes the log from entries[0].index on, then appends.
  void AppendEntries(const std::vector<EntryView>& entries);
  // Stores a snapshot chunk; false if it does not continue the partial one.
  bool WriteChunk(uint64_t offset, std::string_view data);
  // Installs the assembled incoming snapshot: replaces the state machine,
  // deletes the whole log. False if the data does not parse.
  bool InstallSnapshot(uint64_t index, std::string_view meta);
  // The host snapshotted its state machine at `index`: store it with `meta`
  // and drop log entries <= index.
  void TakeSnapshot(uint64_t index, std::string_view meta);
  // Applies committed entries to the state machine.
  void ApplyCommitted(const std::vector<EntryView>& entries);

  void Sync();
  void Crash();

  const DiskState& state() const { return cur_; }

  // --- ConsensusLog. ---
  Status Range(uint64_t* first, uint64_t* last) override;
  Status Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                 const std::function<void(const LogEntry&)>& fn) override;
  Status SnapshotMeta(uint64_t* index, std::string* meta) override;
  Status SnapshotRead(uint64_t index, uint64_t offset, uint64_t max_bytes,
                      std::string* data, bool* done) override;

 private:
  using Op = std::function<void(DiskState*)>;
  void Write(Op op);

  DiskState cur_;            // what reads see
  DiskState durable_;        // what survives a crash
  std::vector<Op> journal_;  // written since the last sync
};

}  // namespace sb::sim
