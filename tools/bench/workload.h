// workload.h — the YCSB core workloads, key naming and the operation mix.
//
//   a  update heavy      50% read, 50% update            zipfian
//   b  read mostly       95% read,  5% update            zipfian
//   c  read only        100% read                        zipfian
//   d  read latest       95% read,  5% insert            latest
//   f  read-modify-write 50% read, 50% read-modify-write zipfian
//   write                100% update (not a YCSB letter)  zipfian
// Workload e (short range scans) is not offered: the Kv service has no scan
// (keys are hash-partitioned, so there is no global key order to scan).
// Read-modify-write is a get followed by a compare-and-set that expects the
// value just read; the pair is timed as one operation.
//
// Thread safety: Workload is immutable after construction; OpChooser is
// per-thread.
#pragma once

#include <cstdint>
#include <string>

#include "tools/bench/generators.h"

namespace sb::bench {

enum class OpType { kRead = 0, kUpdate, kInsert, kReadModifyWrite };
inline constexpr int kOpTypeCount = 4;
const char* OpTypeName(OpType t);

struct Workload {
  std::string name;
  // Proportions, summing to 1.
  double read = 0;
  double update = 0;
  double insert = 0;
  double read_modify_write = 0;
  Distribution default_distribution = Distribution::kZipfian;
};

// Fills *out for a known name. For "e" and unknown names returns false and
// sets *error to why.
bool LookupWorkload(const std::string& name, Workload* out, std::string* error);

// Picks the operation type of each request from the workload's proportions.
class OpChooser {
 public:
  explicit OpChooser(const Workload& w);
  OpType Next(Rng& rng) const;
  // For a uniform u in [0, 1): the operation it selects.
  OpType Pick(double u) const;

 private:
  double cumulative_[kOpTypeCount];
};

// Key of record `index`: "user" then the decimal index, zero-padded to
// exactly `key_size` bytes. Returns false when key_size cannot hold it.
bool FormatKey(uint64_t index, size_t key_size, std::string* out);
// Smallest key size that holds every index below `records`.
size_t MinKeySize(uint64_t records);

// A value of exactly `size` printable random bytes.
std::string RandomValue(Rng& rng, size_t size);

}  // namespace sb::bench
