// host/config/address.h — network addresses in the node configuration.
//
// A HostPort is "host:port" as an operator writes it: an IPv4 address, a DNS
// name, or an IPv6 address in brackets ("[::1]:7400"). Parse() accepts only
// well-formed addresses with a port in 1..65535; Normalized() gives the form
// used to compare two addresses (seed self-loop and duplicate checks):
// lower-case names without a trailing dot, canonical IP text, and
// "localhost" folded into "127.0.0.1". No name is ever resolved: parsing and
// comparing are pure functions of the text.
//
// Thread safety: plain values, no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "host/common/status.h"

namespace sb {

struct HostPort {
  std::string host;  // as written, without brackets for IPv6
  uint16_t port = 0;

  // Parses "host:port" / "[v6]:port". The error message (InvalidArgument)
  // says what is wrong and what is expected; it carries no file position.
  static StatusOr<HostPort> Parse(std::string_view text);

  // "host:port", with brackets around an IPv6 host.
  std::string ToString() const;
  // Canonical "host:port" for comparisons (see the header comment).
  std::string Normalized() const;
  // 0.0.0.0 or :: — listens on every interface, unreachable as a target.
  bool IsWildcard() const;
  // 127.0.0.0/8, ::1 or localhost.
  bool IsLoopback() const;

  bool operator==(const HostPort&) const = default;
};

}  // namespace sb
