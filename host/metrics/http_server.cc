// host/metrics/http_server.cc — see http_server.h.
#include "host/metrics/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace sb::metrics {
namespace {

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

// Next line of `head` from *pos (without its CRLF or LF).
std::string_view NextLine(std::string_view head, size_t* pos) {
  size_t nl = head.find('\n', *pos);
  if (nl == std::string_view::npos) nl = head.size();
  std::string_view line = head.substr(*pos, nl - *pos);
  *pos = nl + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

const char* Reason(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 505:
      return "HTTP Version Not Supported";
  }
  return "Internal Server Error";
}

std::string Response(int code, const std::string& content_type,
                     const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(code) + " " + Reason(code) +
         "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra + "\r\n" + body;
}

std::string TextError(int code, const std::string& message) {
  return Response(code, "text/plain; charset=utf-8", message + "\n");
}

}  // namespace

HeadParse ParseRequestHead(std::string_view buf, size_t max_bytes,
                           HttpRequestHead* out, std::string* why) {
  // The head ends at the first empty line.
  size_t end = std::string_view::npos;
  size_t skip = 0;
  for (size_t i = 0; i < buf.size(); ++i) {
    if (buf[i] != '\n') continue;
    if (i + 1 < buf.size() && buf[i + 1] == '\n') {
      end = i + 1;
      skip = 1;
      break;
    }
    if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
      end = i + 1;
      skip = 2;
      break;
    }
  }
  if (end == std::string_view::npos || end + skip > max_bytes) {
    if (buf.size() >= max_bytes || end != std::string_view::npos) {
      *why = "request head larger than " + std::to_string(max_bytes) + " bytes";
      return HeadParse::kTooLarge;
    }
    return HeadParse::kIncomplete;
  }
  std::string_view head = buf.substr(0, end);
  if (head.find('\0') != std::string_view::npos) {
    *why = "NUL byte in the request head";
    return HeadParse::kBad;
  }
  size_t pos = 0;
  std::string_view line = NextLine(head, &pos);
  // method SP target SP version
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    *why = "request line is not 'METHOD TARGET VERSION'";
    return HeadParse::kBad;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty()) {
    *why = "empty method";
    return HeadParse::kBad;
  }
  for (char c : method) {
    if (!IsTokenChar(c)) {
      *why = "method is not a token";
      return HeadParse::kBad;
    }
  }
  if (target.empty() || (target[0] != '/' && target != "*")) {
    *why = "target must be an absolute path";
    return HeadParse::kBad;
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      *why = "control character in the target";
      return HeadParse::kBad;
    }
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" ||
      !std::isdigit(static_cast<unsigned char>(version[5])) ||
      version[6] != '.' ||
      !std::isdigit(static_cast<unsigned char>(version[7]))) {
    *why = "malformed HTTP version";
    return HeadParse::kBad;
  }
  // Header fields: name ":" value, the name a token with no space before
  // the colon. Obsolete line folding is refused.
  while (pos < head.size()) {
    std::string_view field = NextLine(head, &pos);
    if (field.empty()) break;
    size_t colon = field.find(':');
    if (colon == 0 || colon == std::string_view::npos) {
      *why = "header line without a field name";
      return HeadParse::kBad;
    }
    for (char c : field.substr(0, colon)) {
      if (!IsTokenChar(c)) {
        *why = "field name is not a token";
        return HeadParse::kBad;
      }
    }
  }
  out->method = std::string(method);
  out->target = std::string(target);
  out->version = std::string(version);
  return HeadParse::kComplete;
}

std::string Respond(HeadParse parse, const HttpRequestHead& head,
                    const std::string& why,
                    const std::function<std::string()>& render) {
  if (parse == HeadParse::kTooLarge) return TextError(431, why);
  if (parse != HeadParse::kComplete) return TextError(400, why);
  if (head.version != "HTTP/1.1" && head.version != "HTTP/1.0") {
    return TextError(505, "only HTTP/1.0 and HTTP/1.1 are served");
  }
  std::string path = head.target.substr(0, head.target.find('?'));
  if (path != "/metrics") {
    return TextError(404, "not found; metrics are at /metrics");
  }
  if (head.method != "GET") {
    return Response(405, "text/plain; charset=utf-8",
                    "only GET is allowed on /metrics\n", "Allow: GET\r\n");
  }
  return Response(200, "text/plain; version=0.0.4; charset=utf-8", render());
}

StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const HostPort& listen, std::function<std::string()> render,
    MetricsServerOptions options) {
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->render_ = std::move(render);
  s->options_ = options;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(listen.port);
  int rc = getaddrinfo(listen.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::InvalidArgument("metrics listen address " +
                                   listen.ToString() + ": " + gai_strerror(rc));
  }
  std::string last = "no address";
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    a->ai_protocol);
    if (fd < 0) {
      last = strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
      last = strerror(errno);
      close(fd);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    s->port_ = ntohs(ss.ss_family == AF_INET6
                         ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    s->listen_fd_ = fd;
    break;
  }
  freeaddrinfo(res);
  if (s->listen_fd_ < 0) {
    return Status::IOError("cannot listen on " + listen.ToString() +
                           " for metrics: " + last);
  }
  s->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->wake_fd_ < 0) {
    return Status::IOError(std::string("eventfd: ") + strerror(errno));
  }
  s->thread_ = std::thread([p = s.get()] { p->Run(); });
  return s;
}

MetricsServer::~MetricsServer() {
  Stop();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void MetricsServer::Stop() {
  if (stop_.exchange(true)) return;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
}

void MetricsServer::Run() {
  using Clock = std::chrono::steady_clock;
  enum class State { kReading, kWriting, kDraining };
  struct Conn {
    int fd;
    Clock::time_point deadline;
    State state = State::kReading;
    std::string in;
    std::string out;
    size_t written = 0;
  };
  std::vector<Conn> conns;
  std::vector<pollfd> fds;
  auto close_conn = [](Conn& c) {
    close(c.fd);
    c.fd = -1;
  };
  while (!stop_.load()) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Conn& c : conns) {
      fds.push_back(
          {c.fd,
           static_cast<short>(c.state == State::kWriting ? POLLOUT : POLLIN),
           0});
    }
    int n = poll(fds.data(), fds.size(), 200);
    if (n < 0 && errno != EINTR) {
      spdlog::error("metrics endpoint: poll: {}", strerror(errno));
      break;
    }
    if (stop_.load()) break;
    const Clock::time_point now = Clock::now();
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (now > c.deadline) {  // slow or silent client
        close_conn(c);
        continue;
      }
      const short ev = n > 0 ? fds[i + 2].revents : 0;
      if (ev == 0) continue;
      if (c.state == State::kWriting) {
        ssize_t w = send(c.fd, c.out.data() + c.written,
                         c.out.size() - c.written, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (w <= 0) {
          close_conn(c);
          continue;
        }
        c.written += static_cast<size_t>(w);
        if (c.written == c.out.size()) {
          // Half-close, then read what the client still sends until it
          // closes too: closing with unread input would reset the
          // connection and could destroy the answer in flight.
          shutdown(c.fd, SHUT_WR);
          c.state = State::kDraining;
          c.out.clear();
        }
        continue;
      }
      char buf[4096];
      ssize_t r = read(c.fd, buf, sizeof buf);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        close_conn(c);  // EOF or error: done (or gone before asking)
        continue;
      }
      if (c.state == State::kDraining) continue;
      c.in.append(buf, static_cast<size_t>(r));
      HttpRequestHead head;
      std::string why;
      HeadParse p =
          ParseRequestHead(c.in, options_.max_request_bytes, &head, &why);
      if (p == HeadParse::kIncomplete) continue;
      c.out = Respond(p, head, why, render_);
      c.in.clear();
      c.state = State::kWriting;
    }
    std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
    if (n > 0 && (fds[1].revents & POLLIN)) {
      // Accept what is pending; beyond the limit, close at once.
      for (int k = 0; k < 64; ++k) {
        int fd =
            accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (static_cast<int>(conns.size()) >= options_.max_connections) {
          close(fd);
          continue;
        }
        Conn c;
        c.fd = fd;
        c.deadline =
            now + std::chrono::milliseconds(options_.request_timeout_ms);
        conns.push_back(std::move(c));
      }
    }
  }
  for (Conn& c : conns) close(c.fd);
}

}  // namespace sb::metrics
