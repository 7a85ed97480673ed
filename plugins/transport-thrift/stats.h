// plugins/transport-thrift/stats.h — counters behind sb_transport_stats.
// Thread safety: atomics, updated from any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "shardbearer/abi/transport.h"

namespace sb::transport_thrift {

struct Stats {
  std::atomic<uint64_t> messages_sent{0}, bytes_sent{0}, messages_received{0},
      bytes_received{0}, send_busy{0}, messages_dropped{0}, envelopes_sent{0},
      connects{0}, connect_failures{0}, inbound_accepted{0}, inbound_refused{0},
      inbound_open{0}, outbound_open{0};

  void Fill(sb_transport_stats* out, uint64_t extra_refused) const;
};

}  // namespace sb::transport_thrift
