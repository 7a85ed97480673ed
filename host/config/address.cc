#include "host/config/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace sb {
namespace {

constexpr char kExpected[] =
    "expected host:port, e.g. 127.0.0.1:7400, node1.example.com:7400 or "
    "[::1]:7400";

bool IsIpv4(const std::string& host, in_addr* out) {
  return inet_pton(AF_INET, host.c_str(), out) == 1;
}

bool IsIpv6(const std::string& host, in6_addr* out) {
  return inet_pton(AF_INET6, host.c_str(), out) == 1;
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-',
// 1..63 characters each, not starting or ending with '-'; 253 characters at
// most. One trailing dot (fully qualified form) is allowed.
bool IsHostName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

Status Bad(std::string_view text, const std::string& why) {
  return Status::InvalidArgument("'" + std::string(text) + "' " + why + "; " +
                                 kExpected);
}

}  // namespace

StatusOr<HostPort> HostPort::Parse(std::string_view text) {
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Bad(text, "has '[' without a matching ']'");
    }
    host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return Bad(text, "has no port after the bracketed IPv6 address");
    }
    port_text = rest.substr(1);
    in6_addr a6;
    if (!IsIpv6(host, &a6)) {
      return Bad(text, "has '" + host + "' in brackets, not an IPv6 address");
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Bad(text, "has no port");
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return Bad(text, "looks like an IPv6 address without brackets");
    }
    if (host.empty()) {
      return Bad(text,
                 "has no host (write 0.0.0.0 to listen on every "
                 "interface)");
    }
    bool numeric = std::all_of(host.begin(), host.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
    });
    in_addr a4;
    if (numeric) {
      if (!IsIpv4(host, &a4)) {
        return Bad(text, "has '" + host + "', not a valid IPv4 address");
      }
    } else if (!IsHostName(host)) {
      return Bad(text, "has '" + host +
                           "', not a valid host name (letters, digits, '-' "
                           "and '.')");
    }
  }
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return Bad(text, "has no valid port (a number 1..65535)");
  }
  unsigned long port = std::stoul(std::string(port_text));
  if (port < 1 || port > 65535) {
    return Bad(text,
               "has port " + std::string(port_text) + " out of range 1..65535");
  }
  HostPort hp;
  hp.host = std::move(host);
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

std::string HostPort::Normalized() const {
  HostPort n = *this;
  char buf[INET6_ADDRSTRLEN];
  in_addr a4;
  in6_addr a6;
  if (IsIpv4(host, &a4)) {
    n.host = inet_ntop(AF_INET, &a4, buf, sizeof buf);
  } else if (IsIpv6(host, &a6)) {
    n.host = inet_ntop(AF_INET6, &a6, buf, sizeof buf);
  } else {
    std::transform(n.host.begin(), n.host.end(), n.host.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (!n.host.empty() && n.host.back() == '.') n.host.pop_back();
    if (n.host == "localhost") n.host = "127.0.0.1";
  }
  return n.ToString();
}

bool HostPort::IsWildcard() const {
  in_addr a4;
  in6_addr a6;
  if (IsIpv4(host, &a4)) return a4.s_addr == htonl(INADDR_ANY);
  if (IsIpv6(host, &a6)) return IN6_IS_ADDR_UNSPECIFIED(&a6);
  return false;
}

bool HostPort::IsLoopback() const {
  in_addr a4;
  in6_addr a6;
  if (IsIpv4(host, &a4)) return (ntohl(a4.s_addr) >> 24) == 127;
  if (IsIpv6(host, &a6)) return IN6_IS_ADDR_LOOPBACK(&a6);
  std::string lower = host;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (!lower.empty() && lower.back() == '.') lower.pop_back();
  return lower == "localhost";
}

}  // namespace sb
