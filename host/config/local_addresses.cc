#include "host/config/local_addresses.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sb {

StatusOr<std::vector<std::string>> LocalIpAddresses() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return Status::IOError(std::string("getifaddrs: ") + std::strerror(errno));
  }
  std::vector<std::string> out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    char buf[INET6_ADDRSTRLEN];
    const char* text = nullptr;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      text = inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      text = inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    }
    if (text != nullptr &&
        std::find(out.begin(), out.end(), text) == out.end()) {
      out.emplace_back(text);
    }
  }
  ::freeifaddrs(list);
  return out;
}

Status CheckSeedsAreNotLocal(const NodeConfig& config,
                             const std::vector<std::string>& local_ips) {
  const NodeOptions& node = config.node;
  // A listener on a specific address answers only there, and ParseConfig
  // already compared seeds with it.
  if (!node.listen_peer.IsWildcard()) return Status::OK();
  for (size_t i = 0; i < node.seeds.size(); ++i) {
    const HostPort& seed = node.seeds[i];
    if (seed.port != node.listen_peer.port) continue;
    for (const std::string& ip : local_ips) {
      if (HostPort{ip, seed.port}.Normalized() != seed.Normalized()) continue;
      SourcePosition pos = i < node.seed_positions.size()
                               ? node.seed_positions[i]
                               : SourcePosition{config.source, 1, 1};
      return Status::InvalidArgument(
          pos.ToString() + ": node.seeds: '" + seed.ToString() +
          "' is this node: " + ip +
          " is an address of this machine and "
          "listen_peer " +
          node.listen_peer.ToString() +
          " listens on all of them; a seed must be another node");
    }
  }
  return Status::OK();
}

Status CheckSeedsAgainstThisMachine(const NodeConfig& config) {
  StatusOr<std::vector<std::string>> ips = LocalIpAddresses();
  if (!ips.ok()) return ips.status();
  return CheckSeedsAreNotLocal(config, *ips);
}

}  // namespace sb
