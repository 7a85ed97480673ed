// tests/support/inproc_transport/instance.h — one node's transport on an
// in-process Network (private to this folder). Thread safety: members under
// `mu` are guarded by it; counters are atomics; the rest is set at create.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "shardbearer/abi/transport.h"
#include "tests/support/inproc_transport/inproc_transport.h"

struct sb_transport {
  sb::inproc::Instance* impl;
};

namespace sb::inproc {

// One node's transport on a Network.
class Instance {
 public:
  Network* net = nullptr;
  const sb_host_services* host = nullptr;
  uint64_t id = 0;
  std::string cluster;
  std::string listen_address;
  sb_transport_deliver_fn deliver = nullptr;
  void* deliver_ctx = nullptr;
  size_t queue_limit = 4096;

  std::mutex mu;  // guards the members below
  std::map<uint64_t, std::string> peers;
  std::string bound;
  bool listening = false;
  bool shut_down = false;

  std::atomic<uint64_t> sent{0}, bytes_sent{0}, received{0}, bytes_received{0},
      busy{0}, refused{0};

  bool KnowsPeer(uint64_t node) {
    std::lock_guard<std::mutex> lock(mu);
    return !shut_down && peers.count(node) != 0;
  }
};

}  // namespace sb::inproc
