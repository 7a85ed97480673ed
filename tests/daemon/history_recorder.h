// tests/daemon/history_recorder.h — concurrent clients against a running
// cluster, recording a history for the linearizability checker.
//
// Each client thread owns one sb::client::Client (any address; it retries
// and follows hints) and loops over a small key set until told to stop or
// until its operation budget is spent: appends of unique tokens (so a lost
// acknowledged write shows in every later read), puts, gets and
// compare-and-sets. Outcomes follow tests/linearizability/history.h: a
// reply is ok; a read error is failed (it took no effect); a write error
// other than TooLarge / InvalidArgument is unknown (it may have applied).
// Finish() reads every key once more after the clients stop, so the
// checked history ends with the final state.
//
// Thread safety: Start/Stop/Finish from one thread; the clients run on
// their own threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shardbearer/client.h"
#include "tests/linearizability/history.h"

namespace sb::testing {

class HistoryRecorder {
 public:
  HistoryRecorder(std::vector<std::string> addresses, int keys)
      : addresses_(std::move(addresses)) {
    for (int k = 0; k < keys; ++k) keys_.push_back("key-" + std::to_string(k));
  }
  ~HistoryRecorder() { Stop(); }

  void Start(int clients, int max_ops_per_client, uint64_t seed) {
    for (int c = 0; c < clients; ++c) {
      threads_.emplace_back([this, c, max_ops_per_client, seed] {
        Run(static_cast<uint64_t>(c + 1), max_ops_per_client, seed + c);
      });
    }
  }

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  // Stops the clients, then reads every key once (bounded retries) and
  // returns the whole history.
  lincheck::History Finish() {
    Stop();
    client::ClientOptions o;
    o.addresses = addresses_;
    o.max_attempts = 40;
    client::Client c(o);
    for (const std::string& k : keys_) {
      const int64_t t0 = Now();
      auto r = c.Get(k);
      const int64_t t1 = Now();
      if (r.ok()) {
        Record(lincheck::MakeGet(1000, k, r.value(), t0, t1));
      }
    }
    return history_;
  }

  uint64_t acknowledged() const { return acked_.load(); }
  uint64_t unknown() const { return unknown_.load(); }

 private:
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  void Record(lincheck::Operation op) {
    std::lock_guard<std::mutex> l(mu_);
    history_.push_back(std::move(op));
  }

  // The outcome of a write that answered `e`.
  static lincheck::Outcome WriteFailure(const client::Error& e) {
    return e.code == client::ErrorCode::kTooLarge ||
                   e.code == client::ErrorCode::kInvalidArgument
               ? lincheck::Outcome::kFailed
               : lincheck::Outcome::kUnknown;
  }

  void Run(uint64_t id, int max_ops, uint64_t seed) {
    client::ClientOptions o;
    o.addresses = addresses_;
    // Rotate the first address so clients start on different nodes.
    std::rotate(o.addresses.begin(),
                o.addresses.begin() + (id % o.addresses.size()),
                o.addresses.end());
    o.request_timeout_ms = 5000;
    o.max_attempts = 10;
    client::Client c(o);
    std::mt19937_64 rng(seed);
    for (int n = 0; n < max_ops && !stop_; ++n) {
      const std::string& key = keys_[rng() % keys_.size()];
      const std::string token =
          "c" + std::to_string(id) + "." + std::to_string(n) + ";";
      const int kind = static_cast<int>(rng() % 10);
      const int64_t t0 = Now();
      if (kind < 4) {  // append
        auto r = c.Append(key, token);
        const int64_t t1 = Now();
        Note(r.ok());
        Record(r.ok() ? lincheck::MakeAppend(id, key, token, t0, t1)
                      : lincheck::MakeAppend(id, key, token, t0, t1,
                                             WriteFailure(r.error())));
      } else if (kind < 8) {  // get
        auto r = c.Get(key);
        const int64_t t1 = Now();
        if (r.ok()) {
          Record(lincheck::MakeGet(id, key, r.value(), t0, t1));
        }
      } else if (kind < 9) {  // put
        auto r = c.Put(key, token);
        const int64_t t1 = Now();
        Note(r.ok());
        Record(r.ok() ? lincheck::MakePut(id, key, token, t0, t1)
                      : lincheck::MakePut(id, key, token, t0, t1,
                                          WriteFailure(r.error())));
      } else {  // cas from absent
        auto r = c.CompareAndSet(key, std::nullopt, token);
        const int64_t t1 = Now();
        Note(r.ok());
        if (r.ok()) {
          Record(lincheck::MakeCas(id, key, std::nullopt, token,
                                   r.value().succeeded, t0, t1));
        } else {
          Record(lincheck::MakeCas(id, key, std::nullopt, token, false, t0, t1,
                                   WriteFailure(r.error())));
        }
      }
    }
  }

  void Note(bool ok) { (ok ? acked_ : unknown_).fetch_add(1); }

  std::vector<std::string> addresses_;
  std::vector<std::string> keys_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> unknown_{0};
  std::mutex mu_;
  lincheck::History history_;
};

}  // namespace sb::testing
