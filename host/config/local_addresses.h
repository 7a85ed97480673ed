// host/config/local_addresses.h — checks of a loaded configuration against
// the machine it runs on.
//
// ParseConfig() judges the text alone, so a node listening on a wildcard
// address (listen_peer = "0.0.0.0:7400") can still name itself in its seeds
// through one of its interface addresses ("10.0.0.1:7400"): a self-loop of
// the association graph. CheckSeedsAgainstThisMachine() finds those, using
// the interface addresses of this machine; the daemon runs it at start and
// in --check-config. Seeds given as host names are not resolved here.
//
// Thread safety: the functions share no state; LocalIpAddresses() reads the
// OS's interface list and may run concurrently.
#pragma once

#include <string>
#include <vector>

#include "host/common/status.h"
#include "host/config/config.h"

namespace sb {

// The IPv4 and IPv6 addresses of this machine's interfaces, in canonical
// text ("10.0.0.1", "::1"), from getifaddrs(3). IOError if that fails.
StatusOr<std::vector<std::string>> LocalIpAddresses();

// InvalidArgument "FILE:LINE:COLUMN: node.seeds: ..." at the first seed that
// is this node: listen_peer is a wildcard of the seed's family or any
// address, the seed's port is listen_peer's, and its IP is in `local_ips`.
Status CheckSeedsAreNotLocal(const NodeConfig& config,
                             const std::vector<std::string>& local_ips);

// LocalIpAddresses() then CheckSeedsAreNotLocal().
Status CheckSeedsAgainstThisMachine(const NodeConfig& config);

}  // namespace sb
