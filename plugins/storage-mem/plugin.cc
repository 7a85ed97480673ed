// plugins/storage-mem/plugin.cc — the storage-mem plugin: the storage ABI
// (shardbearer/abi/storage.h) over MemStore.
//
// Not durable (no SB_STORAGE_DURABLE flag): everything is lost at close,
// except what a checkpoint wrote. `open` on a directory that holds a
// checkpoint dump loads it. No configuration keys: any key is rejected.
//
// Every entry point catches exceptions (allocation failure) and turns them
// into SB_INTERNAL: nothing C++ crosses the ABI.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <new>
#include <string>
#include <system_error>

#include "dump.h"
#include "mem_store.h"
#include "shardbearer/abi/storage.h"

namespace {

constexpr const char* kName = "storage-mem";
// Lengths are stored as 32-bit values in dumps.
constexpr size_t kMaxKeyBytes = 0xffffffffu;
constexpr size_t kMaxValueBytes = 0xffffffffu;

std::string_view View(sb_bytes b) {
  if (b.len == 0 || b.data == nullptr) return {};
  return {reinterpret_cast<const char*>(b.data), b.len};
}

sb_bytes Bytes(const std::string& s) {
  return sb_bytes{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

struct sb_storage {
  sbmem::MemStore store;
  sb_host_services host{};
};

struct sb_storage_batch {
  sb_storage* db;
  std::vector<sbmem::Op> ops;
  size_t bytes = 0;
};

struct sb_storage_snapshot {
  sb_storage* db;
  uint64_t seq;
};

struct sb_storage_iter {
  sb_storage* db;
  uint32_t keyspace;
  uint64_t seq;
  bool pinned;  // true when the iterator registered its own pin (no snapshot)
  std::string lower;
  std::string upper;
  bool has_upper;
  bool valid = false;
  sbmem::Entry current;
  sb_code code = SB_OK;
  std::string message;
};

namespace {

// Runs fn, turning an escaping exception into SB_INTERNAL.
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

sb_code CheckKeyspace(sb_storage* db, uint32_t ks, sb_status* st) {
  if (!db->store.HasKeyspace(ks)) {
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
  if (cfg == nullptr || cfg->count == 0) return sb_status_ok(st);
  if (cfg->entries == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: config has %zu "
                         "entries but no entry array",
                         kName, cfg->count);
  }
  const char* key = cfg->entries[0].key != nullptr ? cfg->entries[0].key : "";
  return sb_status_set(st, SB_INVALID_ARGUMENT,
                       "%s: unknown config key '%s' (storage-mem has no "
                       "settings)",
                       kName, key);
}

sb_code Open(const sb_host_services* host, const char* data_dir,
             const sb_config* cfg, sb_storage** out, sb_status* st) {
  if (out == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null out", kName);
  }
  *out = nullptr;
  sb_code rc = CheckConfig(cfg, st);
  if (rc != SB_OK) return rc;
  return Guard(st, [&]() -> sb_code {
    auto db = std::make_unique<sb_storage>();
    if (host != nullptr) {
      // Copy what this build knows of the table; the rest stays zero.
      std::memcpy(&db->host, host,
                  std::min<size_t>(host->struct_size, sizeof db->host));
      db->host.struct_size = sizeof db->host;
    }
    if (data_dir != nullptr && data_dir[0] != '\0') {
      std::error_code ec;
      const std::filesystem::path dir(data_dir);
      const auto status = std::filesystem::status(dir, ec);
      if (std::filesystem::exists(status) &&
          !std::filesystem::is_directory(status)) {
        return sb_status_set(st, SB_INVALID_ARGUMENT,
                             "%s: data_dir %s is not a directory", kName,
                             data_dir);
      }
      const auto dump = dir / sbmem::kDumpFileName;
      if (std::filesystem::exists(dump, ec)) {
        sbmem::DumpResult r = sbmem::LoadDump(dump.string(), &db->store);
        if (r.code != SB_OK) {
          return sb_status_set(st, r.code, "%s: %s", kName, r.message.c_str());
        }
        sb_logf(&db->host, SB_LOG_INFO, "%s: loaded checkpoint %s", kName,
                dump.c_str());
      }
    }
    *out = db.release();
    return sb_status_ok(st);
  });
}

void Close(sb_storage* db) { delete db; }

sb_code Keyspace(sb_storage* db, const char* name, uint32_t* out_id,
                 sb_status* st) {
  if (db == nullptr || name == nullptr || out_id == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null argument", kName);
  }
  const size_t len = strnlen(name, 65);
  if (!sbmem::ValidKeyspaceName(std::string_view(name, len))) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: invalid keyspace name '%.64s' (want "
                         "[A-Za-z0-9_.-]{1,64})",
                         kName, name);
  }
  return Guard(st, [&]() -> sb_code {
    *out_id = db->store.Keyspace(std::string_view(name, len));
    return sb_status_ok(st);
  });
}

sb_code ListKeyspaces(sb_storage* db, sb_bytes_sink sink, void* ctx,
                      sb_status* st) {
  if (db == nullptr || sink == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null argument", kName);
  }
  return Guard(st, [&]() -> sb_code {
    for (const std::string& name : db->store.KeyspaceNames()) {
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
  sb_code rc = CheckKeyspace(db, ks, st);
  if (rc == SB_OK) rc = CheckSizes(key, sb_bytes{nullptr, 0}, st);
  if (rc != SB_OK) return rc;
  return Guard(st, [&]() -> sb_code {
    const uint64_t seq = snap != nullptr ? snap->seq : sbmem::MemStore::kLatest;
    const bool found =
        db->store.Get(ks, seq, View(key), [&](const std::string& v) {
          sink(ctx, reinterpret_cast<const uint8_t*>(v.data()), v.size());
        });
    if (!found) return sb_status_set(st, SB_NOT_FOUND, "key not found");
    return sb_status_ok(st);
  });
}

sb_storage_batch* BatchNew(sb_storage* db) {
  if (db == nullptr) return nullptr;
  return new (std::nothrow) sb_storage_batch{db, {}, 0};
}

void BatchFree(sb_storage_batch* b) { delete b; }

void BatchClear(sb_storage_batch* b) {
  if (b == nullptr) return;
  b->ops.clear();
  b->bytes = 0;
}

sb_code BatchAdd(sb_storage_batch* b, sbmem::Op::Type type, uint32_t ks,
                 sb_bytes key, sb_bytes value, sb_status* st) {
  if (b == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null batch", kName);
  }
  sb_code rc = CheckKeyspace(b->db, ks, st);
  if (rc == SB_OK) rc = CheckSizes(key, value, st);
  if (rc != SB_OK) return rc;
  if (type == sbmem::Op::kDeleteRange && View(key) > View(value)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: delete_range begin is after end", kName);
  }
  return Guard(st, [&]() -> sb_code {
    b->ops.push_back(
        sbmem::Op{type, ks, std::string(View(key)), std::string(View(value))});
    b->bytes += key.len + value.len + 16;
    return sb_status_ok(st);
  });
}

sb_code BatchPut(sb_storage_batch* b, uint32_t ks, sb_bytes key, sb_bytes value,
                 sb_status* st) {
  return BatchAdd(b, sbmem::Op::kPut, ks, key, value, st);
}

sb_code BatchDelete(sb_storage_batch* b, uint32_t ks, sb_bytes key,
                    sb_status* st) {
  return BatchAdd(b, sbmem::Op::kDelete, ks, key, sb_bytes{nullptr, 0}, st);
}

sb_code BatchDeleteRange(sb_storage_batch* b, uint32_t ks, sb_bytes begin,
                         sb_bytes end, sb_status* st) {
  return BatchAdd(b, sbmem::Op::kDeleteRange, ks, begin, end, st);
}

size_t BatchCount(const sb_storage_batch* b) {
  return b == nullptr ? 0 : b->ops.size();
}

size_t BatchBytes(const sb_storage_batch* b) {
  return b == nullptr ? 0 : b->bytes;
}

sb_code Write(sb_storage* db, sb_storage_batch* b, int32_t /*sync*/,
              sb_status* st) {
  if (db == nullptr || b == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null argument", kName);
  }
  if (b->db != db) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: batch of another instance", kName);
  }
  return Guard(st, [&]() -> sb_code {
    db->store.Apply(b->ops);
    return sb_status_ok(st);
  });
}

sb_code PutOrDelete(sb_storage* db, sbmem::Op::Type type, uint32_t ks,
                    sb_bytes key, sb_bytes value, sb_status* st) {
  if (db == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null db", kName);
  }
  sb_storage_batch b{db, {}, 0};
  sb_code rc = BatchAdd(&b, type, ks, key, value, st);
  if (rc != SB_OK) return rc;
  return Write(db, &b, 0, st);
}

sb_code Put(sb_storage* db, uint32_t ks, sb_bytes key, sb_bytes value,
            int32_t /*sync*/, sb_status* st) {
  return PutOrDelete(db, sbmem::Op::kPut, ks, key, value, st);
}

sb_code Del(sb_storage* db, uint32_t ks, sb_bytes key, int32_t /*sync*/,
            sb_status* st) {
  return PutOrDelete(db, sbmem::Op::kDelete, ks, key, sb_bytes{nullptr, 0}, st);
}

sb_storage_snapshot* SnapshotNew(sb_storage* db) {
  if (db == nullptr) return nullptr;
  auto* s = new (std::nothrow) sb_storage_snapshot{db, 0};
  if (s != nullptr) s->seq = db->store.Pin();
  return s;
}

void SnapshotRelease(sb_storage* db, sb_storage_snapshot* s) {
  if (db == nullptr || s == nullptr) return;
  db->store.Unpin(s->seq);
  delete s;
}

sb_storage_iter* IterNew(sb_storage* db, uint32_t ks,
                         const sb_storage_iter_options* opts, sb_status* st) {
  if (db == nullptr) {
    sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null db", kName);
    return nullptr;
  }
  if (CheckKeyspace(db, ks, st) != SB_OK) return nullptr;
  sb_storage_iter* it = nullptr;
  sb_code rc = Guard(st, [&]() -> sb_code {
    auto iter = std::make_unique<sb_storage_iter>();
    iter->db = db;
    iter->keyspace = ks;
    iter->has_upper = false;
    const sb_storage_snapshot* snap = nullptr;
    if (opts != nullptr) {
      if (SB_HAS_FIELD(opts, snapshot)) snap = opts->snapshot;
      if (SB_HAS_FIELD(opts, lower_bound)) {
        iter->lower = std::string(View(opts->lower_bound));
      }
      if (SB_HAS_FIELD(opts, upper_bound) && opts->upper_bound.len > 0) {
        iter->upper = std::string(View(opts->upper_bound));
        iter->has_upper = true;
      }
    }
    if (snap != nullptr && snap->db != db) {
      return sb_status_set(st, SB_INVALID_ARGUMENT,
                           "%s: snapshot of another instance", kName);
    }
    // An iterator without a snapshot reads the live state as of its
    // creation: it pins that sequence like a snapshot does.
    if (snap != nullptr) {
      iter->seq = snap->seq;
      iter->pinned = false;
    } else {
      iter->seq = db->store.Pin();
      iter->pinned = true;
    }
    it = iter.release();
    return sb_status_ok(st);
  });
  return rc == SB_OK ? it : nullptr;
}

void IterFree(sb_storage_iter* it) {
  if (it == nullptr) return;
  if (it->pinned) it->db->store.Unpin(it->seq);
  delete it;
}

// Runs one positioning step; an exception leaves the iterator invalid with
// an error status.
template <typename Fn>
void Step(sb_storage_iter* it, Fn&& fn) {
  if (it == nullptr) return;
  try {
    it->valid = fn();
  } catch (const std::exception& e) {
    it->valid = false;
    it->code = SB_INTERNAL;
    it->message = e.what();
  }
}

const std::string* Upper(const sb_storage_iter* it) {
  return it->has_upper ? &it->upper : nullptr;
}

void IterSeekFirst(sb_storage_iter* it) {
  Step(it, [&] {
    return it->db->store.SeekForward(it->keyspace, it->seq, it->lower, true,
                                     Upper(it), &it->current);
  });
}

void IterSeekLast(sb_storage_iter* it) {
  Step(it, [&] {
    return it->db->store.SeekBackward(it->keyspace, it->seq, Upper(it),
                                      /*inclusive=*/false, it->lower,
                                      &it->current);
  });
}

void IterSeek(sb_storage_iter* it, sb_bytes target) {
  Step(it, [&] {
    std::string_view t = View(target);
    if (t < it->lower) t = it->lower;
    return it->db->store.SeekForward(it->keyspace, it->seq, t, true, Upper(it),
                                     &it->current);
  });
}

void IterSeekForPrev(sb_storage_iter* it, sb_bytes target) {
  Step(it, [&] {
    const std::string t(View(target));
    if (it->has_upper && t >= it->upper) {
      return it->db->store.SeekBackward(it->keyspace, it->seq, &it->upper,
                                        false, it->lower, &it->current);
    }
    return it->db->store.SeekBackward(it->keyspace, it->seq, &t, true,
                                      it->lower, &it->current);
  });
}

int32_t IterValid(const sb_storage_iter* it) {
  return it != nullptr && it->valid ? 1 : 0;
}

void IterNext(sb_storage_iter* it) {
  if (it == nullptr || !it->valid) return;
  Step(it, [&] {
    const std::string from = std::move(it->current.key);
    return it->db->store.SeekForward(it->keyspace, it->seq, from, false,
                                     Upper(it), &it->current);
  });
}

void IterPrev(sb_storage_iter* it) {
  if (it == nullptr || !it->valid) return;
  Step(it, [&] {
    const std::string from = std::move(it->current.key);
    return it->db->store.SeekBackward(it->keyspace, it->seq, &from, false,
                                      it->lower, &it->current);
  });
}

sb_bytes IterKey(const sb_storage_iter* it) {
  if (it == nullptr || !it->valid) return sb_bytes{nullptr, 0};
  return Bytes(it->current.key);
}

sb_bytes IterValue(const sb_storage_iter* it) {
  if (it == nullptr || !it->valid) return sb_bytes{nullptr, 0};
  return Bytes(it->current.value);
}

sb_code IterStatus(const sb_storage_iter* it, sb_status* st) {
  if (it == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null iterator", kName);
  }
  if (it->code != SB_OK) {
    return sb_status_set(st, it->code, "%s: %s", kName, it->message.c_str());
  }
  return sb_status_ok(st);
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
    sbmem::DumpResult r = sbmem::WriteDump(db->store, dir);
    if (r.code != SB_OK) {
      return sb_status_set(st, r.code, "%s: %s", kName, r.message.c_str());
    }
    return sb_status_ok(st);
  });
}

sb_code ApproximateSize(sb_storage* db, uint32_t ks, sb_bytes begin,
                        sb_bytes end, uint64_t* out, sb_status* st) {
  if (db == nullptr || out == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null argument", kName);
  }
  sb_code rc = CheckKeyspace(db, ks, st);
  if (rc != SB_OK) return rc;
  return Guard(st, [&]() -> sb_code {
    const std::string end_key(View(end));
    *out = db->store.ApproximateSize(ks, View(begin),
                                     end.len > 0 ? &end_key : nullptr);
    return sb_status_ok(st);
  });
}

sb_code Sync(sb_storage* db, sb_status* st) {
  if (db == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "%s: null db", kName);
  }
  // Nothing to make durable: this plugin does not claim durability.
  return sb_status_ok(st);
}

const sb_storage_vtable kVtable = {
    sizeof(sb_storage_vtable),
    /*flags=*/0,
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
    "In-memory multi-version storage (not durable; for tests and caches)",
    &kVtable,
};

}  // namespace

extern "C" SB_PLUGIN_EXPORT const sb_plugin_info* shardbearer_plugin_entry(
    void) {
  return &kInfo;
}
