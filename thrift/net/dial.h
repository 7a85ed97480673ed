// thrift/net/dial.h — addresses, outbound connections and TLS contexts.
//
// Addresses are "host:port" or "[v6addr]:port". TLS is mutual: both sides
// present a certificate signed by the configured CA and check the other's;
// a peer is trusted when its chain verifies against that CA (no host name
// check: radiants are identified by node id in the handshake, and the CA is
// the cluster's own).
//
// Thread safety: free functions are thread-safe; a TlsContext is immutable
// after creation and may be shared by many threads.
#pragma once

#include <sys/socket.h>
#include <thrift/transport/TSSLSocket.h>
#include <thrift/transport/TSocket.h>

#include <memory>
#include <string>

namespace sb::wire {

struct HostPort {
  std::string host;
  int port = 0;
};

// False + *why when `address` is not host:port with a port in 0..65535.
bool ParseHostPort(const std::string& address, HostPort* out, std::string* why);

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool enabled() const { return !cert_file.empty(); }
};

// A TLS context for one side (server: accepts, client: dials).
class TlsContext {
 public:
  // nullptr + *why when a file is missing or does not parse.
  static std::shared_ptr<TlsContext> Create(const TlsFiles& files, bool server,
                                            std::string* why);
  apache::thrift::transport::TSSLSocketFactory& factory() { return *factory_; }

 private:
  std::shared_ptr<apache::thrift::transport::TSSLSocketFactory> factory_;
};

// A listening TCP socket (close-on-exec, SO_REUSEADDR, backlog 128) on
// `address`: its descriptor, with *bound set to the "host:port" actually
// bound (the real port when 0 was asked) and *port to that port; -1 + *why
// when it cannot resolve or bind.
int ListenTcp(const std::string& address, std::string* bound, int* port,
              std::string* why);

// "ip" of a socket address, and its port in *port when port is not null.
std::string AddressText(const sockaddr_storage& ss, int* port = nullptr);

// Connects to `address` within connect_timeout_ms (TLS when `tls` is set;
// the TLS handshake then happens on first I/O). nullptr + *why on failure.
std::shared_ptr<apache::thrift::transport::TSocket> Dial(
    const std::string& address, int connect_timeout_ms,
    const std::shared_ptr<TlsContext>& tls, std::string* why);

}  // namespace sb::wire
