// thrift/net/dial.cc — see dial.h.
#include "thrift/net/dial.h"

#include <cstdlib>
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
