// thrift/net/framing.h — one framed connection: length-prefixed frames read
// with a size limit and deadlines, and Thrift binary (de)serialization of
// bounded buffers.
//
// Frame format (Thrift's framed transport): a 4-byte big-endian length, then
// that many payload bytes. ReadFrame checks the length against
// max_frame_bytes before allocating anything, waits at most idle_timeout_ms
// for a frame to begin and at most read_timeout_ms for a begun frame to end,
// so a slow or silent peer cannot hold a connection forever.
//
// Reads are buffered: one socket read takes whatever has arrived (header,
// payload, even the next frames) into a per-connection buffer of at most
// 64 KiB, and ReadFrame serves frames from it, so a request that arrives
// whole costs one recv. SO_RCVTIMEO is set only when the timeout to arm
// changes: while frames arrive whole the idle timeout stays armed and no
// setsockopt happens per frame.
//
// Thread safety: one thread reads and writes a FramedConnection; Interrupt()
// may be called from any thread and makes a blocked read or write fail.
#pragma once

#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "thrift/net/binary_check.h"

namespace sb::wire {

struct FrameLimits {
  uint32_t max_frame_bytes = 16u << 20;
  int idle_timeout_ms = 60000;   // wait for the first byte of a frame
  int read_timeout_ms = 10000;   // first byte to last byte of a frame
  int write_timeout_ms = 10000;  // one frame written
};

enum class ReadResult {
  kOk,
  kClosed,    // orderly close between frames
  kIdle,      // no frame began within idle_timeout_ms
  kSlow,      // a frame did not complete within read_timeout_ms
  kTooLarge,  // announced length over max_frame_bytes (or zero)
  kError,     // I/O or TLS error, close in the middle of a frame
};

const char* ReadResultName(ReadResult r);

class FramedConnection {
 public:
  FramedConnection(std::shared_ptr<apache::thrift::transport::TSocket> socket,
                   FrameLimits limits);
  ~FramedConnection();
  FramedConnection(const FramedConnection&) = delete;
  FramedConnection& operator=(const FramedConnection&) = delete;

  // Reads one frame's payload into *payload. On anything but kOk, *why says
  // what happened and the connection must be closed.
  ReadResult ReadFrame(std::string* payload, std::string* why);

  // Writes one frame (header + payload) and flushes. False + *why on error
  // or when payload exceeds max_frame_bytes.
  bool WriteFrame(const std::string& payload, std::string* why) {
    return WriteFrame(reinterpret_cast<const uint8_t*>(payload.data()),
                      payload.size(), why);
  }
  bool WriteFrame(const uint8_t* payload, size_t len, std::string* why);

  // Makes a blocked or future read/write fail. Thread-safe, idempotent.
  void Interrupt();
  // True once Interrupt() was called (the server is stopping).
  bool interrupted() const { return interrupted_; }
  // Closes the socket. Called by the owning thread only.
  void Close();

  // "ip:port" of the other side.
  const std::string& peer() const { return peer_; }
  const FrameLimits& limits() const { return limits_; }
  // The socket itself. Bytes ReadFrame already received but not yet
  // returned sit in its buffer, invisible to a poll or read on the socket.
  apache::thrift::transport::TSocket& socket() { return *socket_; }

 private:
  // One socket read of at most n bytes into dst, waiting at most
  // timeout_ms: the count read (> 0), 0 on an orderly close, -1 on timeout,
  // -2 on error or interrupt (*why).
  long ReadSome(uint8_t* dst, size_t n, int timeout_ms, std::string* why);
  // ReadSome inside a begun frame, waiting until deadline_ms (monotonic ms)
  // at most: kOk with *got > 0 bytes, or kSlow / kError (a close is an error
  // here) with *why.
  ReadResult ReadInFrame(uint8_t* dst, size_t n, int64_t deadline_ms,
                         size_t* got, std::string* why);
  // Makes at least n bytes (n <= the buffer's capacity) available in the
  // buffer before deadline_ms: kOk, or kSlow / kError with *why.
  ReadResult Buffer(size_t n, int64_t deadline_ms, std::string* why);
  // False with *why if a frame of `size` bytes is over max_frame_bytes.
  bool FrameFits(size_t size, std::string* why) const;
  // Writes a[0, an) then b[0, bn) and flushes (blocking, up to the write
  // timeout); false with *why on error or after Interrupt().
  bool WriteAll(const uint8_t* a, size_t an, const uint8_t* b, size_t bn,
                std::string* why);

  std::shared_ptr<apache::thrift::transport::TSocket> socket_;
  FrameLimits limits_;
  std::string peer_;
  // Receive buffer, allocated by the first ReadFrame; the bytes received but
  // not yet returned are rbuf_[rbegin_, rend_).
  std::unique_ptr<uint8_t[]> rbuf_;
  size_t rcap_ = 0, rbegin_ = 0, rend_ = 0;
  // The SO_RCVTIMEO last set (-1: never), so it is set only when it changes.
  int armed_timeout_ms_ = -1;
  std::atomic<bool> interrupted_{false};
  // Guards Interrupt() against Close() releasing the descriptor.
  std::mutex fd_mu_;
};

// The 4-byte big-endian length prefix of a frame.
inline void EncodeFrameHeader(uint32_t len, uint8_t out[4]) {
  out[0] = static_cast<uint8_t>(len >> 24);
  out[1] = static_cast<uint8_t>(len >> 16);
  out[2] = static_cast<uint8_t>(len >> 8);
  out[3] = static_cast<uint8_t>(len);
}
inline uint32_t DecodeFrameHeader(const uint8_t in[4]) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) |
         (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}

// Writes as much of one frame (header + payload) to the plaintext socket
// `fd` as it takes at once, never blocking. Returns the bytes written,
// 0..len + 4, or -1 with *why on error.
long SendFrameNow(int fd, const uint8_t* payload, size_t len, std::string* why);

// Monotonic milliseconds.
int64_t NowMs();

// A Thrift configuration whose message size bounds every length field read
// from a buffer of `bytes` bytes (strings and containers larger than the
// buffer are refused before allocation).
std::shared_ptr<apache::thrift::TConfiguration> BoundedConfig(uint32_t bytes);

// Binary-protocol encoding of a generated struct.
template <typename T>
std::string Serialize(const T& value) {
  auto buf = std::make_shared<apache::thrift::transport::TMemoryBuffer>();
  apache::thrift::protocol::TBinaryProtocol proto(buf);
  value.write(&proto);
  return buf->getBufferAsString();
}

// Decodes `bytes` (exactly one struct) into *value. False + *why on
// malformed input; the bytes are checked structurally first, and decoding
// never allocates more than a small multiple of bytes.size().
template <typename T>
bool Deserialize(const std::string& bytes, T* value, std::string* why) {
  if (!CheckBinaryStruct(reinterpret_cast<const uint8_t*>(bytes.data()),
                         bytes.size(), why)) {
    return false;
  }
  try {
    auto buf = std::make_shared<apache::thrift::transport::TMemoryBuffer>(
        reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data())),
        static_cast<uint32_t>(bytes.size()),
        apache::thrift::transport::TMemoryBuffer::OBSERVE,
        BoundedConfig(static_cast<uint32_t>(bytes.size())));
    apache::thrift::protocol::TBinaryProtocol proto(buf);
    proto.setStringSizeLimit(static_cast<int32_t>(bytes.size()));
    proto.setContainerSizeLimit(static_cast<int32_t>(bytes.size()));
    value->read(&proto);
    return true;
  } catch (const std::exception& e) {
    *why = e.what();
    return false;
  }
}

}  // namespace sb::wire
