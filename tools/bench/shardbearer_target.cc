#include "tools/bench/shardbearer_target.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include <mutex>
#include <random>

#include "shardbearer/wire/Kv.h"

namespace sb::bench {
namespace {

namespace w = ::shardbearer::wire;
using apache::thrift::TException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransportException;

bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = address.substr(0, colon);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  }
  const std::string p = address.substr(colon + 1);
  if (p.empty() || p.size() > 5 ||
      p.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const int n = std::stoi(p);
  if (n < 1 || n > 65535) return false;
  *host = h;
  *port = n;
  return true;
}

class ShardbearerSession : public Session {
 public:
  ShardbearerSession(const ShardbearerTargetOptions& opts, size_t first,
                     int64_t client_id)
      : opts_(opts), next_address_(first), client_id_(client_id) {}

  Outcome Get(const std::string& key, bool* found,
              std::string* value) override {
    return Call([&](w::KvClient& kv) {
      w::GetRequest req;
      req.key = key;
      if (opts_.no_forward) req.__set_no_forward(true);
      w::GetResult res;
      kv.get(res, req);
      *found = res.found;
      if (res.found) *value = res.value;
    });
  }

  Outcome Put(const std::string& key, const std::string& value) override {
    return Call([&](w::KvClient& kv) {
      w::PutRequest req;
      req.key = key;
      req.value = value;
      if (opts_.no_forward) req.__set_no_forward(true);
      req.write_id = NextWriteId();
      w::PutResult res;
      kv.put(res, req);
    });
  }

  Outcome CompareAndSet(const std::string& key,
                        const std::optional<std::string>& expected,
                        const std::string& new_value,
                        bool* succeeded) override {
    return Call([&](w::KvClient& kv) {
      w::CasRequest req;
      req.key = key;
      if (opts_.no_forward) req.__set_no_forward(true);
      if (expected) req.__set_expected(*expected);
      req.__set_new_value(new_value);
      req.write_id = NextWriteId();
      w::CasResult res;
      kv.compare_and_set(res, req);
      *succeeded = res.succeeded;
    });
  }

 private:
  w::WriteId NextWriteId() {
    w::WriteId id;
    id.client_id = client_id_;
    id.sequence = ++sequence_;
    return id;
  }

  // Dials when not connected. Returns an empty string or the failure.
  std::string Connect() {
    if (kv_) return "";
    std::string address = hint_;
    hint_.clear();
    if (address.empty()) {
      address = opts_.addresses[next_address_ % opts_.addresses.size()];
      ++next_address_;
    }
    std::string host;
    int port = 0;
    if (!SplitHostPort(address, &host, &port)) {
      return "address '" + address + "' is not host:port";
    }
    auto socket = std::make_shared<TSocket>(host, port);
    socket->setConnTimeout(opts_.connect_timeout_ms);
    socket->setRecvTimeout(opts_.request_timeout_ms);
    socket->setSendTimeout(opts_.request_timeout_ms);
    socket->setNoDelay(true);
    auto transport = std::make_shared<TFramedTransport>(socket);
    try {
      transport->open();
    } catch (const TException& e) {
      return address + ": " + e.what();
    }
    transport_ = transport;
    kv_ = std::make_unique<w::KvClient>(
        std::make_shared<TBinaryProtocol>(transport));
    return "";
  }

  void Disconnect() {
    kv_.reset();
    if (transport_) {
      try {
        transport_->close();
      } catch (const TException&) {
      }
    }
    transport_.reset();
  }

  template <typename Fn>
  Outcome Call(Fn&& fn) {
    if (std::string err = Connect(); !err.empty()) {
      return {ErrorKind::kConnection, err};
    }
    try {
      fn(*kv_);
      return Outcome::Ok();
    } catch (const w::WrongLeader& e) {
      // Follow the hint on the next request; without one, try the next node.
      Disconnect();
      hint_ = e.leader_hint;
      return {ErrorKind::kWrongLeader, e.message};
    } catch (const w::WrongGroup& e) {
      return {ErrorKind::kWrongGroup, e.message};
    } catch (const w::NotReady& e) {
      return {ErrorKind::kNotReady, e.message};
    } catch (const w::Timeout& e) {
      return {ErrorKind::kTimeout, e.message};
    } catch (const w::TooLarge& e) {
      return {ErrorKind::kTooLarge, e.message};
    } catch (const w::InvalidArgument& e) {
      return {ErrorKind::kInvalidArgument, e.message};
    } catch (const TTransportException& e) {
      // The connection state is unknown after any transport failure: a late
      // answer would be read as the next request's. Close it.
      Disconnect();
      if (e.getType() == TTransportException::TIMED_OUT) {
        return {ErrorKind::kTimeout, e.what()};
      }
      return {ErrorKind::kConnection, e.what()};
    } catch (const TException& e) {
      Disconnect();
      return {ErrorKind::kOther, e.what()};
    }
  }

  const ShardbearerTargetOptions& opts_;
  size_t next_address_;
  int64_t client_id_;
  int64_t sequence_ = 0;
  std::string hint_;
  std::shared_ptr<TFramedTransport> transport_;
  std::unique_ptr<w::KvClient> kv_;
};

class ShardbearerTarget : public Target {
 public:
  explicit ShardbearerTarget(ShardbearerTargetOptions opts)
      : opts_(std::move(opts)) {
    std::random_device rd;
    rng_.seed((uint64_t{rd()} << 32) ^ rd());
  }

  std::string name() const override { return "shardbearer"; }

  std::unique_ptr<Session> Open(int index) override {
    int64_t id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Positive as an i64 on the wire, never zero.
      id = static_cast<int64_t>((rng_() >> 1) | 1);
    }
    return std::make_unique<ShardbearerSession>(
        opts_, static_cast<size_t>(index) % opts_.addresses.size(), id);
  }

 private:
  ShardbearerTargetOptions opts_;
  std::mutex mu_;
  std::mt19937_64 rng_;
};

}  // namespace

std::string ParseAddressList(const std::string& list,
                             std::vector<std::string>* out) {
  out->clear();
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    const std::string a = list.substr(pos, comma - pos);
    std::string host;
    int port = 0;
    if (!SplitHostPort(a, &host, &port)) {
      return "'" + a + "' is not host:port (port 1-65535)";
    }
    out->push_back(a);
    pos = comma + 1;
  }
  if (out->empty()) return "no address given";
  return "";
}

std::unique_ptr<Target> MakeShardbearerTarget(ShardbearerTargetOptions opts) {
  return std::make_unique<ShardbearerTarget>(std::move(opts));
}

}  // namespace sb::bench
