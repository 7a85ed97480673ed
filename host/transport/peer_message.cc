// host/transport/peer_message.cc — see peer_message.h.
#include "host/transport/peer_message.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <memory>

#include "shardbearer/wire/shardbearer_types.h"
#include "thrift/net/binary_check.h"

namespace sb {

namespace {

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TMemoryBuffer;
namespace pw = ::shardbearer::wire;

}  // namespace

std::string EncodeConsensusMessage(uint64_t group, std::string_view payload) {
  pw::PeerMessage m;
  pw::ConsensusMessage c;
  c.group_id = static_cast<int64_t>(group);
  c.payload.assign(payload.data(), payload.size());
  m.__set_consensus(std::move(c));
  auto buffer = std::make_shared<TMemoryBuffer>(payload.size() + 32);
  TBinaryProtocol protocol(buffer);
  m.write(&protocol);
  return buffer->getBufferAsString();
}

StatusOr<PeerMessage> DecodePeerMessage(std::string_view bytes,
                                        uint32_t max_bytes) {
  // Only structurally valid bytes reach the generated decoder (unknown
  // type codes would load out-of-range enum values there).
  std::string why;
  if (!sb::wire::CheckBinaryStruct(
          reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &why)) {
    return Status::InvalidArgument("malformed peer message: " + why);
  }
  auto buffer = std::make_shared<TMemoryBuffer>(
      reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data())),
      static_cast<uint32_t>(bytes.size()), TMemoryBuffer::OBSERVE);
  TBinaryProtocol protocol(buffer, static_cast<int32_t>(max_bytes),
                           static_cast<int32_t>(max_bytes),
                           /*strict_read=*/false, /*strict_write=*/true);
  pw::PeerMessage m;
  try {
    m.read(&protocol);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("undecodable peer message: ") +
                                   e.what());
  }
  PeerMessage out;
  if (m.__isset.consensus) {
    if (m.consensus.group_id < 0) {
      return Status::InvalidArgument("peer message for negative group id " +
                                     std::to_string(m.consensus.group_id));
    }
    out.kind = PeerMessage::Kind::kConsensus;
    out.group = static_cast<uint64_t>(m.consensus.group_id);
    out.payload = std::move(m.consensus.payload);
    return out;
  }
  out.kind = PeerMessage::Kind::kOther;
  if (m.__isset.migration_request) {
    out.other = "migration_request";
  } else if (m.__isset.migration_chunk) {
    out.other = "migration_chunk";
  } else if (m.__isset.migration_done) {
    out.other = "migration_done";
  } else if (m.__isset.poll) {
    out.other = "poll";
  } else if (m.__isset.poll_reply) {
    out.other = "poll_reply";
  } else if (m.__isset.membership) {
    out.other = "membership";
  } else {
    out.other = "unknown";
  }
  return out;
}

}  // namespace sb
