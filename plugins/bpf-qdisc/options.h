// options.h — the bpf-qdisc plugin's configuration section and its parser.
//
// Keys (all optional; docs/classifier.md has the long form):
//   interface        string   interface attach() uses when given none
//   allowed_cidrs    array    CIDRs whose sources may reach the ports
//   denied_cidrs     array    CIDRs always dropped at the node's ports
//   join_rate        integer  join tokens per second (0..1000000, def. 10)
//   join_burst       integer  join bucket capacity (0..1000000, def. 20)
//   peer_priority    int|str  egress skb->priority of peer traffic
//                             (0..15, or "major:minor" in hex; default 6)
//   client_priority  int|str  same for client traffic (default 0)
//   tc_handle        integer  tc filter handle (1..0xffffffff, def 0x5342)
//   tc_priority      integer  tc filter priority (1..65535, default 1)
// Unknown keys are SB_INVALID_ARGUMENT naming the key. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shardbearer/abi/common.h"

namespace sb::bpfq {

struct Options {
  std::string interface;
  std::vector<std::string> allowed_cidrs;
  std::vector<std::string> denied_cidrs;
  uint32_t join_rate = 10;
  uint32_t join_burst = 20;
  uint32_t peer_priority = 6;    // TC_PRIO_INTERACTIVE: band 0 of pfifo_fast
  uint32_t client_priority = 0;  // TC_PRIO_BESTEFFORT: band 1
  uint32_t tc_handle = 0x5342;
  uint32_t tc_priority = 1;
};

constexpr uint32_t kMaxJoinRate = 1000000;

// Fills *out from `cfg` (NULL = all defaults), validating every value,
// including each CIDR. Returns SB_OK or SB_INVALID_ARGUMENT with a message.
sb_code ParseOptions(const sb_config* cfg, Options* out, sb_status* st);

// Parses a tc priority: decimal/hex integer, or "major:minor" (hex, as tc
// prints class ids). False on error.
bool ParsePriority(const std::string& text, uint32_t* out);

}  // namespace sb::bpfq
