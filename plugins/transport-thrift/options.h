// plugins/transport-thrift/options.h — the `[transport]` section.
//
// Every key is optional; unknown keys and bad values are refused with
// SB_INVALID_ARGUMENT naming the key. The TLS keys go together (all three
// or none) and each must name a readable regular file. Thread safety:
// plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "shardbearer/abi/common.h"
#include "thrift/net/dial.h"

namespace sb::transport_thrift {

struct Options {
  // Largest frame read or written (handshake or envelope), bytes. A message
  // must fit in one envelope, so this also bounds one `send`.
  uint32_t max_frame_bytes = 16u << 20;
  // Messages queued per peer before `send` answers SB_BUSY.
  size_t send_queue_messages = 4096;
  // An envelope carries queued messages up to this many payload bytes
  // (at most max_frame_bytes minus framing overhead).
  size_t batch_max_bytes = 1u << 20;
  int connect_timeout_ms = 3000;
  // An inbound connection with no frame for this long is closed; a dialer
  // closes its connection after half of it with nothing to send, so it never
  // writes into a connection the other side dropped for idleness.
  int idle_timeout_ms = 60000;
  // A begun frame must complete within this (also: handshake reply wait).
  int read_timeout_ms = 10000;
  // Reconnect backoff: doubles from min to max after each failure, with
  // +-25% jitter; reset by a successful handshake.
  int backoff_min_ms = 50;
  int backoff_max_ms = 5000;
  // Inbound connections open at once; more are refused at accept.
  int max_inbound_connections = 256;
  // Mutual TLS when cert_file is set (then key_file and ca_file too).
  sb::wire::TlsFiles tls;
};

// Parses cfg (may be NULL: defaults) into *out.
sb_code ParseOptions(const sb_config* cfg, Options* out, sb_status* st);

}  // namespace sb::transport_thrift
