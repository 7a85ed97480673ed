// clients/cpp/connection.cc — see shardbearer/connection.h.
#include "shardbearer/connection.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include "thrift/net/dial.h"

namespace sb::client {

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;

Result<std::shared_ptr<sb::wire::TlsContext>> LoadClientTls(
    const std::string& cert_file, const std::string& key_file,
    const std::string& ca_file) {
  if (cert_file.empty() && key_file.empty() && ca_file.empty()) {
    return std::shared_ptr<sb::wire::TlsContext>();
  }
  std::string why;
  auto tls = sb::wire::TlsContext::Create({cert_file, key_file, ca_file},
                                          /*server=*/false, &why);
  if (!tls) return Error{ErrorCode::kInvalidArgument, why};
  return tls;
}

Result<std::unique_ptr<Connection>> Connection::Open(
    const ConnectOptions& options,
    const std::shared_ptr<sb::wire::TlsContext>& tls) {
  sb::wire::HostPort hp;
  std::string why;
  if (!sb::wire::ParseHostPort(options.address, &hp, &why)) {
    return Error{ErrorCode::kInvalidArgument, why};
  }
  std::unique_ptr<Connection> c(new Connection());
  c->address_ = options.address;
  try {
    std::shared_ptr<TSocket> socket =
        tls ? tls->factory().createSocket(hp.host, hp.port)
            : std::make_shared<TSocket>(hp.host, hp.port);
    socket->setConnTimeout(options.connect_timeout_ms);
    socket->setRecvTimeout(options.request_timeout_ms);
    socket->setSendTimeout(options.request_timeout_ms);
    c->transport_ = std::make_shared<TFramedTransport>(socket);
    c->protocol_ = std::make_shared<TBinaryProtocol>(c->transport_);
    c->transport_->open();
  } catch (const std::exception& e) {
    return Error{ErrorCode::kUnavailable,
                 "cannot connect to " + options.address + ": " + e.what()};
  }
  return c;
}

Connection::~Connection() {
  try {
    if (transport_) transport_->close();
  } catch (const std::exception&) {
    // Closing a broken connection: nothing left to do.
  }
}

}  // namespace sb::client
