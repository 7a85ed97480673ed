// tc_netlink.h — the one tc question libbpf cannot answer: does a clsact
// hook still hold any filter (ours or anyone's)? Asked before removing a
// clsact qdisc this plugin created, so that filters other tools added to
// it in the meantime are never destroyed with it.
//
// Thread-safe (one netlink socket per call, in the calling thread's
// network namespace).
#pragma once

#include <cstdint>

namespace sb::bpfq {

// Number of tc filter entries under the clsact `ingress` (true) or egress
// hook of `ifindex`, or a negative errno.
int CountClsactFilters(int ifindex, bool ingress);

}  // namespace sb::bpfq
