// clients/cpp/client.cc — see shardbearer/client.h.
#include "shardbearer/client.h"

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "route_table.h"
#include "shardbearer/wire/Admin.h"
#include "shardbearer/wire/Kv.h"
#include "thrift/net/dial.h"

namespace sb::client {

namespace w = ::shardbearer::wire;
using apache::thrift::TApplicationException;
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

// One pooled connection: Kv and Admin share it (method names are unique).
struct Client::Conn {
  std::string address;
  std::shared_ptr<TSocket> socket;
  std::shared_ptr<TFramedTransport> transport;
  std::unique_ptr<w::KvClient> kv;
  std::unique_ptr<w::AdminClient> admin;
  uint64_t last_use = 0;
  bool used = false;  // served a call already (may have gone stale since)
};

// What one operation has learned across its attempts.
struct Client::CallState {
  // Addresses not to try again in this operation (unreachable, or not the
  // herald); cleared when nothing else is left.
  std::set<std::string> skip;
  int refreshes = 0;
  bool refreshed_unassigned = false;
  // A write reached a server that gave no definite answer.
  bool maybe_applied = false;
};

Client::Client(ClientOptions options)
    : options_(std::move(options)), routes_(std::make_unique<RouteTable>()) {
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
  if (!options_.route_by_config) mode_ = Mode::kDirect;
}

Client::~Client() = default;

int64_t Client::config_num() const {
  return mode_ == Mode::kRouted ? routes_->num() : 0;
}

int64_t Client::herald_of(int64_t order) const {
  return mode_ == Mode::kRouted ? routes_->HeraldOf(order) : 0;
}

namespace {

bool ValidAddress(const std::string& a) {
  sb::wire::HostPort hp;
  std::string why;
  return sb::wire::ParseHostPort(a, &hp, &why);
}

void AddUnique(std::vector<std::string>* v, const std::string& a) {
  if (!a.empty() && std::find(v->begin(), v->end(), a) == v->end()) {
    v->push_back(a);
  }
}

constexpr int kMaxBackoffMs = 2000;

}  // namespace

// ---- connections ------------------------------------------------------------

Client::Conn* Client::Connect(const std::string& address, Error* error) {
  auto it = pool_.find(address);
  if (it != pool_.end()) {
    it->second->last_use = ++use_clock_;
    return it->second.get();
  }
  if (!tls_error_.empty()) {
    *error = Error{ErrorCode::kInvalidArgument, tls_error_};
    return nullptr;
  }
  sb::wire::HostPort hp;
  std::string why;
  if (!sb::wire::ParseHostPort(address, &hp, &why)) {
    *error = Error{ErrorCode::kInvalidArgument, why};
    return nullptr;
  }
  auto socket =
      sb::wire::Dial(address, options_.connect_timeout_ms, tls_, &why);
  if (!socket) {
    *error = Error{ErrorCode::kUnavailable, why};
    return nullptr;
  }
  auto c = std::make_unique<Conn>();
  c->address = address;
  c->socket = socket;
  c->socket->setRecvTimeout(options_.request_timeout_ms);
  c->socket->setSendTimeout(options_.request_timeout_ms);
  c->transport = std::make_shared<TFramedTransport>(c->socket);
  auto proto = std::make_shared<TBinaryProtocol>(c->transport);
  c->kv = std::make_unique<w::KvClient>(proto);
  c->admin = std::make_unique<w::AdminClient>(proto);
  c->last_use = ++use_clock_;
  // Keep the pool small: close the least recently used connection.
  const size_t cap = static_cast<size_t>(std::max(1, options_.max_connections));
  while (pool_.size() >= cap) {
    auto lru = std::min_element(
        pool_.begin(), pool_.end(), [](const auto& a, const auto& b) {
          return a.second->last_use < b.second->last_use;
        });
    pool_.erase(lru);
  }
  Conn* raw = c.get();
  pool_[address] = std::move(c);
  return raw;
}

void Client::Drop(const std::string& address) { pool_.erase(address); }

// ---- configuration ----------------------------------------------------------

bool Client::FetchConfig() {
  last_fetch_ = std::chrono::steady_clock::now();
  // Every known address once: the configuration's radiants first (they are
  // current), then the addresses the client was given.
  std::vector<std::string> candidates = routes_->AllAddresses();
  for (const auto& a : options_.addresses) AddUnique(&candidates, a);
  const size_t max_tries = candidates.size() + 2;  // room for two hints
  bool none = false;  // a server answered that it has no configuration
  for (size_t i = 0; i < candidates.size() && i < max_tries; ++i) {
    const std::string& address = candidates[i];
    Error error{};
    Conn* c = Connect(address, &error);
    if (c == nullptr) continue;
    try {
      w::Configuration config;
      c->used = true;
      c->admin->query_config(config, -1);
      std::string why;
      if (routes_->Install(config, &why)) {
        mode_ = Mode::kRouted;
        return true;
      }
      // A configuration this client cannot use is no configuration.
      none = true;
    } catch (const w::WrongLeader& e) {
      if (ValidAddress(e.leader_hint)) AddUnique(&candidates, e.leader_hint);
    } catch (const w::NotReady&) {
      none = true;
    } catch (const TApplicationException& e) {
      // An older server without query_config answers UNKNOWN_METHOD.
      if (e.getType() == TApplicationException::UNKNOWN_METHOD) none = true;
    } catch (const w::Timeout&) {
    } catch (const w::InvalidArgument&) {
    } catch (const std::exception&) {
      Drop(address);
    }
  }
  // Nobody gave a configuration: keep a cached one (a node that is starting
  // may have none yet); without one, route without.
  if (mode_ != Mode::kRouted && none) mode_ = Mode::kDirect;
  return false;
}

void Client::MaybeFetchConfig() {
  if (!options_.route_by_config || mode_ == Mode::kRouted) return;
  auto now = std::chrono::steady_clock::now();
  bool never = last_fetch_ == std::chrono::steady_clock::time_point{};
  if (never || now - last_fetch_ >=
                   std::chrono::milliseconds(options_.config_retry_ms)) {
    FetchConfig();
  }
}

// ---- picking a node ---------------------------------------------------------

std::string Client::NextDirectAddress(CallState& st) {
  // Stay with the node that served last (or a herald a hint named).
  if (!direct_address_.empty() && st.skip.count(direct_address_) == 0) {
    return direct_address_;
  }
  std::vector<std::string> all = options_.addresses;
  if (mode_ == Mode::kRouted) {
    for (const auto& a : routes_->AllAddresses()) AddUnique(&all, a);
  }
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string& a = all[(next_address_ + i) % all.size()];
    if (st.skip.count(a) == 0) {
      next_address_ += i;
      return a;
    }
  }
  return "";
}

void Client::Rotate(const std::string& address) {
  if (direct_address_ == address) direct_address_.clear();
  ++next_address_;
}

std::string Client::PickAddress(int64_t shard, CallState& st) {
  if (!override_address_.empty()) {
    std::string a = std::move(override_address_);
    override_address_.clear();
    if (st.skip.count(a) == 0) return a;
  }
  if (mode_ == Mode::kRouted && shard >= 0) {
    int64_t order = routes_->OwnerOf(static_cast<uint32_t>(shard));
    for (const auto& a : routes_->Candidates(order)) {
      if (st.skip.count(a) == 0) return a;
    }
  }
  return NextDirectAddress(st);
}

// ---- the retry loop ---------------------------------------------------------

template <typename Fn>
auto Client::Call(const std::string* key, bool write, bool stop_on_refresh,
                  Fn&& fn) -> Result<decltype(fn(std::declval<Conn&>()))> {
  CallState st;
  auto finish = [&](Error e) {
    if (write && st.maybe_applied) {
      e.outcome_unknown = true;
      e.message +=
          " (outcome unknown: the write may or may not have been "
          "applied)";
    }
    return e;
  };
  Error last{ErrorCode::kUnavailable, "no address configured"};
  if (options_.addresses.empty()) return last;
  int backoff = options_.backoff_ms;
  bool wait = false;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    auto sleep = [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff = std::min(backoff * 2, kMaxBackoffMs);
    };
    const bool waited = wait;
    if (wait) sleep();
    wait = true;
    MaybeFetchConfig();
    int64_t shard = -1, order = 0;
    if (mode_ == Mode::kRouted && key != nullptr) {
      shard = ShardForKey(*key, static_cast<uint32_t>(routes_->shards()));
      order = routes_->OwnerOf(static_cast<uint32_t>(shard));
      if (order == 0 && !st.refreshed_unassigned &&
          st.refreshes < options_.max_config_refreshes) {
        // The shard has no owner we know of: a newer configuration may.
        st.refreshed_unassigned = true;
        ++st.refreshes;
        FetchConfig();
        if (mode_ == Mode::kRouted) {
          shard = ShardForKey(*key, static_cast<uint32_t>(routes_->shards()));
          order = routes_->OwnerOf(static_cast<uint32_t>(shard));
        } else {
          shard = -1;
        }
      }
    }
    std::string address = PickAddress(shard, st);
    if (address.empty()) {
      // Every node was tried: start over, after a backoff.
      if (!waited) sleep();
      st.skip.clear();
      address = PickAddress(shard, st);
      if (address.empty()) return finish(last);
    }
    Error conn_error{};
    Conn* c = Connect(address, &conn_error);
    if (c == nullptr) {
      if (conn_error.code == ErrorCode::kInvalidArgument) {
        return finish(conn_error);
      }
      last = conn_error;
      st.skip.insert(address);
      if (direct_address_ == address) direct_address_.clear();
      if (order != 0 && routes_->HeraldOf(order) != 0 &&
          routes_->Candidates(order).front() == address) {
        routes_->ForgetHerald(order);
      }
      wait = false;  // the next member or address at once
      continue;
    }
    const bool reused = c->used;
    c->used = true;
    try {
      auto value = fn(*c);
      if (shard < 0) direct_address_ = address;
      return value;
    } catch (const w::WrongLeader& e) {
      last = Error{ErrorCode::kWrongLeader, e.message};
      st.skip.insert(address);
      const bool hint_ok = ValidAddress(e.leader_hint);
      if (order != 0) {
        routes_->LearnHerald(order, e.leader_node_id,
                             hint_ok ? e.leader_hint : "");
        if (routes_->HeraldOf(order) == 0 && hint_ok) {
          override_address_ = e.leader_hint;
        }
        if (routes_->HeraldOf(order) != 0 || hint_ok) {
          // The hint names a node the server tried to reach: a node the
          // client already skipped may be the herald now.
          std::string herald = routes_->HeraldOf(order) != 0
                                   ? routes_->Candidates(order).front()
                                   : e.leader_hint;
          st.skip.erase(herald);
          if (herald != address) wait = false;
        }
      } else if (hint_ok) {
        override_address_ = e.leader_hint;
        st.skip.erase(e.leader_hint);
        if (e.leader_hint != address) wait = false;
      } else {
        Rotate(address);
      }
    } catch (const w::WrongGroup& e) {
      last = Error{ErrorCode::kWrongGroup, e.message};
      if (options_.route_by_config &&
          st.refreshes < options_.max_config_refreshes) {
        ++st.refreshes;
        const int64_t before = config_num();
        FetchConfig();
        if (config_num() > before) wait = false;
        if (stop_on_refresh) return finish(last);
      }
      if (mode_ != Mode::kRouted) Rotate(address);
    } catch (const w::NotReady& e) {
      last = Error{ErrorCode::kNotReady, e.message};
      if (e.retry_after_ms > backoff) {
        backoff = std::min(e.retry_after_ms, kMaxBackoffMs);
      }
      // Routed: the shard's order is right, it is not ready yet. Without a
      // configuration another node may be.
      if (mode_ != Mode::kRouted) Rotate(address);
    } catch (const w::Timeout& e) {
      // Outcome unknown: retry the same request (same write id) there.
      last = Error{ErrorCode::kTimeout, e.message};
      if (write) st.maybe_applied = true;
    } catch (const w::TooLarge& e) {
      return finish(Error{ErrorCode::kTooLarge, e.message});
    } catch (const w::InvalidArgument& e) {
      return finish(Error{ErrorCode::kInvalidArgument, e.message});
    } catch (const std::exception& e) {
      // Connection reset or timed out, or the server failed the call: a
      // write may have been applied.
      last = Error{ErrorCode::kUnavailable, address + ": " + e.what()};
      if (write) st.maybe_applied = true;
      Drop(address);
      if (reused && dynamic_cast<const TApplicationException*>(&e) == nullptr) {
        // A pooled connection the server may have closed while idle: dial
        // the same node once more before moving on.
        wait = false;
        override_address_ = address;
        continue;
      }
      st.skip.insert(address);
      if (direct_address_ == address) direct_address_.clear();
      if (order != 0 && routes_->HeraldOf(order) != 0 &&
          routes_->Candidates(order).front() == address) {
        routes_->ForgetHerald(order);
      }
      wait = false;
    }
  }
  return finish(last);
}

// ---- operations -------------------------------------------------------------

Result<std::optional<std::string>> Client::Get(const std::string& key) {
  w::GetRequest req;
  req.key = key;
  return Call(&key, false, false, [&](Conn& c) {
    w::GetResult r;
    c.kv->get(r, req);
    return r.found ? std::optional<std::string>(r.value) : std::nullopt;
  });
}

Result<std::vector<std::optional<std::string>>> Client::MultiGet(
    const std::vector<std::string>& keys) {
  using Values = std::vector<std::optional<std::string>>;
  if (keys.empty()) {
    // The server's answer to an empty batch (InvalidArgument).
    w::MultiGetRequest req;
    return Call(nullptr, false, false, [&](Conn& c) {
      w::MultiGetResult r;
      c.kv->multi_get(r, req);
      return Values(r.results.size());
    });
  }
  Values out(keys.size());
  std::vector<size_t> pending(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) pending[i] = i;
  Error last{ErrorCode::kWrongGroup, "multi_get: shards kept moving"};
  // Each round sends one multi_get per order; keys answered WrongGroup are
  // regrouped by the refreshed configuration in the next round.
  for (int round = 0; round < std::max(1, options_.max_attempts); ++round) {
    MaybeFetchConfig();
    std::map<int64_t, std::vector<size_t>> groups;  // order -> key indexes
    for (size_t i : pending) {
      int64_t order = 0;
      if (mode_ == Mode::kRouted) {
        order = routes_->OwnerOf(
            ShardForKey(keys[i], static_cast<uint32_t>(routes_->shards())));
      }
      groups[order].push_back(i);
    }
    std::vector<size_t> again;
    for (const auto& [order, indexes] : groups) {
      w::MultiGetRequest req;
      for (size_t i : indexes) req.keys.push_back(keys[i]);
      auto r = Call(&keys[indexes.front()], false, /*stop_on_refresh=*/true,
                    [&](Conn& c) {
                      w::MultiGetResult res;
                      c.kv->multi_get(res, req);
                      return res;
                    });
      if (!r.ok()) {
        if (r.error().code != ErrorCode::kWrongGroup) return r.error();
        last = r.error();
        again.insert(again.end(), indexes.begin(), indexes.end());
        continue;
      }
      const auto& results = r.value().results;
      if (results.size() != indexes.size()) {
        return Error{ErrorCode::kUnavailable,
                     "multi_get answered " + std::to_string(results.size()) +
                         " results for " + std::to_string(indexes.size()) +
                         " keys"};
      }
      for (size_t j = 0; j < indexes.size(); ++j) {
        if (results[j].found) out[indexes[j]] = results[j].value;
      }
    }
    pending = std::move(again);
    if (pending.empty()) return out;
  }
  return last;
}

Result<bool> Client::Put(const std::string& key, const std::string& value) {
  w::PutRequest req;
  req.key = key;
  req.value = value;
  req.write_id.client_id = static_cast<int64_t>(client_id_);
  req.write_id.sequence = ++sequence_;
  return Call(&key, true, false, [&](Conn& c) {
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
  return Call(&key, true, false, [&](Conn& c) {
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
  return Call(&key, true, false, [&](Conn& c) {
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
  return Call(&key, true, false, [&](Conn& c) {
    w::CasResult r;
    c.kv->compare_and_set(r, req);
    CasOutcome o;
    o.succeeded = r.succeeded;
    if (r.__isset.current) o.previous = r.current;
    return o;
  });
}

}  // namespace sb::client
