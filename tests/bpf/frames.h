// frames.h — hand-made Ethernet frames for the classifier's unit tests and
// benchmark, and a runner over bpf_prog_test_run_opts.
//
// Pure builders; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sb::bpftest {

struct FrameSpec {
  std::string src = "10.0.0.1";  // IPv4 or IPv6 (the family follows)
  std::string dst = "10.0.0.2";
  uint8_t proto = 6;  // IPPROTO_TCP / IPPROTO_UDP / other
  uint16_t sport = 40000;
  uint16_t dport = 7000;
  uint8_t tcp_flags = 0x02;       // SYN
  uint8_t ipv4_option_words = 0;  // extra 32-bit words of IPv4 options
  uint16_t ipv4_frag_offset = 0;  // in 8-byte units
  std::vector<uint8_t> ipv6_ext;  // extension header types, in order
  uint16_t ipv6_frag_offset = 0;  // when ipv6_ext contains 44
  int vlan_tags = 0;
  size_t payload = 16;
};

// Builds the frame; addresses must parse (throws std::invalid_argument).
std::vector<uint8_t> BuildFrame(const FrameSpec& spec);

// An ARP request frame (non-IP).
std::vector<uint8_t> BuildArp();

struct RunResult {
  int err = 0;               // 0 or -errno from bpf_prog_test_run_opts
  uint32_t retval = 0;       // TC_ACT_*
  uint32_t priority = 0;     // skb->priority after the run
  uint32_t duration_ns = 0;  // average per run when repeat > 1
};

// Runs `prog_fd` once (or `repeat` times) on `frame`, with skb->priority
// preset to `priority_in`.
RunResult RunProg(int prog_fd, const std::vector<uint8_t>& frame,
                  uint32_t priority_in = 0, uint32_t repeat = 1);

}  // namespace sb::bpftest
