// cidr.h — parsing CIDR text ("10.0.0.0/8", "fd00::/8", "10.1.2.3") into
// the address + prefix form the LPM tables use.
//
// Pure functions on values; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sb::bpfq {

struct Cidr {
  int family = 0;          // 4 or 6
  uint32_t prefixlen = 0;  // 0..32 or 0..128
  uint8_t addr[16] = {};   // network byte order; first 4 bytes for IPv4

  // Canonical text: "10.0.0.0/8", "fd00::/8".
  std::string ToString() const;
};

// Parses `text`. A bare address means a host prefix (/32 or /128). An
// IPv4-mapped IPv6 prefix of length >= 96 ("::ffff:10.0.0.0/104") becomes
// the IPv4 prefix it maps ("10.0.0.0/8"). On error
// returns false and sets *error to a message naming the input; bits set
// beyond the prefix length are an error (the message suggests the network).
bool ParseCidr(std::string_view text, Cidr* out, std::string* error);

// The host prefix of a bare address ("10.0.0.7" -> 10.0.0.7/32). Accepts
// "[v6]" and strips a ":port" suffix from IPv4 "a.b.c.d:port" and
// "[v6]:port", so a member's network address can be passed as is.
bool HostCidrFromAddress(std::string_view address, Cidr* out,
                         std::string* error);

}  // namespace sb::bpfq
