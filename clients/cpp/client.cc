// clients/cpp/client.cc — see shardbearer/client.h.
#include "shardbearer/client.h"

#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>

#include "shardbearer/connection.h"
#include "shardbearer/wire/Kv.h"

namespace sb::client {

namespace w = ::shardbearer::wire;

uint32_t ShardForKey(const std::string& key, uint32_t shards) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return shards == 0 ? 0 : static_cast<uint32_t>(h % shards);
}

struct Client::Conn {
  std::unique_ptr<Connection> connection;
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
  auto tls = LoadClientTls(options_.tls_cert_file, options_.tls_key_file,
                           options_.tls_ca_file);
  if (tls.ok()) {
    tls_ = tls.value();
  } else {
    tls_error_ = tls.error().message;
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
        if (!tls_error_.empty()) {
          return Error{ErrorCode::kInvalidArgument, tls_error_};
        }
        ConnectOptions co;
        co.address = address;
        co.connect_timeout_ms = options_.connect_timeout_ms;
        co.request_timeout_ms = options_.request_timeout_ms;
        auto opened = Connection::Open(co, tls_);
        if (!opened.ok()) {
          if (opened.error().code == ErrorCode::kInvalidArgument) {
            return opened.error();
          }
          throw std::runtime_error(opened.error().message);
        }
        auto c = std::make_unique<Conn>();
        c->connection = std::move(opened.value());
        c->kv = std::make_unique<w::KvClient>(c->connection->protocol());
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
