// host/transport/peer_message.h — what the host puts in the transport's
// opaque messages: one PeerMessage of thrift/shardbearer.thrift each, in
// Thrift's binary protocol.
//
// Today the host sends consensus messages only (an order's group id and the
// consensus plugin's bytes). Decoding never trusts the bytes: a truncated
// or garbled message, or a string over the size limit, is InvalidArgument,
// and union members this version does not handle decode as kOther (a newer
// peer may send them; the caller drops them with a log line).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "host/common/status.h"

namespace sb {

std::string EncodeConsensusMessage(uint64_t group, std::string_view payload);

struct PeerMessage {
  enum class Kind { kConsensus, kOther };
  Kind kind = Kind::kOther;
  uint64_t group = 0;   // kConsensus
  std::string payload;  // kConsensus: the plugin's bytes
  std::string other;    // kOther: the union member's name, for logs
};

// `max_bytes` bounds any string or list inside the message.
StatusOr<PeerMessage> DecodePeerMessage(std::string_view bytes,
                                        uint32_t max_bytes);

}  // namespace sb
