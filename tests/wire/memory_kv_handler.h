// tests/wire/memory_kv_handler.h — an in-memory KvHandler for API and client
// tests: a map under a mutex, with (client id, sequence) deduplication so a
// retried write answers its first outcome. Not a replicated store.
// Thread safety: all methods take the mutex.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "host/api/handlers.h"

namespace sb::test {

namespace wire = ::shardbearer::wire;
using api::ApiError;
using api::ApiOr;

class MemoryKvHandler : public api::KvHandler {
 public:
  ApiOr<wire::GetResult> Get(const wire::GetRequest& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    return Lookup(r.key);
  }
  ApiOr<wire::PutResult> Put(const wire::PutRequest& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    wire::PutResult out;
    out.applied_index = Apply(r.write_id, [&] { data_[r.key] = r.value; });
    return out;
  }
  ApiOr<wire::AppendResult> Append(const wire::AppendRequest& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    wire::AppendResult out;
    out.applied_index = Apply(r.write_id, [&] { data_[r.key] += r.value; });
    out.new_size = static_cast<int64_t>(data_[r.key].size());
    return out;
  }
  ApiOr<wire::DeleteResult> Delete(const wire::DeleteRequest& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    wire::DeleteResult out;
    out.existed = data_.count(r.key) != 0;
    out.applied_index = Apply(r.write_id, [&] { data_.erase(r.key); });
    return out;
  }
  ApiOr<wire::CasResult> CompareAndSet(const wire::CasRequest& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    wire::CasResult out;
    auto it = data_.find(r.key);
    if (it != data_.end()) out.__set_current(it->second);
    bool match = r.__isset.expected
                     ? (it != data_.end() && it->second == r.expected)
                     : it == data_.end();
    out.succeeded = match;
    out.applied_index = Apply(r.write_id, [&] {
      if (!match) return;
      if (r.__isset.new_value) {
        data_[r.key] = r.new_value;
      } else {
        data_.erase(r.key);
      }
    });
    return out;
  }
  ApiOr<wire::MultiGetResult> MultiGet(
      const wire::MultiGetRequest& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    wire::MultiGetResult out;
    for (const auto& k : r.keys) out.results.push_back(Lookup(k));
    return out;
  }
  int64_t applied() {
    std::lock_guard<std::mutex> lock(mu_);
    return index_;
  }

 private:
  wire::GetResult Lookup(const std::string& key) const {
    wire::GetResult g;
    auto it = data_.find(key);
    g.found = it != data_.end();
    if (g.found) g.__set_value(it->second);
    return g;
  }
  // Applies `fn` unless this (client, sequence) was already applied.
  template <typename Fn>
  int64_t Apply(const wire::WriteId& id, Fn fn) {
    int64_t& last = sessions_[id.client_id];
    if (id.sequence <= last) return index_;
    last = id.sequence;
    fn();
    return ++index_;
  }

  std::mutex mu_;
  std::map<std::string, std::string> data_;
  std::map<int64_t, int64_t> sessions_;
  int64_t index_ = 0;
};

}  // namespace sb::test
