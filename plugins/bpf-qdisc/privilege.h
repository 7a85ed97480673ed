// privilege.h — explaining why bpf() or a tc netlink request was refused.
//
// Thread-safe: reads /proc/self/status and the process rlimits.
#pragma once

#include <string>

namespace sb::bpfq {

// A sentence naming what this process lacks to load and attach the
// classifier: the missing capabilities among CAP_BPF (or CAP_SYS_ADMIN) and
// CAP_NET_ADMIN, or, when it has them, the RLIMIT_MEMLOCK value that is too
// low. `what` names the refused step ("loading the BPF programs").
std::string DescribeMissingPrivilege(const std::string& what);

}  // namespace sb::bpfq
