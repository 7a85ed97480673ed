#include "privilege.h"

#include <sys/resource.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace sb::bpfq {
namespace {

constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;
constexpr int kCapBpf = 39;

// Effective capability set from /proc/self/status ("CapEff:\t<hex>").
bool EffectiveCaps(uint64_t* caps) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      try {
        *caps = std::stoull(line.substr(7), nullptr, 16);
        return true;
      } catch (...) {
        return false;
      }
    }
  }
  return false;
}

}  // namespace

std::string DescribeMissingPrivilege(const std::string& what) {
  uint64_t caps = 0;
  std::string msg = what + " was refused (EPERM): ";
  if (!EffectiveCaps(&caps)) {
    return msg +
           "cannot read the capabilities of this process; it needs "
           "CAP_BPF and CAP_NET_ADMIN";
  }
  auto has = [caps](int cap) { return (caps >> cap) & 1; };
  std::string missing;
  if (!has(kCapBpf) && !has(kCapSysAdmin)) {
    missing += "CAP_BPF (or CAP_SYS_ADMIN) to create BPF maps and programs";
  }
  if (!has(kCapNetAdmin) && !has(kCapSysAdmin)) {
    if (!missing.empty()) missing += " and ";
    missing += "CAP_NET_ADMIN to load and attach tc programs";
  }
  if (!missing.empty()) {
    return msg + "the process lacks " + missing +
           " (grant them, e.g. AmbientCapabilities=CAP_BPF CAP_NET_ADMIN "
           "in the systemd unit)";
  }
  struct rlimit rl = {};
  if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    return msg +
           "the process has CAP_BPF and CAP_NET_ADMIN, but its "
           "memlock limit (RLIMIT_MEMLOCK) is " +
           std::to_string(rl.rlim_cur / 1024) +
           " KiB, too low for the BPF maps on this kernel; raise it "
           "(LimitMEMLOCK=infinity in the systemd unit, ulimit -l)";
  }
  return msg +
         "the process has CAP_BPF, CAP_NET_ADMIN and no memlock "
         "limit; a security module (SELinux, lockdown) or "
         "kernel.unprivileged_bpf_disabled policy refused it";
}

}  // namespace sb::bpfq
