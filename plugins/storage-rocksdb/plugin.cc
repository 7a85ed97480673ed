// plugins/storage-rocksdb/plugin.cc — the storage-rocksdb plugin: the
// storage ABI (shardbearer/abi/storage.h) over one RocksDB database.
//
// Layout: the database lives in `<data_dir>/rocksdb`. Each keyspace is a
// column family named "ks:<name>" (':' cannot appear in a keyspace name, so
// no keyspace collides with RocksDB's own "default" family, which stays
// empty). One WriteBatch spans column families and shares one WAL, so a
// batch across keyspaces is atomic across crashes. Keyspace ids are indexes
// into the handle table, assigned at open (existing families, sorted by
// name) and on creation; they are stable until close.
//
// rocksdb::Status is translated to sb codes here, at the edge; every entry
// point catches exceptions (allocation failure), so nothing C++ crosses the
// ABI.
#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string>
#include <vector>

#include "options.h"
#include "shardbearer/abi/storage.h"

namespace {

constexpr const char* kName = "storage-rocksdb";
constexpr const char* kDbSubdir = "rocksdb";
constexpr const char* kFamilyPrefix = "ks:";
// RocksDB stores lengths as 32-bit varints.
constexpr size_t kMaxKeyBytes = 0xffffffffu;
constexpr size_t kMaxValueBytes = 0xffffffffu;

rocksdb::Slice ToSlice(sb_bytes b) {
  if (b.len == 0 || b.data == nullptr) return rocksdb::Slice();
  return rocksdb::Slice(reinterpret_cast<const char*>(b.data), b.len);
}

sb_bytes FromSlice(const rocksdb::Slice& s) {
  return sb_bytes{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

sb_code ToCode(const rocksdb::Status& s) {
  if (s.ok()) return SB_OK;
  if (s.IsNotFound()) return SB_NOT_FOUND;
  if (s.IsCorruption()) return SB_CORRUPTION;
  if (s.IsNotSupported()) return SB_NOT_SUPPORTED;
  if (s.IsInvalidArgument()) return SB_INVALID_ARGUMENT;
  if (s.IsIOError()) return SB_IO_ERROR;
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return SB_BUSY;
  if (s.IsShutdownInProgress()) return SB_UNAVAILABLE;
  if (s.IsAborted()) return SB_ABORTED;
  return SB_INTERNAL;
}

sb_code SetFromRocks(sb_status* st, const rocksdb::Status& s,
                     const char* what) {
  if (s.ok()) return sb_status_ok(st);
  return sb_status_set(st, ToCode(s), "%s: %s: %s", kName, what,
                       s.ToString().c_str());
}

bool ValidKeyspaceName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

struct sb_storage {
  sb_host_services host{};
  std::string path;  // <data_dir>/rocksdb
  sbrocks::RocksOptions options;
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* default_family = nullptr;

  // Keyspace table: id = index + 1. Handles stay valid until close, so a
  // looked-up pointer may be used after the lock is released. Creation is
  // serialized by create_mu and holds `mu` exclusively only to append, so
  // readers never wait for RocksDB's MANIFEST sync.
  std::mutex create_mu;
  mutable std::shared_mutex mu;
  std::vector<std::string> names;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  // Column families that are not keyspaces: open (RocksDB requires it),
  // never reachable through an id.
  std::vector<rocksdb::ColumnFamilyHandle*> foreign;

  rocksdb::ColumnFamilyHandle* Family(uint32_t id) const {
    std::shared_lock lock(mu);
    if (id == 0 || id > families.size()) return nullptr;
    return families[id - 1];
  }
};

struct sb_storage_batch {
  sb_storage* db;
  rocksdb::WriteBatch batch;
};

struct sb_storage_snapshot {
  sb_storage* db;
  const rocksdb::Snapshot* snapshot;
};

struct sb_storage_iter {
  // The bounds live here so the slices in `read` stay valid for the
  // iterator's whole life (RocksDB keeps only the Slice).
  std::string lower;
  std::string upper;
  rocksdb::Slice lower_slice;
  rocksdb::Slice upper_slice;
  rocksdb::ReadOptions read;
  std::unique_ptr<rocksdb::Iterator> it;
  bool has_lower = false;
  bool has_upper = false;
};

namespace {

template <typename Fn>
sb_code Guard(sb_status* st, Fn&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return sb_status_set(st, SB_INTERNAL, "%s: out of memory", kName);
  } catch (const std::exception& e) {
    return sb_status_set(st, SB_INTERNAL, "%s: %s", kName, e.what());
  }
}

sb_code LookupFamily(sb_storage* db, uint32_t ks,
                     rocksdb::ColumnFamilyHandle** out, sb_status* st) {
  *out = db->Family(ks);
  if (*out == nullptr) {
    return sb_status_set(st, SB_NOT_FOUND, "%s: unknown keyspace id %u", kName,
                         ks);
  }
  return SB_OK;
}

sb_code CheckSizes(sb_bytes key, sb_bytes value, sb_status* st) {
  if ((key.len > 0 && key.data == nullptr) ||
      (value.len > 0 && value.data == nullptr)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: null data with non-zero length", kName);
  }
  if (key.len > kMaxKeyBytes) {
    return sb_status_set(st, SB_TOO_LARGE, "%s: key of %zu bytes over %zu",
                         kName, key.len, kMaxKeyBytes);
  }
  if (value.len > kMaxValueBytes) {
    return sb_status_set(st, SB_TOO_LARGE, "%s: value of %zu bytes over %zu",
                         kName, value.len, kMaxValueBytes);
  }
  return SB_OK;
}

sb_code CheckConfig(const sb_config* cfg, sb_status* st) {
  return Guard(st, [&] {
    sbrocks::RocksConfig parsed;
    return sbrocks::ParseConfig(cfg, &parsed, st);
  });
}

sb_code Open(const sb_host_services* host, const char* data_dir,
             const sb_config* cfg, sb_storage** out, sb_status* st) {
  if (out == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null out", kName);
  }
  *out = nullptr;
  if (data_dir == nullptr || data_dir[0] == '\0') {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: empty data_dir", kName);
  }
  return Guard(st, [&]() -> sb_code {
    sbrocks::RocksConfig config;
    sb_code rc = sbrocks::ParseConfig(cfg, &config, st);
    if (rc != SB_OK) return rc;
    auto db = std::make_unique<sb_storage>();
    if (host != nullptr) {
      std::memcpy(&db->host, host,
                  std::min<size_t>(host->struct_size, sizeof db->host));
      db->host.struct_size = sizeof db->host;
    }
    db->options = sbrocks::BuildOptions(config);
    const std::filesystem::path dir = std::filesystem::path(data_dir);
    db->path = (dir / kDbSubdir).string();
    std::error_code ec;
    std::filesystem::create_directories(db->path, ec);
    if (ec) {
      return sb_status_set(st, SB_IO_ERROR, "%s: cannot create %s: %s", kName,
                           db->path.c_str(), ec.message().c_str());
    }

    // Every existing column family must be opened. A fresh directory has
    // only "default".
    std::vector<std::string> existing;
    if (std::filesystem::exists(std::filesystem::path(db->path) / "CURRENT",
                                ec)) {
      rocksdb::Status s =
          rocksdb::DB::ListColumnFamilies(db->options.db, db->path, &existing);
      if (!s.ok()) return SetFromRocks(st, s, "listing column families");
    }
    if (std::find(existing.begin(), existing.end(),
                  rocksdb::kDefaultColumnFamilyName) == existing.end()) {
      existing.push_back(rocksdb::kDefaultColumnFamilyName);
    }
    std::sort(existing.begin(), existing.end());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : existing) {
      descriptors.emplace_back(name, db->options.cf);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(db->options.db, db->path, descriptors,
                                          &handles, &raw);
    if (!s.ok()) return SetFromRocks(st, s, "opening the database");
    db->db.reset(raw);
    for (size_t i = 0; i < handles.size(); ++i) {
      const std::string& name = existing[i];
      if (name == rocksdb::kDefaultColumnFamilyName) {
        db->default_family = handles[i];
      } else if (name.rfind(kFamilyPrefix, 0) == 0 &&
                 ValidKeyspaceName(name.substr(3))) {
        db->names.push_back(name.substr(3));
        db->families.push_back(handles[i]);
      } else {
        sb_logf(&db->host, SB_LOG_WARN,
                "%s: ignoring unknown column family '%s' in %s", kName,
                name.c_str(), db->path.c_str());
        db->foreign.push_back(handles[i]);
      }
    }
    sb_logf(&db->host, SB_LOG_INFO, "%s: opened %s with %zu keyspaces", kName,
            db->path.c_str(), db->names.size());
    *out = db.release();
    return sb_status_ok(st);
  });
}

void Close(sb_storage* db) {
  if (db == nullptr) return;
  if (db->db != nullptr) {
    // Make writes done without sync durable before going away.
    rocksdb::Status s = db->db->FlushWAL(/*sync=*/true);
    if (!s.ok()) {
      sb_logf(&db->host, SB_LOG_ERROR, "%s: syncing the WAL at close: %s",
              kName, s.ToString().c_str());
    }
    for (auto* h : db->families) db->db->DestroyColumnFamilyHandle(h);
    for (auto* h : db->foreign) db->db->DestroyColumnFamilyHandle(h);
    if (db->default_family != nullptr) {
      db->db->DestroyColumnFamilyHandle(db->default_family);
    }
    s = db->db->Close();
    if (!s.ok()) {
      sb_logf(&db->host, SB_LOG_ERROR, "%s: closing: %s", kName,
              s.ToString().c_str());
    }
  }
  delete db;
}

sb_code Keyspace(sb_storage* db, const char* name, uint32_t* out_id,
                 sb_status* st) {
  if (db == nullptr || name == nullptr || out_id == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null argument", kName);
  }
  const std::string_view n(name, strnlen(name, 65));
  if (!ValidKeyspaceName(n)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: invalid keyspace name '%.64s' (want "
                         "[A-Za-z0-9_.-]{1,64})",
                         kName, name);
  }
  return Guard(st, [&]() -> sb_code {
    auto find = [&]() -> bool {
      for (size_t i = 0; i < db->names.size(); ++i) {
        if (db->names[i] == n) {
          *out_id = static_cast<uint32_t>(i + 1);
          return true;
        }
      }
      return false;
    };
    {
      std::shared_lock lock(db->mu);
      if (find()) return sb_status_ok(st);
    }
    std::lock_guard create_lock(db->create_mu);
    {
      // Another thread may have created it while we waited.
      std::shared_lock lock(db->mu);
      if (find()) return sb_status_ok(st);
    }
    // CreateColumnFamily records the family in the MANIFEST and syncs it:
    // the keyspace is durable when this returns.
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    rocksdb::Status s = db->db->CreateColumnFamily(
        db->options.cf, kFamilyPrefix + std::string(n), &handle);
    if (!s.ok()) return SetFromRocks(st, s, "creating keyspace");
    std::unique_lock lock(db->mu);
    db->names.emplace_back(n);
    db->families.push_back(handle);
    *out_id = static_cast<uint32_t>(db->families.size());
    return sb_status_ok(st);
  });
}

sb_code ListKeyspaces(sb_storage* db, sb_bytes_sink sink, void* ctx,
                      sb_status* st) {
  if (db == nullptr || sink == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null argument", kName);
  }
  return Guard(st, [&]() -> sb_code {
    std::vector<std::string> names;
    {
      std::shared_lock lock(db->mu);
      names = db->names;
    }
    for (const std::string& name : names) {
      sink(ctx, reinterpret_cast<const uint8_t*>(name.data()), name.size());
    }
    return sb_status_ok(st);
  });
}

sb_code Get(sb_storage* db, uint32_t ks, const sb_storage_snapshot* snap,
            sb_bytes key, sb_bytes_sink sink, void* ctx, sb_status* st) {
  if (db == nullptr || sink == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null argument", kName);
  }
  if (snap != nullptr && snap->db != db) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: snapshot of another instance", kName);
  }
  rocksdb::ColumnFamilyHandle* family = nullptr;
  sb_code rc = LookupFamily(db, ks, &family, st);
  if (rc == SB_OK) rc = CheckSizes(key, sb_bytes{nullptr, 0}, st);
  if (rc != SB_OK) return rc;
  return Guard(st, [&]() -> sb_code {
    rocksdb::ReadOptions read;
    if (snap != nullptr) read.snapshot = snap->snapshot;
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db->db->Get(read, family, ToSlice(key), &value);
    if (s.IsNotFound()) {
      return sb_status_set(st, SB_NOT_FOUND, "key not found");
    }
    if (!s.ok()) return SetFromRocks(st, s, "get");
    sink(ctx, reinterpret_cast<const uint8_t*>(value.data()), value.size());
    return sb_status_ok(st);
  });
}

sb_storage_batch* BatchNew(sb_storage* db) {
  if (db == nullptr) return nullptr;
  try {
    return new sb_storage_batch{db, rocksdb::WriteBatch()};
  } catch (const std::exception&) {
    return nullptr;
  }
}

void BatchFree(sb_storage_batch* b) { delete b; }

void BatchClear(sb_storage_batch* b) {
  if (b != nullptr) b->batch.Clear();
}

sb_code BatchPut(sb_storage_batch* b, uint32_t ks, sb_bytes key, sb_bytes value,
                 sb_status* st) {
  if (b == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null batch", kName);
  }
  rocksdb::ColumnFamilyHandle* family = nullptr;
  sb_code rc = LookupFamily(b->db, ks, &family, st);
  if (rc == SB_OK) rc = CheckSizes(key, value, st);
  if (rc != SB_OK) return rc;
  return Guard(st, [&] {
    return SetFromRocks(st, b->batch.Put(family, ToSlice(key), ToSlice(value)),
                        "batch put");
  });
}

sb_code BatchDelete(sb_storage_batch* b, uint32_t ks, sb_bytes key,
                    sb_status* st) {
  if (b == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null batch", kName);
  }
  rocksdb::ColumnFamilyHandle* family = nullptr;
  sb_code rc = LookupFamily(b->db, ks, &family, st);
  if (rc == SB_OK) rc = CheckSizes(key, sb_bytes{nullptr, 0}, st);
  if (rc != SB_OK) return rc;
  return Guard(st, [&] {
    return SetFromRocks(st, b->batch.Delete(family, ToSlice(key)),
                        "batch delete");
  });
}

sb_code BatchDeleteRange(sb_storage_batch* b, uint32_t ks, sb_bytes begin,
                         sb_bytes end, sb_status* st) {
  if (b == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null batch", kName);
  }
  rocksdb::ColumnFamilyHandle* family = nullptr;
  sb_code rc = LookupFamily(b->db, ks, &family, st);
  if (rc == SB_OK) rc = CheckSizes(begin, end, st);
  if (rc != SB_OK) return rc;
  const int cmp = ToSlice(begin).compare(ToSlice(end));
  if (cmp > 0) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: delete_range begin is after end", kName);
  }
  return Guard(st, [&] {
    return SetFromRocks(
        st, b->batch.DeleteRange(family, ToSlice(begin), ToSlice(end)),
        "batch delete_range");
  });
}

size_t BatchCount(const sb_storage_batch* b) {
  return b == nullptr ? 0 : static_cast<size_t>(b->batch.Count());
}

size_t BatchBytes(const sb_storage_batch* b) {
  return b == nullptr ? 0 : b->batch.GetDataSize();
}

sb_code WriteRocks(sb_storage* db, rocksdb::WriteBatch* batch, int32_t sync,
                   sb_status* st) {
  rocksdb::WriteOptions w;
  w.sync = sync != 0;
  return SetFromRocks(st, db->db->Write(w, batch), "write");
}

sb_code Write(sb_storage* db, sb_storage_batch* b, int32_t sync,
              sb_status* st) {
  if (db == nullptr || b == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null argument", kName);
  }
  if (b->db != db) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: batch of another instance", kName);
  }
  return Guard(st, [&] { return WriteRocks(db, &b->batch, sync, st); });
}

sb_code Put(sb_storage* db, uint32_t ks, sb_bytes key, sb_bytes value,
            int32_t sync, sb_status* st) {
  if (db == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null db", kName);
  }
  sb_storage_batch b{db, rocksdb::WriteBatch()};
  sb_code rc = BatchPut(&b, ks, key, value, st);
  if (rc != SB_OK) return rc;
  return Guard(st, [&] { return WriteRocks(db, &b.batch, sync, st); });
}

sb_code Del(sb_storage* db, uint32_t ks, sb_bytes key, int32_t sync,
            sb_status* st) {
  if (db == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null db", kName);
  }
  sb_storage_batch b{db, rocksdb::WriteBatch()};
  sb_code rc = BatchDelete(&b, ks, key, st);
  if (rc != SB_OK) return rc;
  return Guard(st, [&] { return WriteRocks(db, &b.batch, sync, st); });
}

sb_storage_snapshot* SnapshotNew(sb_storage* db) {
  if (db == nullptr) return nullptr;
  const rocksdb::Snapshot* s = db->db->GetSnapshot();
  if (s == nullptr) return nullptr;
  auto* snap = new (std::nothrow) sb_storage_snapshot{db, s};
  if (snap == nullptr) db->db->ReleaseSnapshot(s);
  return snap;
}

void SnapshotRelease(sb_storage* db, sb_storage_snapshot* s) {
  if (db == nullptr || s == nullptr) return;
  db->db->ReleaseSnapshot(s->snapshot);
  delete s;
}

sb_storage_iter* IterNew(sb_storage* db, uint32_t ks,
                         const sb_storage_iter_options* opts, sb_status* st) {
  if (db == nullptr) {
    sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null db", kName);
    return nullptr;
  }
  rocksdb::ColumnFamilyHandle* family = nullptr;
  if (LookupFamily(db, ks, &family, st) != SB_OK) return nullptr;
  sb_storage_iter* result = nullptr;
  Guard(st, [&]() -> sb_code {
    auto iter = std::make_unique<sb_storage_iter>();
    if (opts != nullptr) {
      if (SB_HAS_FIELD(opts, snapshot) && opts->snapshot != nullptr) {
        if (opts->snapshot->db != db) {
          return sb_status_set(st, SB_INVALID_ARGUMENT,
                               "%s: snapshot of another instance", kName);
        }
        iter->read.snapshot = opts->snapshot->snapshot;
      }
      if (SB_HAS_FIELD(opts, lower_bound) && opts->lower_bound.len > 0) {
        iter->lower = ToSlice(opts->lower_bound).ToString();
        iter->has_lower = true;
      }
      if (SB_HAS_FIELD(opts, upper_bound) && opts->upper_bound.len > 0) {
        iter->upper = ToSlice(opts->upper_bound).ToString();
        iter->has_upper = true;
      }
    }
    // The slices point into the strings above, which never move again.
    if (iter->has_lower) {
      iter->lower_slice = rocksdb::Slice(iter->lower);
      iter->read.iterate_lower_bound = &iter->lower_slice;
    }
    if (iter->has_upper) {
      iter->upper_slice = rocksdb::Slice(iter->upper);
      iter->read.iterate_upper_bound = &iter->upper_slice;
    }
    iter->it.reset(db->db->NewIterator(iter->read, family));
    result = iter.release();
    return sb_status_ok(st);
  });
  return result;
}

void IterFree(sb_storage_iter* it) { delete it; }

void IterSeekFirst(sb_storage_iter* it) {
  if (it != nullptr) it->it->SeekToFirst();
}

void IterSeekLast(sb_storage_iter* it) {
  if (it != nullptr) it->it->SeekToLast();
}

void IterSeek(sb_storage_iter* it, sb_bytes target) {
  if (it == nullptr) return;
  rocksdb::Slice t = ToSlice(target);
  // Clamp to the bounds ourselves rather than rely on RocksDB doing it.
  if (it->has_lower && t.compare(it->lower_slice) < 0) t = it->lower_slice;
  it->it->Seek(t);
}

void IterSeekForPrev(sb_storage_iter* it, sb_bytes target) {
  if (it == nullptr) return;
  const rocksdb::Slice t = ToSlice(target);
  if (it->has_upper && t.compare(it->upper_slice) >= 0) {
    it->it->SeekToLast();  // the last key below the exclusive upper bound
  } else {
    it->it->SeekForPrev(t);
  }
}

int32_t IterValid(const sb_storage_iter* it) {
  return it != nullptr && it->it->Valid() ? 1 : 0;
}

void IterNext(sb_storage_iter* it) {
  if (it != nullptr && it->it->Valid()) it->it->Next();
}

void IterPrev(sb_storage_iter* it) {
  if (it != nullptr && it->it->Valid()) it->it->Prev();
}

sb_bytes IterKey(const sb_storage_iter* it) {
  if (it == nullptr || !it->it->Valid()) return sb_bytes{nullptr, 0};
  return FromSlice(it->it->key());
}

sb_bytes IterValue(const sb_storage_iter* it) {
  if (it == nullptr || !it->it->Valid()) return sb_bytes{nullptr, 0};
  return FromSlice(it->it->value());
}

sb_code IterStatus(const sb_storage_iter* it, sb_status* st) {
  if (it == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null iterator", kName);
  }
  return SetFromRocks(st, it->it->status(), "iterator");
}

sb_code Checkpoint(sb_storage* db, const char* dir, sb_status* st) {
  if (db == nullptr || dir == nullptr || dir[0] == '\0') {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: checkpoint needs a directory", kName);
  }
  return Guard(st, [&]() -> sb_code {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) {
      return sb_status_set(st, SB_ALREADY_EXISTS,
                           "%s: checkpoint directory %s already exists", kName,
                           dir);
    }
    if (!std::filesystem::create_directory(dir, ec) || ec) {
      return sb_status_set(st, SB_IO_ERROR,
                           "%s: cannot create checkpoint directory %s: %s",
                           kName, dir, ec.message().c_str());
    }
    // Same layout as a data_dir, so `open(dir)` opens the copy.
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status s = rocksdb::Checkpoint::Create(db->db.get(), &raw);
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    if (s.ok()) {
      s = cp->CreateCheckpoint(
          (std::filesystem::path(dir) / kDbSubdir).string());
    }
    if (!s.ok()) {
      std::filesystem::remove_all(dir, ec);
      return SetFromRocks(st, s, "checkpoint");
    }
    return sb_status_ok(st);
  });
}

sb_code ApproximateSize(sb_storage* db, uint32_t ks, sb_bytes begin,
                        sb_bytes end, uint64_t* out, sb_status* st) {
  if (db == nullptr || out == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null argument", kName);
  }
  rocksdb::ColumnFamilyHandle* family = nullptr;
  sb_code rc = LookupFamily(db, ks, &family, st);
  if (rc != SB_OK) return rc;
  return Guard(st, [&]() -> sb_code {
    *out = 0;
    std::string limit = ToSlice(end).ToString();
    if (end.len == 0) {
      // "To the end": just past the last key of the keyspace.
      std::unique_ptr<rocksdb::Iterator> it(
          db->db->NewIterator(rocksdb::ReadOptions(), family));
      it->SeekToLast();
      if (!it->status().ok()) {
        return SetFromRocks(st, it->status(), "approximate_size");
      }
      if (!it->Valid()) return sb_status_ok(st);
      limit = it->key().ToString();
      limit.push_back('\0');
    }
    const rocksdb::Slice start = ToSlice(begin);
    if (start.compare(limit) >= 0) return sb_status_ok(st);
    rocksdb::Range range(start, limit);
    rocksdb::SizeApproximationOptions options;
    options.include_memtables = true;
    options.include_files = true;
    uint64_t size = 0;
    rocksdb::Status s =
        db->db->GetApproximateSizes(options, family, &range, 1, &size);
    if (!s.ok()) return SetFromRocks(st, s, "approximate_size");
    *out = size;
    return sb_status_ok(st);
  });
}

sb_code Sync(sb_storage* db, sb_status* st) {
  if (db == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null db", kName);
  }
  // Writes done with sync = 0 sit in the WAL's OS buffers: flush and fsync.
  return Guard(st, [&] {
    return SetFromRocks(st, db->db->FlushWAL(/*sync=*/true), "sync");
  });
}

const sb_storage_vtable kVtable = {
    sizeof(sb_storage_vtable),
    SB_STORAGE_DURABLE,
    CheckConfig,
    Open,
    Close,
    Keyspace,
    ListKeyspaces,
    Get,
    Put,
    Del,
    BatchNew,
    BatchFree,
    BatchClear,
    BatchPut,
    BatchDelete,
    BatchDeleteRange,
    BatchCount,
    BatchBytes,
    Write,
    SnapshotNew,
    SnapshotRelease,
    IterNew,
    IterFree,
    IterSeekFirst,
    IterSeekLast,
    IterSeek,
    IterSeekForPrev,
    IterValid,
    IterNext,
    IterPrev,
    IterKey,
    IterValue,
    IterStatus,
    Checkpoint,
    ApproximateSize,
    Sync,
};

const sb_plugin_info kInfo = {
    sizeof(sb_plugin_info),
    SB_PLUGIN_MAGIC,
    SB_ABI_MAJOR,
    SB_ABI_MINOR,
    SB_KIND_STORAGE,
    kName,
    "1.0.0",
    "RocksDB storage: one database per node, keyspaces as column families",
    &kVtable,
};

}  // namespace

extern "C" SB_PLUGIN_EXPORT const sb_plugin_info* shardbearer_plugin_entry(
    void) {
  return &kInfo;
}
