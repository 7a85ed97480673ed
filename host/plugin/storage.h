// host/plugin/storage.h — the host's C++ face of a storage plugin.
//
// sb::Storage wraps one open sb_storage instance (shardbearer/abi/storage.h)
// behind RAII types and sb::Status; nothing else in the host touches the raw
// storage ABI. What it offers is the storage kind's contract, unchanged:
// named keyspaces identified by ids, atomic write batches across keyspaces
// (durable before return with sync), consistent snapshots, bounded
// iterators, checkpoints, size estimates.
//
// Lifetimes are handled here, so callers cannot get them wrong:
//   - every object made from a Storage (WriteBatch, Snapshot, Iterator)
//     shares ownership of the open instance, which shares ownership of the
//     loaded plugin library: the instance is closed only after the last of
//     them is gone, and the .so is unloaded after that;
//   - an Iterator made on a Snapshot keeps that snapshot alive.
// So destroying a Storage while iterators are still open is safe: the
// instance closes when they are destroyed.
//
// Thread safety: a Storage, and a Snapshot, may be used by many threads at
// once (the plugin contract). A WriteBatch or an Iterator is used by one
// thread at a time. All types are move-only; a moved-from object may only
// be destroyed or assigned to.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/status.h"
#include "host/plugin/loader.h"
#include "shardbearer/abi/storage.h"

namespace sb {

namespace storage_internal {
struct Instance;
struct SnapshotHandle;
}  // namespace storage_internal

// The smallest key greater than every key starting with `prefix`: the
// prefix with trailing 0xff bytes dropped and its last byte incremented.
// Empty when there is none (the prefix is empty or all 0xff bytes), which
// as an upper bound means "unbounded".
std::string PrefixSuccessor(std::string_view prefix);

// A point-in-time view for Get and iterators. Released when destroyed (and
// when the last iterator made on it is gone).
class Snapshot {
 public:
  Snapshot(Snapshot&&) noexcept = default;
  Snapshot& operator=(Snapshot&&) noexcept = default;
  ~Snapshot();

 private:
  friend class Storage;
  explicit Snapshot(std::shared_ptr<storage_internal::SnapshotHandle> h);
  std::shared_ptr<storage_internal::SnapshotHandle> handle_;
};

// Operations applied together by Storage::Write. Keys and values are copied
// in. Reusable: Clear() empties it.
class WriteBatch {
 public:
  WriteBatch(WriteBatch&& other) noexcept;
  WriteBatch& operator=(WriteBatch&& other) noexcept;
  ~WriteBatch();

  Status Put(uint32_t keyspace, std::string_view key, std::string_view value);
  Status Delete(uint32_t keyspace, std::string_view key);
  // Deletes every key in [begin, end).
  Status DeleteRange(uint32_t keyspace, std::string_view begin,
                     std::string_view end);
  void Clear();
  // Number of operations held.
  size_t Count() const;
  // Approximate bytes held.
  size_t ApproximateBytes() const;

 private:
  friend class Storage;
  WriteBatch(std::shared_ptr<storage_internal::Instance> instance,
             sb_storage_batch* batch);
  std::shared_ptr<storage_internal::Instance> instance_;
  sb_storage_batch* batch_ = nullptr;
};

struct IterOptions {
  const Snapshot* snapshot = nullptr;  // null: live state at creation
  std::string lower_bound;             // inclusive; empty: unbounded
  std::string upper_bound;             // exclusive; empty: unbounded
};

// An ordered cursor over one keyspace. Created unpositioned: call a Seek*
// first. key() and value() stay valid until the iterator moves.
class Iterator {
 public:
  Iterator(Iterator&& other) noexcept;
  Iterator& operator=(Iterator&& other) noexcept;
  ~Iterator();

  void SeekToFirst();
  void SeekToLast();
  void Seek(std::string_view target);         // first key >= target
  void SeekForPrev(std::string_view target);  // last key <= target
  bool Valid() const;
  void Next();
  void Prev();
  std::string_view key() const;
  std::string_view value() const;
  // OK unless the iterator stopped on an error.
  Status status() const;

 private:
  friend class Storage;
  Iterator(std::shared_ptr<storage_internal::Instance> instance,
           std::shared_ptr<storage_internal::SnapshotHandle> snapshot,
           sb_storage_iter* it);
  void Reset();
  std::shared_ptr<storage_internal::Instance> instance_;
  std::shared_ptr<storage_internal::SnapshotHandle> snapshot_;
  sb_storage_iter* it_ = nullptr;
};

class Storage {
 public:
  // Checks that `lib` is a storage plugin whose vtable has every member
  // this host calls (fails naming the plugin otherwise).
  static Status CheckPlugin(const PluginLibrary& lib);

  // Validates a configuration section without opening anything.
  static Status CheckConfig(const std::shared_ptr<PluginLibrary>& lib,
                            const sb_config& config);

  // Opens (creating if needed) the store under `data_dir`. `host` is copied;
  // its host_ctx must stay valid until the instance closes.
  static StatusOr<Storage> Open(std::shared_ptr<PluginLibrary> lib,
                                const sb_host_services& host,
                                const std::string& data_dir,
                                const sb_config& config);

  Storage(Storage&&) noexcept = default;
  Storage& operator=(Storage&&) noexcept = default;
  ~Storage() = default;

  const std::string& plugin_name() const;
  // True if the plugin promises durability (SB_STORAGE_DURABLE).
  bool durable() const;

  // Id of keyspace `name`, created (durably) if absent.
  StatusOr<uint32_t> Keyspace(std::string_view name);
  StatusOr<std::vector<std::string>> ListKeyspaces() const;

  // NotFound if absent.
  Status Get(uint32_t keyspace, std::string_view key, std::string* value,
             const Snapshot* snapshot = nullptr) const;
  Status Put(uint32_t keyspace, std::string_view key, std::string_view value,
             bool sync = false);
  Status Delete(uint32_t keyspace, std::string_view key, bool sync = false);

  StatusOr<WriteBatch> NewBatch();
  // Applies `batch` atomically; with sync, durable before return. The batch
  // is left unchanged.
  Status Write(const WriteBatch& batch, bool sync = false);

  StatusOr<Snapshot> NewSnapshot() const;
  StatusOr<Iterator> NewIterator(uint32_t keyspace,
                                 const IterOptions& options = {}) const;
  // An iterator over exactly the keys starting with `prefix`.
  StatusOr<Iterator> NewPrefixIterator(
      uint32_t keyspace, std::string_view prefix,
      const Snapshot* snapshot = nullptr) const;

  // Writes an openable copy of the store into `dir`, which must not exist.
  Status Checkpoint(const std::string& dir);
  // Approximate bytes of [begin, end) in `keyspace` (empty end: to the end).
  StatusOr<uint64_t> ApproximateSize(uint32_t keyspace, std::string_view begin,
                                     std::string_view end) const;
  // Makes every write so far durable.
  Status Sync();

 private:
  explicit Storage(std::shared_ptr<storage_internal::Instance> instance);
  std::shared_ptr<storage_internal::Instance> instance_;
};

}  // namespace sb
