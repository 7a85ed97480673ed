// plugins/storage-mem/mem_store.h — the in-memory, multi-version engine
// behind storage-mem.
//
// MemStore is an ordered key-value store with named keyspaces kept entirely
// in memory. Every committed write batch gets the next sequence number; each
// key keeps a short list of versions (value or tombstone, ascending by
// sequence). A reader at sequence S sees, for every key, the newest version
// with seq <= S. Snapshots and iterators "pin" the sequence they read at;
// versions no pinned reader can see are pruned when the key is written again
// or when the oldest pin goes away (only keys that hold more than one version
// or a tombstone are revisited, not the whole store).
//
// Costs: a point read is O(log n + v) with v the versions kept for that key
// (1 when no reader is pinned); a batch is O(k log n) for k operations, plus
// O(r log n) for a delete-range over r live keys; iterator steps re-seek
// (O(log n)) and copy the current key and value.
//
// Thread safety: all public methods are safe to call concurrently. One
// reader/writer lock guards the data: readers share it, a batch holds it
// exclusively while it applies, which makes every batch atomic for every
// reader.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sbmem {

// True if `name` is a valid keyspace name: [A-Za-z0-9_.-]{1,64}.
bool ValidKeyspaceName(std::string_view name);

// One operation of a write batch.
struct Op {
  enum Type : uint8_t { kPut, kDelete, kDeleteRange };
  Type type;
  uint32_t keyspace;
  std::string key;    // kDeleteRange: begin
  std::string value;  // kDeleteRange: end (exclusive)
};

// A key and value copied out of the store.
struct Entry {
  std::string key;
  std::string value;
};

class MemStore {
 public:
  // Reads at kLatest see the newest version of every key, evaluated under
  // the same lock as the read (a sequence number taken earlier could name
  // versions a concurrent batch has already pruned).
  static constexpr uint64_t kLatest = UINT64_MAX;

  MemStore() = default;
  MemStore(const MemStore&) = delete;
  MemStore& operator=(const MemStore&) = delete;

  // Id of keyspace `name`, creating it if absent. Ids start at 1 and are
  // assigned in creation order. The name must already be validated.
  uint32_t Keyspace(std::string_view name);
  std::vector<std::string> KeyspaceNames() const;
  bool HasKeyspace(uint32_t id) const;

  // Registers a reader at the latest sequence and returns that sequence.
  // Every Pin must be matched by one Unpin with the returned value.
  uint64_t Pin();
  void Unpin(uint64_t seq);

  // Applies every operation atomically at a new sequence number. Keyspace
  // ids must be valid (checked when the operation entered the batch).
  void Apply(const std::vector<Op>& ops);

  // Calls `fn(value)` with the value of `key` visible at `seq`, under the
  // read lock. False if absent.
  template <typename Fn>
  bool Get(uint32_t ks, uint64_t seq, std::string_view key, Fn&& fn) const {
    std::shared_lock lock(mu_);
    const std::string* v = FindVisible(ks, seq, key);
    if (v == nullptr) return false;
    fn(*v);
    return true;
  }

  // The first visible key at `seq` that is >= target (> target when
  // !inclusive) and < upper (no upper limit when upper is null). Copies it
  // into *out.
  bool SeekForward(uint32_t ks, uint64_t seq, std::string_view target,
                   bool inclusive, const std::string* upper, Entry* out) const;
  // The last visible key at `seq` that is <= target (< target when
  // !inclusive; the very last key when target is null) and >= lower.
  bool SeekBackward(uint32_t ks, uint64_t seq, const std::string* target,
                    bool inclusive, std::string_view lower, Entry* out) const;

  // Sum of key and value sizes of the live keys in [begin, end) (end null:
  // to the end). O(keys in range).
  uint64_t ApproximateSize(uint32_t ks, std::string_view begin,
                           const std::string* end) const;

  // Calls `fn(keyspace_name, entries)` for every keyspace, in id order,
  // with every live entry at the latest sequence, under the read lock.
  template <typename Fn>
  void ForEachKeyspace(Fn&& fn) const {
    std::shared_lock lock(mu_);
    for (const auto& ks : keyspaces_) {
      std::vector<std::pair<std::string_view, std::string_view>> rows;
      rows.reserve(ks->rows.size());
      for (const auto& [key, versions] : ks->rows) {
        if (!versions.back().deleted) {
          rows.emplace_back(key, versions.back().value);
        }
      }
      fn(ks->name, rows);
    }
  }

 private:
  struct Version {
    uint64_t seq;
    bool deleted;
    std::string value;
  };
  using Versions = std::vector<Version>;
  using Rows = std::map<std::string, Versions, std::less<>>;
  struct Space {
    std::string name;
    Rows rows;
    // Keys holding more than one version or a tombstone: the only ones
    // pruning ever needs to revisit.
    std::set<std::string, std::less<>> prunable;
  };

  // Both need mu_ held (shared at least).
  Space* Find(uint32_t ks) const;
  const std::string* FindVisible(uint32_t ks, uint64_t seq,
                                 std::string_view key) const;
  static const Version* Visible(const Versions& versions, uint64_t seq);

  // Drops versions no pinned reader can see (keeps the newest one at or
  // below the oldest pin and all later ones); erases the key when only a
  // tombstone remains. mu_ held exclusively.
  void Prune(Space* space, Rows::iterator it, bool has_pin,
             uint64_t oldest_pin);
  // Prunes every prunable key of every keyspace. mu_ held exclusively.
  void PruneAll();
  // Oldest pinned sequence; false if none. Locks pins_mu_.
  bool OldestPin(uint64_t* seq) const;

  // Lock order: mu_ before pins_mu_.
  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<Space>> keyspaces_;  // id = index + 1
  uint64_t last_seq_ = 0;

  mutable std::mutex pins_mu_;
  std::multiset<uint64_t> pins_;
};

}  // namespace sbmem
