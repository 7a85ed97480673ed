// thrift/net/framing.cc — see framing.h.
#include "thrift/net/framing.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <thrift/transport/TTransportException.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

namespace sb::wire {

using apache::thrift::transport::TTransportException;

namespace {
constexpr uint32_t kCoalesceBytes = 4096;

// Receive buffer: room for many requests per recv, small enough to keep
// per connection.
constexpr size_t kReceiveBufferBytes = 64 * 1024;
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

long FramedConnection::ReadSome(uint8_t* dst, size_t n, int timeout_ms,
                                std::string* why) {
  if (interrupted_) {
    *why = "connection interrupted";
    return -2;
  }
  if (timeout_ms <= 0) return -1;  // SO_RCVTIMEO 0 would mean "forever"
  // SO_RCVTIMEO bounds each recv. It costs a setsockopt, so it is set only
  // when the timeout changes (TSSLSocket keeps the value for its own poll).
  if (timeout_ms != armed_timeout_ms_) {
    socket_->setRecvTimeout(timeout_ms);
    armed_timeout_ms_ = timeout_ms;
  }
  try {
    return socket_->read(dst, static_cast<uint32_t>(n));
  } catch (const TTransportException& e) {
    if (e.getType() == TTransportException::TIMED_OUT) return -1;
    // TLS reports an orderly close this way; plain sockets return 0.
    if (e.getType() == TTransportException::END_OF_FILE) return 0;
    *why = e.what();
    return -2;
  } catch (const std::exception& e) {
    *why = e.what();
    return -2;
  }
}

ReadResult FramedConnection::ReadInFrame(uint8_t* dst, size_t n,
                                         int64_t deadline_ms, size_t* got,
                                         std::string* why) {
  // Arming the time left (rather than read_timeout_ms) turns the per-recv
  // timeout into a deadline for the whole frame, however slowly its bytes
  // trickle in.
  long r = ReadSome(dst, n, static_cast<int>(deadline_ms - NowMs()), why);
  if (r > 0) {
    *got = static_cast<size_t>(r);
    return ReadResult::kOk;
  }
  if (r == -1) {
    *why = "frame incomplete after read_timeout_ms=" +
           std::to_string(limits_.read_timeout_ms);
    return ReadResult::kSlow;
  }
  if (r == 0) *why = "closed by peer inside a frame";
  return ReadResult::kError;
}

ReadResult FramedConnection::Buffer(size_t n, int64_t deadline_ms,
                                    std::string* why) {
  if (rend_ - rbegin_ >= n) return ReadResult::kOk;
  if (rcap_ - rbegin_ < n) {
    // Too little room after the buffered bytes: move them to the front
    // (part of one frame, so less than the buffer; rare).
    memmove(rbuf_.get(), rbuf_.get() + rbegin_, rend_ - rbegin_);
    rend_ -= rbegin_;
    rbegin_ = 0;
  }
  while (rend_ - rbegin_ < n) {
    size_t got = 0;
    ReadResult rr =
        ReadInFrame(rbuf_.get() + rend_, rcap_ - rend_, deadline_ms, &got, why);
    if (rr != ReadResult::kOk) return rr;
    rend_ += got;
  }
  return ReadResult::kOk;
}

ReadResult FramedConnection::ReadFrame(std::string* payload, std::string* why) {
  if (interrupted_) {
    *why = "connection interrupted";
    return ReadResult::kError;
  }
  if (!rbuf_) {
    // Sized by our own limit, never by what the peer announces.
    rcap_ = std::min<size_t>(kReceiveBufferBytes,
                             size_t{limits_.max_frame_bytes} + 4);
    rbuf_.reset(new uint8_t[rcap_]);
  }
  // Step 1: unless bytes of the next frame are already buffered, wait up to
  // idle_timeout for the frame to begin. One read takes everything that has
  // arrived, usually the whole frame.
  if (rbegin_ == rend_) {
    rbegin_ = rend_ = 0;
    long r = ReadSome(rbuf_.get(), rcap_, limits_.idle_timeout_ms, why);
    if (r == -1) {
      *why = "no frame within idle_timeout_ms=" +
             std::to_string(limits_.idle_timeout_ms);
      return ReadResult::kIdle;
    }
    if (r == 0) {
      *why = "closed by peer";
      return ReadResult::kClosed;
    }
    if (r < 0) return ReadResult::kError;
    rend_ = static_cast<size_t>(r);
  }
  // Step 2: from here on the whole frame must arrive by one deadline.
  const int64_t deadline = NowMs() + limits_.read_timeout_ms;
  ReadResult rr = Buffer(4, deadline, why);
  if (rr != ReadResult::kOk) return rr;
  const uint32_t len = DecodeFrameHeader(rbuf_.get() + rbegin_);
  // Step 3: refuse oversized (or empty) frames before allocating.
  if (len == 0 || len > limits_.max_frame_bytes) {
    *why = "frame of " + std::to_string(len) + " bytes (max_frame_bytes=" +
           std::to_string(limits_.max_frame_bytes) + ")";
    return ReadResult::kTooLarge;
  }
  // Step 4: a frame that fits the buffer is completed there (the usual
  // case: it is already complete) and copied out; bytes after it stay
  // buffered for the next call.
  if (size_t{len} + 4 <= rcap_) {
    rr = Buffer(size_t{len} + 4, deadline, why);
    if (rr != ReadResult::kOk) return rr;
    payload->assign(reinterpret_cast<const char*>(rbuf_.get() + rbegin_ + 4),
                    len);
    rbegin_ += size_t{len} + 4;
    return ReadResult::kOk;
  }
  // A larger frame: take the buffered part, then read the rest straight
  // into *payload, exactly (so the buffer never grows and nothing after the
  // frame is read).
  payload->resize(len);
  size_t got = rend_ - rbegin_ - 4;
  memcpy(payload->data(), rbuf_.get() + rbegin_ + 4, got);
  rbegin_ = rend_ = 0;
  while (got < len) {
    size_t n = 0;
    rr = ReadInFrame(reinterpret_cast<uint8_t*>(payload->data()) + got,
                     len - got, deadline, &n, why);
    if (rr != ReadResult::kOk) return rr;
    got += n;
  }
  return ReadResult::kOk;
}

bool FramedConnection::FrameFits(size_t size, std::string* why) const {
  if (size <= limits_.max_frame_bytes) return true;
  *why = "frame of " + std::to_string(size) + " bytes over max_frame_bytes=" +
         std::to_string(limits_.max_frame_bytes);
  return false;
}

bool FramedConnection::WriteAll(const uint8_t* a, size_t an, const uint8_t* b,
                                size_t bn, std::string* why) {
  try {
    if (interrupted_) throw std::runtime_error("connection interrupted");
    if (an > 0) socket_->write(a, static_cast<uint32_t>(an));
    if (bn > 0) socket_->write(b, static_cast<uint32_t>(bn));
    socket_->flush();
    return true;
  } catch (const std::exception& e) {
    *why = e.what();
    return false;
  }
}

bool FramedConnection::WriteFrame(const uint8_t* payload, size_t size,
                                  std::string* why) {
  if (!FrameFits(size, why)) return false;
  if (size > kCoalesceBytes) {
    uint8_t header[4];
    EncodeFrameHeader(static_cast<uint32_t>(size), header);
    return WriteAll(header, 4, payload, size, why);
  }
  // One write (one TCP segment with NODELAY) for small frames.
  uint8_t buf[4 + kCoalesceBytes];
  EncodeFrameHeader(static_cast<uint32_t>(size), buf);
  memcpy(buf + 4, payload, size);
  return WriteAll(buf, 4 + size, nullptr, 0, why);
}

long SendFrameNow(int fd, const uint8_t* payload, size_t len,
                  std::string* why) {
  uint8_t header[4];
  EncodeFrameHeader(static_cast<uint32_t>(len), header);
  iovec iov[2] = {{header, 4}, {const_cast<uint8_t*>(payload), len}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = 2;
  for (;;) {
    ssize_t n = ::sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return static_cast<long>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    *why = std::string("send: ") + strerror(errno);
    return -1;
  }
}

}  // namespace sb::wire
