// thrift/net/framing.cc — see framing.h.
#include "thrift/net/framing.h"

#include <sys/socket.h>
#include <thrift/transport/TTransportException.h>

#include <chrono>
#include <cstring>
#include <mutex>

namespace sb::wire {

using apache::thrift::transport::TTransportException;

namespace {
constexpr uint32_t kCoalesceBytes = 4096;
}  // namespace

const char* ReadResultName(ReadResult r) {
  switch (r) {
    case ReadResult::kOk:
      return "ok";
    case ReadResult::kClosed:
      return "closed";
    case ReadResult::kIdle:
      return "idle timeout";
    case ReadResult::kSlow:
      return "read timeout";
    case ReadResult::kTooLarge:
      return "frame too large";
    case ReadResult::kError:
      return "error";
  }
  return "?";
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<apache::thrift::TConfiguration> BoundedConfig(uint32_t bytes) {
  // The message size is what checkReadBytesAvailable() compares every
  // announced string/container length against.
  int limit = bytes > 0x7fffffffu ? 0x7fffffff : static_cast<int>(bytes);
  if (limit < 16) limit = 16;
  return std::make_shared<apache::thrift::TConfiguration>(limit, limit);
}

FramedConnection::FramedConnection(
    std::shared_ptr<apache::thrift::transport::TSocket> socket,
    FrameLimits limits)
    : socket_(std::move(socket)), limits_(limits) {
  try {
    peer_ = socket_->getPeerAddress() + ":" +
            std::to_string(socket_->getPeerPort());
  } catch (const std::exception&) {
    peer_ = "?";
  }
  socket_->setSendTimeout(limits_.write_timeout_ms);
}

FramedConnection::~FramedConnection() { Close(); }

void FramedConnection::Interrupt() {
  std::lock_guard<std::mutex> lock(fd_mu_);
  interrupted_ = true;
  if (socket_->isOpen()) ::shutdown(socket_->getSocketFD(), SHUT_RDWR);
}

void FramedConnection::Close() {
  std::lock_guard<std::mutex> lock(fd_mu_);
  try {
    socket_->close();
  } catch (const std::exception&) {
  }
}

int FramedConnection::ReadExactly(uint8_t* buf, size_t n, int64_t deadline_ms,
                                  bool* eof_at_start, std::string* why) {
  size_t got = 0;
  *eof_at_start = false;
  while (got < n) {
    if (interrupted_) {
      *why = "connection interrupted";
      return -2;
    }
    int64_t left = deadline_ms - NowMs();
    if (left <= 0) return -1;
    // SO_RCVTIMEO bounds each recv; re-arming it with the time left turns
    // the per-call timeout into a deadline for the whole read.
    socket_->setRecvTimeout(static_cast<int>(left));
    uint32_t r;
    try {
      r = socket_->read(buf + got, static_cast<uint32_t>(n - got));
    } catch (const TTransportException& e) {
      if (e.getType() == TTransportException::TIMED_OUT) return -1;
      if (e.getType() == TTransportException::END_OF_FILE) {
        // TLS reports an orderly close this way; plain sockets return 0.
        *eof_at_start = (got == 0);
        *why = got == 0 ? "closed by peer" : "closed by peer inside a frame";
        return -2;
      }
      *why = e.what();
      return -2;
    } catch (const std::exception& e) {
      *why = e.what();
      return -2;
    }
    if (r == 0) {
      *eof_at_start = (got == 0);
      *why = got == 0 ? "closed by peer" : "closed by peer inside a frame";
      return -2;
    }
    got += r;
  }
  return 0;
}

ReadResult FramedConnection::ReadFrame(std::string* payload, std::string* why) {
  uint8_t header[4];
  bool eof_at_start = false;
  // Step 1: wait up to idle_timeout for the first header byte.
  int rc = ReadExactly(header, 1, NowMs() + limits_.idle_timeout_ms,
                       &eof_at_start, why);
  if (rc == -1) {
    *why = "no frame within idle_timeout_ms=" +
           std::to_string(limits_.idle_timeout_ms);
    return ReadResult::kIdle;
  }
  if (rc == -2) return eof_at_start ? ReadResult::kClosed : ReadResult::kError;
  // Step 2: from here on the whole frame must arrive by one deadline.
  int64_t deadline = NowMs() + limits_.read_timeout_ms;
  rc = ReadExactly(header + 1, 3, deadline, &eof_at_start, why);
  if (rc == 0) {
    uint32_t len = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                   (uint32_t{header[2]} << 8) | uint32_t{header[3]};
    // Step 3: refuse oversized (or empty) frames before allocating.
    if (len == 0 || len > limits_.max_frame_bytes) {
      *why = "frame of " + std::to_string(len) + " bytes (max_frame_bytes=" +
             std::to_string(limits_.max_frame_bytes) + ")";
      return ReadResult::kTooLarge;
    }
    payload->resize(len);
    rc = ReadExactly(reinterpret_cast<uint8_t*>(payload->data()), len, deadline,
                     &eof_at_start, why);
  }
  if (rc == -1) {
    *why = "frame incomplete after read_timeout_ms=" +
           std::to_string(limits_.read_timeout_ms);
    return ReadResult::kSlow;
  }
  return rc == 0 ? ReadResult::kOk : ReadResult::kError;
}

bool FramedConnection::WriteFrame(const uint8_t* payload, size_t size,
                                  std::string* why) {
  if (size > limits_.max_frame_bytes) {
    *why = "frame of " + std::to_string(size) + " bytes over max_frame_bytes=" +
           std::to_string(limits_.max_frame_bytes);
    return false;
  }
  uint32_t len = static_cast<uint32_t>(size);
  uint8_t header[4] = {
      static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16),
      static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)};
  try {
    if (interrupted_) throw std::runtime_error("connection interrupted");
    if (len <= kCoalesceBytes) {
      // One write (one TCP segment with NODELAY) for small frames.
      uint8_t buf[4 + kCoalesceBytes];
      memcpy(buf, header, 4);
      memcpy(buf + 4, payload, len);
      socket_->write(buf, 4 + len);
    } else {
      socket_->write(header, 4);
      socket_->write(payload, len);
    }
    socket_->flush();
    return true;
  } catch (const std::exception& e) {
    *why = e.what();
    return false;
  }
}

}  // namespace sb::wire
