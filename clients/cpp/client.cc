// clients/cpp/client.cc — see shardbearer/client.h.
#include "shardbearer/client.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <chrono>
#include <random>
#include <thread>

#include "shardbearer/wire/Kv.h"
#include "thrift/net/dial.h"

namespace sb::client {

namespace w = ::shardbearer::wire;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;

uint32_t ShardForKey(const std::string& key, uint32_t shards) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return shards == 0 ? 0 : static_cast<uint32_t>(h % shards);
}

struct Client::Conn {
  std::string address;
  std::shared_ptr<TSocket> socket;
  std::shared_ptr<TFramedTransport> transport;
  std::unique_ptr<w::KvClient> kv;
};

Client::Client(ClientOptions options) : options_(std::move(options)) {
  client_id_ = options_.client_id;
  if (client_id_ == 0) {
    std::random_device rd;
    std::mt19937_64 g((uint64_t{rd()} << 32) ^ rd());
    // Positive as an i64 on the wire, never zero.
    client_id_ = (g() >> 1) | 1;
  }
  sb::wire::TlsFiles files{options_.tls_cert_file, options_.tls_key_file,
                           options_.tls_ca_file};
  if (!files.cert_file.empty() || !files.key_file.empty() ||
      !files.ca_file.empty()) {
    tls_ = sb::wire::TlsContext::Create(files, /*server=*/false, &tls_error_);
  }
}

Client::~Client() = default;

namespace {

Error FromException(ErrorCode code, const std::string& m) {
  return Error{code, m};
}

}  // namespace

template <typename Fn>
auto Client::Call(Fn&& fn) -> Result<decltype(fn(std::declval<Conn&>()))> {
  Error last{ErrorCode::kUnavailable, "no address configured"};
  int backoff = options_.backoff_ms;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (options_.addresses.empty()) break;
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff = std::min(backoff * 2, 2000);
    }
    bool next_node = false;
    try {
      if (!conn_) {
        std::string address =
            override_address_.empty()
                ? options_.addresses[next_address_ % options_.addresses.size()]
                : override_address_;
        override_address_.clear();
        size_t colon = address.rfind(':');
        if (colon == std::string::npos) {
          return Error{ErrorCode::kInvalidArgument,
                       "address '" + address + "' is not host:port"};
        }
        std::string host = address.substr(0, colon);
        if (host.size() > 2 && host.front() == '[') {
          host = host.substr(1, host.size() - 2);
        }
        if (!tls_error_.empty()) {
          return Error{ErrorCode::kInvalidArgument, tls_error_};
        }
        auto c = std::make_unique<Conn>();
        c->address = address;
        const int port = std::stoi(address.substr(colon + 1));
        if (tls_) {
          c->socket = tls_->factory().createSocket(host, port);
        } else {
          c->socket = std::make_shared<TSocket>(host, port);
        }
        c->socket->setConnTimeout(options_.connect_timeout_ms);
        c->socket->setRecvTimeout(options_.request_timeout_ms);
        c->socket->setSendTimeout(options_.request_timeout_ms);
        c->transport = std::make_shared<TFramedTransport>(c->socket);
        c->kv = std::make_unique<w::KvClient>(
            std::make_shared<TBinaryProtocol>(c->transport));
        c->transport->open();
        conn_ = std::move(c);
      }
      return fn(*conn_);
    } catch (const w::WrongLeader& e) {
      last = FromException(ErrorCode::kWrongLeader, e.message);
      conn_.reset();
      if (!e.leader_hint.empty()) {
        override_address_ = e.leader_hint;
        backoff = options_.backoff_ms;  // a hint is worth trying at once
      } else {
        next_node = true;
      }
    } catch (const w::WrongGroup& e) {
      last = FromException(ErrorCode::kWrongGroup, e.message);
      next_node = true;
    } catch (const w::NotReady& e) {
      last = FromException(ErrorCode::kNotReady, e.message);
      if (e.retry_after_ms > backoff)
        backoff = std::min(e.retry_after_ms, 2000);
      next_node = true;
    } catch (const w::Timeout& e) {
      // Outcome unknown: retry the same request (same write id).
      last = FromException(ErrorCode::kTimeout, e.message);
    } catch (const w::TooLarge& e) {
      return FromException(ErrorCode::kTooLarge, e.message);
    } catch (const w::InvalidArgument& e) {
      return FromException(ErrorCode::kInvalidArgument, e.message);
    } catch (const std::exception& e) {
      // Connection refused, reset or timed out: outcome unknown for a write.
      last = FromException(ErrorCode::kUnavailable, e.what());
      next_node = true;
    }
    if (next_node) {
      conn_.reset();
      ++next_address_;
    }
  }
  return last;
}

Result<std::optional<std::string>> Client::Get(const std::string& key) {
  w::GetRequest req;
  req.key = key;
  return Call([&](Conn& c) {
    w::GetResult r;
    c.kv->get(r, req);
    return r.found ? std::optional<std::string>(r.value) : std::nullopt;
  });
}

Result<std::vector<std::optional<std::string>>> Client::MultiGet(
    const std::vector<std::string>& keys) {
  w::MultiGetRequest req;
  req.keys = keys;
  return Call([&](Conn& c) {
    w::MultiGetResult r;
    c.kv->multi_get(r, req);
    std::vector<std::optional<std::string>> out;
    for (auto& g : r.results) {
      out.push_back(g.found ? std::optional<std::string>(g.value)
                            : std::nullopt);
    }
    return out;
  });
}

Result<bool> Client::Put(const std::string& key, const std::string& value) {
  w::PutRequest req;
  req.key = key;
  req.value = value;
  req.write_id.client_id = static_cast<int64_t>(client_id_);
  req.write_id.sequence = ++sequence_;
  return Call([&](Conn& c) {
    w::PutResult r;
    c.kv->put(r, req);
    return true;
  });
}

Result<int64_t> Client::Append(const std::string& key,
                               const std::string& value) {
  w::AppendRequest req;
  req.key = key;
  req.value = value;
  req.write_id.client_id = static_cast<int64_t>(client_id_);
  req.write_id.sequence = ++sequence_;
  return Call([&](Conn& c) {
    w::AppendResult r;
    c.kv->append(r, req);
    return r.new_size;
  });
}

Result<bool> Client::Delete(const std::string& key) {
  w::DeleteRequest req;
  req.key = key;
  req.write_id.client_id = static_cast<int64_t>(client_id_);
  req.write_id.sequence = ++sequence_;
  return Call([&](Conn& c) {
    w::DeleteResult r;
    c.kv->remove(r, req);
    return r.existed;
  });
}

Result<CasOutcome> Client::CompareAndSet(
    const std::string& key, const std::optional<std::string>& expected,
    const std::optional<std::string>& new_value) {
  w::CasRequest req;
  req.key = key;
  if (expected) req.__set_expected(*expected);
  if (new_value) req.__set_new_value(*new_value);
  req.write_id.client_id = static_cast<int64_t>(client_id_);
  req.write_id.sequence = ++sequence_;
  return Call([&](Conn& c) {
    w::CasResult r;
    c.kv->compare_and_set(r, req);
    CasOutcome o;
    o.succeeded = r.succeeded;
    if (r.__isset.current) o.previous = r.current;
    return o;
  });
}

}  // namespace sb::client
