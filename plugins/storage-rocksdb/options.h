// plugins/storage-rocksdb/options.h — storage-rocksdb's configuration.
//
// The `[storage]` section of the node configuration reaches the plugin as an
// sb_config (flattened key/value text). ParseConfig validates every entry
// and fills RocksConfig; an unknown key, a duplicate key or a bad value is
// SB_INVALID_ARGUMENT with a message naming the key. BuildOptions turns a
// RocksConfig into RocksDB's DB-wide and per-column-family options.
//
// Thread safety: plain functions over values.
#pragma once

#include <rocksdb/options.h>

#include <cstdint>
#include <memory>
#include <string>

#include "shardbearer/abi/common.h"

namespace sbrocks {

struct RocksConfig {
  // Block cache shared by every keyspace, MiB; 0 disables it.
  uint64_t block_cache_mb = 64;
  // Memtable size of each keyspace (column family), MiB.
  uint64_t write_buffer_mb = 16;
  // Cap on the memtables of all keyspaces together, MiB.
  uint64_t total_write_buffer_mb = 256;
  // Table files kept open; -1 keeps all of them open.
  int64_t max_open_files = -1;
  // Compression of table files: none, snappy, lz4 or zstd.
  rocksdb::CompressionType compression = rocksdb::kLZ4Compression;
  // Background fsync of table and WAL files every this many bytes (0 = off):
  // spreads write-back instead of stalling on large syncs.
  uint64_t bytes_per_sync = 1 << 20;
  // Background flush and compaction threads.
  int64_t max_background_jobs = 2;
};

// Validates `cfg` (may be NULL: all defaults). On error fills `st` naming
// the offending key.
sb_code ParseConfig(const sb_config* cfg, RocksConfig* out, sb_status* st);

// The options RocksDB is opened with.
struct RocksOptions {
  rocksdb::DBOptions db;
  rocksdb::ColumnFamilyOptions cf;  // every keyspace uses these
};
RocksOptions BuildOptions(const RocksConfig& cfg);

}  // namespace sbrocks
