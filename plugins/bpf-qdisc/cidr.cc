#include "cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sb::bpfq {
namespace {

bool ParseAddress(const std::string& text, Cidr* out) {
  if (inet_pton(AF_INET, text.c_str(), out->addr) == 1) {
    out->family = 4;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out->addr) == 1) {
    out->family = 6;
    return true;
  }
  return false;
}

// Clears the bits of addr beyond prefixlen; true if any was set.
bool MaskHostBits(Cidr* c) {
  const uint32_t bytes = c->family == 4 ? 4 : 16;
  bool had = false;
  for (uint32_t i = 0; i < bytes; ++i) {
    uint32_t first_bit = i * 8;
    uint8_t mask;
    if (c->prefixlen >= first_bit + 8) {
      mask = 0xff;
    } else if (c->prefixlen <= first_bit) {
      mask = 0;
    } else {
      mask = static_cast<uint8_t>(0xff << (8 - (c->prefixlen - first_bit)));
    }
    if (c->addr[i] & ~mask) had = true;
    c->addr[i] &= mask;
  }
  return had;
}

}  // namespace

std::string Cidr::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefixlen);
}

bool ParseCidr(std::string_view text, Cidr* out, std::string* error) {
  *out = Cidr{};
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty() || text.size() > 64) {
    *error =
        "invalid CIDR " + quoted + ": expected e.g. 10.0.0.0/8 or fd00::/8";
    return false;
  }
  std::string_view addr_part = text;
  std::string_view len_part;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr_part = text.substr(0, slash);
    len_part = text.substr(slash + 1);
    if (len_part.empty()) {
      *error = "invalid CIDR " + quoted + ": empty prefix length";
      return false;
    }
  }
  if (!ParseAddress(std::string(addr_part), out)) {
    *error = "invalid CIDR " + quoted + ": '" + std::string(addr_part) +
             "' is not an IPv4 or IPv6 address";
    return false;
  }
  const uint32_t max_len = out->family == 4 ? 32 : 128;
  out->prefixlen = max_len;
  if (!len_part.empty()) {
    uint32_t len = 0;
    auto [ptr, ec] = std::from_chars(len_part.data(),
                                     len_part.data() + len_part.size(), len);
    if (ec != std::errc() || ptr != len_part.data() + len_part.size() ||
        len > max_len) {
      *error = "invalid CIDR " + quoted + ": prefix length must be 0.." +
               std::to_string(max_len);
      return false;
    }
    out->prefixlen = len;
  }
  // An IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/96+) names IPv4 sources:
  // packets from them arrive as IPv4, so store it in the IPv4 table.
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (out->family == 6 && out->prefixlen >= 96 &&
      memcmp(out->addr, kMapped, sizeof kMapped) == 0) {
    uint8_t v4[4];
    memcpy(v4, out->addr + 12, 4);
    memset(out->addr, 0, sizeof out->addr);
    memcpy(out->addr, v4, 4);
    out->family = 4;
    out->prefixlen -= 96;
  }
  Cidr masked = *out;
  if (MaskHostBits(&masked)) {
    *error = "invalid CIDR " + quoted + ": host bits set beyond /" +
             std::to_string(out->prefixlen) + " (did you mean " +
             masked.ToString() + "?)";
    return false;
  }
  return true;
}

bool HostCidrFromAddress(std::string_view address, Cidr* out,
                         std::string* error) {
  std::string_view host = address;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) {
      *error = "invalid address '" + std::string(address) + "': missing ']'";
      return false;
    }
    host = host.substr(1, close - 1);
  } else if (host.find(':') != std::string_view::npos &&
             host.find(':') == host.rfind(':') &&
             host.find('.') != std::string_view::npos) {
    host = host.substr(0, host.find(':'));  // "a.b.c.d:port"
  }
  if (host.find('/') != std::string_view::npos) {
    *error = "invalid address '" + std::string(address) +
             "': expected an address, not a CIDR";
    return false;
  }
  *out = Cidr{};
  if (!ParseAddress(std::string(host), out)) {
    *error = "invalid address '" + std::string(address) +
             "': not an IPv4 or IPv6 address";
    return false;
  }
  out->prefixlen = out->family == 4 ? 32 : 128;
  // Same rule as ParseCidr for IPv4-mapped IPv6 addresses.
  std::string err;
  return ParseCidr(out->ToString(), out, &err) ||
         (*error = std::move(err), false);
}

}  // namespace sb::bpfq
