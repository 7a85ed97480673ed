// host/order/shard.h — which shard a key belongs to.
//
// shard = FNV-1a 64 (offset basis 14695981039346656037, prime
// 1099511628211) of the key's bytes, modulo the cluster's shard count. The
// same function is documented in thrift/shardbearer.thrift and
// docs/orders.md (with test vectors) so that any client language routes the
// same way. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace sb::order {

inline constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ull;
inline constexpr uint64_t kFnvPrime = 1099511628211ull;

// FNV-1a, 64 bit: for each byte, xor it in, then multiply by the prime
// (mod 2^64).
constexpr uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = kFnvOffsetBasis;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= kFnvPrime;
  }
  return h;
}

// `shards` is 1..65536 ([cluster] shards); the result is < shards.
constexpr uint16_t ShardOf(std::string_view key, uint32_t shards) {
  return static_cast<uint16_t>(Fnv1a64(key) % shards);
}

}  // namespace sb::order
