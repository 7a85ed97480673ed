#include "tools/bench/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace sb::bench {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t ElapsedNs(Clock::time_point from, Clock::time_point to) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(s));
}

// What one client thread accumulates; merged into a PhaseResult at the end.
struct ThreadStats {
  std::array<Histogram, kOpTypeCount> per_op;
  std::array<uint64_t, kErrorKindCount> errors{};
  uint64_t read_misses = 0;
  uint64_t cas_conflicts = 0;
  std::array<std::string, kErrorKindCount> first_error;
  Clock::time_point finished;
};

void CountError(ThreadStats& s, const Outcome& out, int backoff_ms) {
  const int k = static_cast<int>(out.kind);
  if (s.errors[k]++ == 0) s.first_error[k] = out.message;
  if (backoff_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
  }
}

std::unique_ptr<PhaseResult> Merge(std::string phase,
                                   std::vector<ThreadStats>& stats,
                                   Clock::time_point measure_start) {
  auto r = std::make_unique<PhaseResult>();
  r->phase = std::move(phase);
  Clock::time_point end = measure_start;
  for (ThreadStats& s : stats) {
    for (int i = 0; i < kOpTypeCount; ++i) {
      r->per_op[i].Merge(s.per_op[i]);
      r->all.Merge(s.per_op[i]);
    }
    for (int i = 0; i < kErrorKindCount; ++i) {
      r->errors[i] += s.errors[i];
      if (r->first_error[i].empty()) r->first_error[i] = s.first_error[i];
    }
    r->read_misses += s.read_misses;
    r->cas_conflicts += s.cas_conflicts;
    end = std::max(end, s.finished);
  }
  r->elapsed_s = ElapsedNs(measure_start, end) / 1e9;
  return r;
}

// Raises `a` to at least v (the count of records readers may choose from).
void RaiseTo(std::atomic<uint64_t>& a, uint64_t v) {
  uint64_t cur = a.load(std::memory_order_relaxed);
  while (cur < v && !a.compare_exchange_weak(cur, v)) {
  }
}

}  // namespace

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kCompleted:
      return "completed";
    case StopReason::kDuration:
      return "duration";
    case StopReason::kMaxOps:
      return "max_ops";
  }
  return "?";
}

uint64_t PhaseResult::errors_total() const {
  uint64_t n = 0;
  for (int i = 1; i < kErrorKindCount; ++i) n += errors[i];
  return n;
}

std::string ValidateOptions(const RunOptions& o) {
  if (o.records == 0) return "records must be at least 1";
  if (o.clients < 1 || o.clients > 4096) return "clients must be in [1, 4096]";
  if (!(o.duration_s > 0) || o.duration_s > 86400) {
    return "duration must be in (0, 86400] seconds";
  }
  if (!(o.warmup_s >= 0) || o.warmup_s > 3600) {
    return "warmup must be in [0, 3600] seconds";
  }
  if (!(o.load_timeout_s > 0)) return "load timeout must be positive";
  if (o.value_size == 0 || o.value_size > (64u << 20)) {
    return "value size must be in [1, 64 MiB]";
  }
  if (o.error_backoff_ms < 0) return "error backoff must be >= 0";
  // Inserts of workload d create keys past `records`: at most one per
  // request, so records + max_ops (or a generous bound) must fit.
  uint64_t largest = o.records;
  if (o.workload.insert > 0) {
    largest = o.max_ops > 0 ? o.records + o.max_ops : UINT32_MAX + o.records;
  }
  if (o.key_size < MinKeySize(largest) || o.key_size > 65536) {
    return "key size must be in [" + std::to_string(MinKeySize(largest)) +
           ", 65536] to hold every key of this run";
  }
  return "";
}

std::unique_ptr<PhaseResult> RunLoad(Target& target, const RunOptions& o) {
  std::vector<ThreadStats> stats(o.clients);
  std::atomic<uint64_t> next{0};
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + Seconds(o.load_timeout_s);
  std::atomic<bool> timed_out{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&, t] {
      ThreadStats& s = stats[t];
      Rng rng(o.seed * 1000003 + t);
      std::unique_ptr<Session> session = target.Open(t);
      std::string key;
      for (;;) {
        if (Clock::now() >= deadline) {
          timed_out = true;
          break;
        }
        const uint64_t i = next.fetch_add(1);
        if (i >= o.records) break;
        FormatKey(i, o.key_size, &key);
        const std::string value = RandomValue(rng, o.value_size);
        const Clock::time_point t0 = Clock::now();
        const Outcome out = session->Put(key, value);
        const Clock::time_point t1 = Clock::now();
        if (out.ok()) {
          s.per_op[static_cast<int>(OpType::kInsert)].Record(ElapsedNs(t0, t1));
        } else {
          CountError(s, out, o.error_backoff_ms);
        }
      }
      s.finished = Clock::now();
    });
  }
  for (std::thread& th : threads) th.join();
  auto r = Merge("load", stats, start);
  r->stopped_by = timed_out ? StopReason::kDuration : StopReason::kCompleted;
  return r;
}

std::unique_ptr<PhaseResult> RunWorkload(Target& target, const RunOptions& o) {
  std::vector<ThreadStats> stats(o.clients);
  // Records readers may choose from; inserts (workload d) raise it once
  // acknowledged, and take fresh indices from next_insert.
  std::atomic<uint64_t> visible{o.records};
  std::atomic<uint64_t> next_insert{o.records};
  std::atomic<uint64_t> measured_ops{0};
  std::atomic<bool> hit_max_ops{false};

  // Sessions and key choosers are made before the clock starts; the zeta
  // sum of the latest distribution (O(records)) is computed once for all.
  const double zeta = o.distribution == Distribution::kLatest
                          ? Zeta(o.records, ZipfianGenerator::kYcsbTheta)
                          : 0;
  std::vector<std::unique_ptr<Session>> sessions;
  std::vector<std::unique_ptr<KeyChooser>> choosers;
  for (int t = 0; t < o.clients; ++t) {
    sessions.push_back(target.Open(t));
    choosers.push_back(MakeKeyChooser(o.distribution, o.records, zeta));
  }

  const Clock::time_point start = Clock::now();
  const Clock::time_point measure_start = start + Seconds(o.warmup_s);
  const Clock::time_point end = measure_start + Seconds(o.duration_s);

  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&, t] {
      ThreadStats& s = stats[t];
      Session& session = *sessions[t];
      Rng rng(o.seed * 7919 + 104729 * (t + 1));
      const OpChooser ops(o.workload);
      KeyChooser* keys = choosers[t].get();
      std::string key, value;
      for (;;) {
        const Clock::time_point t0 = Clock::now();
        if (t0 >= end) break;
        const bool measuring = t0 >= measure_start;
        // The count bound applies to measured requests: claim a slot first.
        if (measuring && o.max_ops > 0 &&
            measured_ops.fetch_add(1) >= o.max_ops) {
          hit_max_ops = true;
          break;
        }
        const OpType type = ops.Next(rng);
        Outcome out;
        if (type == OpType::kInsert) {
          const uint64_t i = next_insert.fetch_add(1);
          FormatKey(i, o.key_size, &key);
          out = session.Put(key, RandomValue(rng, o.value_size));
          if (out.ok()) RaiseTo(visible, i + 1);
        } else {
          FormatKey(keys->Next(rng, visible.load()), o.key_size, &key);
          if (type == OpType::kUpdate) {
            out = session.Put(key, RandomValue(rng, o.value_size));
          } else {
            bool found = false;
            out = session.Get(key, &found, &value);
            if (out.ok() && type == OpType::kReadModifyWrite) {
              // Read-modify-write: replace exactly the value just read.
              bool succeeded = false;
              std::optional<std::string> expected;
              if (found) expected = value;
              out = session.CompareAndSet(
                  key, expected, RandomValue(rng, o.value_size), &succeeded);
              if (out.ok() && measuring && !succeeded) ++s.cas_conflicts;
            } else if (out.ok() && measuring && !found) {
              ++s.read_misses;
            }
          }
        }
        const Clock::time_point t1 = Clock::now();
        if (!out.ok()) {
          if (measuring) {
            CountError(s, out, o.error_backoff_ms);
          } else if (o.error_backoff_ms > 0) {
            std::this_thread::sleep_for(
                std::chrono::milliseconds(o.error_backoff_ms));
          }
          continue;
        }
        if (measuring) {
          s.per_op[static_cast<int>(type)].Record(ElapsedNs(t0, t1));
        }
      }
      s.finished = Clock::now();
    });
  }
  for (std::thread& th : threads) th.join();
  auto r = Merge("run", stats, measure_start);
  r->stopped_by = hit_max_ops ? StopReason::kMaxOps : StopReason::kDuration;
  return r;
}

}  // namespace sb::bench
