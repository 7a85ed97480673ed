// host/common/node_number.h — the 64-bit number that names a radiant on
// the wire.
//
// Operators name nodes with strings ([node] id = "radiant-1"); consensus,
// the transport and the Thrift API name them with non-zero 64-bit numbers.
// The number is derived from the id, so every node computes every other
// node's number without coordination: FNV-1a 64 of the id's bytes, with 0
// (no node) mapped to 1. Two ids with the same number cannot be members of
// one cluster; admission refuses the second.
#pragma once

#include <cstdint>
#include <string_view>

namespace sb {

constexpr uint64_t NodeNumber(std::string_view id) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  return h == 0 ? 1 : h;
}

}  // namespace sb
