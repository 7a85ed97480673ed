// plugins/storage-mem/dump.h — storage-mem's checkpoint file.
//
// A checkpoint of storage-mem is one file, `storage-mem.dump`, inside the
// checkpoint directory. `open` on a directory holding such a file loads it,
// which is what makes checkpoints usable for snapshot-transfer tests.
//
// Format (integers little-endian):
//   "SBMEMDMP" u32 format_version (= 1)
//   per keyspace:  'K' u32 name_len name u64 entry_count
//                  entry_count x (u32 key_len key u32 value_len value)
//   'E' u64 FNV-1a-64 of every preceding byte
// The file is written under a temporary name, fsynced, then renamed, so a
// crash never leaves a partial dump under the final name.
//
// Thread safety: WriteDump reads the store under its read lock (a consistent
// view; writers wait until the file is written). LoadDump must run before the
// store is shared.
#pragma once

#include <string>

#include "mem_store.h"

namespace sbmem {

inline constexpr const char* kDumpFileName = "storage-mem.dump";

// Outcome of a dump operation: an sb_code value and a message.
struct DumpResult {
  int32_t code;  // sb_code
  std::string message;
};

// Writes `store` to `dir`/storage-mem.dump. `dir` must exist.
DumpResult WriteDump(const MemStore& store, const std::string& dir);

// Loads `path` (a dump file) into `store`, which must be empty.
// SB_CORRUPTION when the file fails validation.
DumpResult LoadDump(const std::string& path, MemStore* store);

}  // namespace sbmem
