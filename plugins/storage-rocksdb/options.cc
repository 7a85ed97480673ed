#include "options.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <set>
#include <string_view>
#include <vector>

namespace sbrocks {
namespace {

constexpr const char* kName = "storage-rocksdb";

struct CompressionName {
  const char* name;
  rocksdb::CompressionType type;
};
constexpr CompressionName kCompressions[] = {
    {"none", rocksdb::kNoCompression},
    {"snappy", rocksdb::kSnappyCompression},
    {"lz4", rocksdb::kLZ4Compression},
    {"zstd", rocksdb::kZSTD},
};

bool Supported(rocksdb::CompressionType t) {
  if (t == rocksdb::kNoCompression) return true;
  const auto all = rocksdb::GetSupportedCompressions();
  return std::find(all.begin(), all.end(), t) != all.end();
}

std::string SupportedList() {
  std::string out;
  for (const auto& c : kCompressions) {
    if (!Supported(c.type)) continue;
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

sb_code ParseInt(const char* key, const char* value, int64_t min, int64_t max,
                 int64_t* out, sb_status* st) {
  const std::string_view v(value);
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || n < min ||
      n > max) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: config key '%s': expected an integer in "
                         "[%lld, %lld], got '%.64s'",
                         kName, key, static_cast<long long>(min),
                         static_cast<long long>(max), value);
  }
  *out = n;
  return SB_OK;
}

}  // namespace

sb_code ParseConfig(const sb_config* cfg, RocksConfig* out, sb_status* st) {
  *out = RocksConfig();
  // Default compression: lz4 when this RocksDB build has it.
  if (!Supported(out->compression)) {
    out->compression = Supported(rocksdb::kSnappyCompression)
                           ? rocksdb::kSnappyCompression
                           : rocksdb::kNoCompression;
  }
  if (cfg == nullptr || cfg->count == 0) return sb_status_ok(st);
  if (cfg->entries == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "%s: config has %zu entries but no entry array", kName,
                         cfg->count);
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < cfg->count; ++i) {
    const sb_config_entry& e = cfg->entries[i];
    if (e.key == nullptr || e.value == nullptr) {
      return sb_status_set(st, SB_INVALID_ARGUMENT,
                           "%s: config entry %zu has no key or value", kName,
                           i);
    }
    const std::string key(e.key);
    if (!seen.insert(key).second) {
      return sb_status_set(st, SB_INVALID_ARGUMENT,
                           "%s: config key '%.128s' given twice", kName, e.key);
    }
    int64_t n = 0;
    sb_code rc = SB_OK;
    if (key == "block_cache_mb") {
      rc = ParseInt(e.key, e.value, 0, 1 << 20, &n, st);
      out->block_cache_mb = static_cast<uint64_t>(n);
    } else if (key == "write_buffer_mb") {
      rc = ParseInt(e.key, e.value, 1, 4096, &n, st);
      out->write_buffer_mb = static_cast<uint64_t>(n);
    } else if (key == "total_write_buffer_mb") {
      rc = ParseInt(e.key, e.value, 1, 1 << 20, &n, st);
      out->total_write_buffer_mb = static_cast<uint64_t>(n);
    } else if (key == "max_open_files") {
      rc = ParseInt(e.key, e.value, -1, 1 << 24, &n, st);
      if (rc == SB_OK && n >= 0 && n < 16) {
        rc = sb_status_set(st, SB_INVALID_ARGUMENT,
                           "%s: config key 'max_open_files': expected -1 "
                           "(unlimited) or at least 16, got %lld",
                           kName, static_cast<long long>(n));
      }
      out->max_open_files = n;
    } else if (key == "bytes_per_sync") {
      rc = ParseInt(e.key, e.value, 0, int64_t{1} << 30, &n, st);
      out->bytes_per_sync = static_cast<uint64_t>(n);
    } else if (key == "max_background_jobs") {
      rc = ParseInt(e.key, e.value, 1, 64, &n, st);
      out->max_background_jobs = n;
    } else if (key == "compression") {
      const CompressionName* found = nullptr;
      for (const auto& c : kCompressions) {
        if (std::strcmp(c.name, e.value) == 0) found = &c;
      }
      if (found == nullptr || !Supported(found->type)) {
        return sb_status_set(st, SB_INVALID_ARGUMENT,
                             "%s: config key 'compression': '%.64s' is not "
                             "one of the compressions this build supports "
                             "(%s)",
                             kName, e.value, SupportedList().c_str());
      }
      out->compression = found->type;
    } else {
      return sb_status_set(
          st, SB_INVALID_ARGUMENT,
          "%s: unknown config key '%.128s' (known: block_cache_mb, "
          "write_buffer_mb, total_write_buffer_mb, max_open_files, "
          "compression, bytes_per_sync, max_background_jobs)",
          kName, e.key);
    }
    if (rc != SB_OK) return rc;
  }
  return sb_status_ok(st);
}

RocksOptions BuildOptions(const RocksConfig& cfg) {
  RocksOptions o;
  o.db.create_if_missing = true;
  o.db.create_missing_column_families = true;
  o.db.paranoid_checks = true;
  o.db.max_open_files = static_cast<int>(cfg.max_open_files);
  o.db.bytes_per_sync = cfg.bytes_per_sync;
  o.db.wal_bytes_per_sync = cfg.bytes_per_sync;
  o.db.max_background_jobs = static_cast<int>(cfg.max_background_jobs);
  o.db.db_write_buffer_size = cfg.total_write_buffer_mb << 20;
  // Keep the info log small: it lives next to the data.
  o.db.keep_log_file_num = 4;
  o.db.max_log_file_size = 16 << 20;

  rocksdb::BlockBasedTableOptions table;
  if (cfg.block_cache_mb == 0) {
    table.no_block_cache = true;
  } else {
    table.block_cache = rocksdb::NewLRUCache(cfg.block_cache_mb << 20);
  }
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.format_version = 5;
  o.cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  o.cf.write_buffer_size = cfg.write_buffer_mb << 20;
  o.cf.compression = cfg.compression;
  o.cf.level_compaction_dynamic_level_bytes = true;
  return o;
}

}  // namespace sbrocks
