// tests/durability/batch_schema.h — what one numbered batch of the
// durability test writes, shared by the writer child and the checking
// parent.
//
// Batch n writes four keys "batch/<n, 10 digits>/<i>", i = 0..3: i = 0, 1
// into keyspace kKeyspaceA and i = 2, 3 into kKeyspaceB, each with a value
// derived from (n, i) whose length varies from 100 to about 8 KiB; plus
// kLastKey = n in kKeyspaceA (overwritten every batch). All in one synced
// write batch, so after any crash either all five effects of batch n are
// there or none.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace sb::durability {

inline constexpr const char* kKeyspaceA = "dur_a";
inline constexpr const char* kKeyspaceB = "dur_b";
inline constexpr const char* kLastKey = "last";
inline constexpr int kKeysPerBatch = 4;

inline std::string BatchKey(uint64_t n, int i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "batch/%010llu/%d",
                static_cast<unsigned long long>(n), i);
  return buf;
}

// Deterministic, incompressible-looking value for key i of batch n.
inline std::string BatchValue(uint64_t n, int i) {
  uint64_t x = n * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(i) + 1;
  auto next = [&x] {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 29;
    return x;
  };
  const size_t len = 100 + next() % 8000;
  std::string v(len, '\0');
  for (auto& c : v) c = static_cast<char>(next() & 0xff);
  return v;
}

}  // namespace sb::durability
