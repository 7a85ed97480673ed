// thrift/net/dial.cc — see dial.h.
#include "thrift/net/dial.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace sb::wire {

using apache::thrift::transport::AccessManager;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TSSLSocketFactory;

namespace {

// Trust every peer whose certificate chain OpenSSL verified against the CA.
class CaOnlyAccessManager : public AccessManager {
 public:
  Decision verify(const sockaddr_storage&) noexcept override { return ALLOW; }
  Decision verify(const std::string&, const char*, int) noexcept override {
    return ALLOW;
  }
  Decision verify(const sockaddr_storage&, const char*, int) noexcept override {
    return ALLOW;
  }
};

}  // namespace

int ListenTcp(const std::string& address, std::string* bound, int* port,
              std::string* why) {
  HostPort hp;
  if (!ParseHostPort(address, &hp, why)) return -1;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(hp.port);
  int gai = getaddrinfo(hp.host.empty() ? nullptr : hp.host.c_str(),
                        service.c_str(), &hints, &res);
  if (gai != 0) {
    *why = "cannot resolve " + address + ": " + gai_strerror(gai);
    return -1;
  }
  int fd = -1;
  std::string err;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        ::listen(fd, 128) == 0) {
      break;
    }
    err = strerror(errno);
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    *why = "cannot listen on " + address + ": " + err;
    return -1;
  }
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
  const std::string host = AddressText(ss, port);
  *bound = ss.ss_family == AF_INET6 ? "[" + host + "]:" + std::to_string(*port)
                                    : host + ":" + std::to_string(*port);
  return fd;
}

std::string AddressText(const sockaddr_storage& ss, int* port) {
  char host[INET6_ADDRSTRLEN] = "?";
  int p = 0;
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    p = ntohs(a->sin6_port);
  } else if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    p = ntohs(a->sin_port);
  }
  if (port != nullptr) *port = p;
  return host;
}

bool ParseHostPort(const std::string& address, HostPort* out,
                   std::string* why) {
  std::string host, port;
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      *why = "address '" + address + "' is not [v6addr]:port";
      return false;
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      *why = "address '" + address + "' is not host:port";
      return false;
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos ||
      std::atoi(port.c_str()) > 65535) {
    *why = "address '" + address + "' has no valid port";
    return false;
  }
  out->host = host;
  out->port = std::atoi(port.c_str());
  return true;
}

std::shared_ptr<TlsContext> TlsContext::Create(const TlsFiles& files,
                                               bool server, std::string* why) {
  for (const std::string* f :
       {&files.cert_file, &files.key_file, &files.ca_file}) {
    std::error_code ec;
    if (f->empty() || !std::filesystem::is_regular_file(*f, ec)) {
      *why = "TLS needs cert_file, key_file and ca_file; '" + *f +
             "' is not a readable file";
      return nullptr;
    }
  }
  auto ctx = std::shared_ptr<TlsContext>(new TlsContext());
  try {
    ctx->factory_ =
        std::make_shared<TSSLSocketFactory>(apache::thrift::transport::TLSv1_2);
    ctx->factory_->server(server);
    ctx->factory_->loadCertificate(files.cert_file.c_str());
    ctx->factory_->loadPrivateKey(files.key_file.c_str());
    ctx->factory_->loadTrustedCertificates(files.ca_file.c_str());
    ctx->factory_->authenticate(true);
    ctx->factory_->access(std::make_shared<CaOnlyAccessManager>());
  } catch (const std::exception& e) {
    *why = std::string("TLS setup failed: ") + e.what();
    return nullptr;
  }
  return ctx;
}

std::shared_ptr<TSocket> Dial(const std::string& address,
                              int connect_timeout_ms,
                              const std::shared_ptr<TlsContext>& tls,
                              std::string* why) {
  HostPort hp;
  if (!ParseHostPort(address, &hp, why)) return nullptr;
  try {
    std::shared_ptr<TSocket> sock;
    if (tls) {
      sock = tls->factory().createSocket(hp.host, hp.port);
    } else {
      sock = std::make_shared<TSocket>(hp.host, hp.port);
    }
    sock->setConnTimeout(connect_timeout_ms);
    sock->setNoDelay(true);
    sock->setLinger(false, 0);
    sock->open();
    return sock;
  } catch (const std::exception& e) {
    *why = "connect to " + address + " failed: " + e.what();
    return nullptr;
  }
}

}  // namespace sb::wire
