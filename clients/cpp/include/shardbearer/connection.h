// shardbearer/connection.h — one open connection to one node's client port
// with the protocol stack every Shardbearer client uses (framed transport,
// binary protocol, optionally mutual TLS). The Kv client (client.h) and the
// operator tool (shardbearer-ctl, Admin) both build their generated Thrift
// clients on it, e.g.
//
//   auto tls = sb::client::LoadClientTls(cert, key, ca);  // or all empty
//   auto conn = sb::client::Connection::Open(opts, tls.value());
//   shardbearer::wire::AdminClient admin(conn.value()->protocol());
//
// Thread safety: a Connection is used by one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "shardbearer/client.h"

namespace apache::thrift::protocol {
class TProtocol;
}
namespace apache::thrift::transport {
class TTransport;
}

namespace sb::client {

struct ConnectOptions {
  std::string address;  // "host:port" or "[v6]:port"
  int connect_timeout_ms = 3000;
  int request_timeout_ms = 10000;  // socket send/receive timeout
};

// The client side of mutual TLS: all three files, or all empty for plain
// TCP (a null context). kInvalidArgument naming the problem when only some
// are given or a file is missing or does not parse.
Result<std::shared_ptr<sb::wire::TlsContext>> LoadClientTls(
    const std::string& cert_file, const std::string& key_file,
    const std::string& ca_file);

class Connection {
 public:
  // Connects (TLS when `tls` is set). kInvalidArgument for a malformed
  // address, kUnavailable when the node cannot be reached in time.
  static Result<std::unique_ptr<Connection>> Open(
      const ConnectOptions& options,
      const std::shared_ptr<sb::wire::TlsContext>& tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // For the generated clients (KvClient, AdminClient).
  std::shared_ptr<apache::thrift::protocol::TProtocol> protocol() const {
    return protocol_;
  }
  const std::string& address() const { return address_; }

 private:
  Connection() = default;
  std::string address_;
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::shared_ptr<apache::thrift::protocol::TProtocol> protocol_;
};

}  // namespace sb::client
