// runner.h — runs a load phase and a measured run phase against a Target.
//
// Load phase: `records` inserts (keys 0..records-1, one value each), spread
// over the client threads; bounded by `load_timeout_s`.
// Run phase: every client thread (one Session each) issues requests back to
// back, the operation drawn from the workload's mix and the record from the
// request distribution. The first `warmup_s` seconds are not measured; the
// measured part stops after `duration_s` seconds or `max_ops` measured
// requests (0: no count bound), whichever comes first. Latency is recorded
// per operation type in log-linear histograms (one per thread, merged at the
// end) for successful requests only; failed requests are counted by kind,
// and the failing thread pauses `error_backoff_ms` before its next request
// so that an unavailable cluster is not spun on.
//
// Thread safety: RunLoad and RunWorkload create and join their own threads;
// the Target must allow concurrent Open calls.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "tools/bench/generators.h"
#include "tools/bench/histogram.h"
#include "tools/bench/target.h"
#include "tools/bench/workload.h"

namespace sb::bench {

struct RunOptions {
  Workload workload;
  Distribution distribution = Distribution::kZipfian;
  uint64_t records = 1000;
  size_t key_size = 16;
  size_t value_size = 256;
  int clients = 1;
  double duration_s = 10;
  uint64_t max_ops = 0;  // 0: bounded by duration only
  double warmup_s = 0;
  double load_timeout_s = 600;
  uint64_t seed = 1;
  int error_backoff_ms = 10;
};

// Checks ranges and that key_size holds every key the run can create.
// Returns an empty string when valid, else the reason.
std::string ValidateOptions(const RunOptions& o);

enum class StopReason { kCompleted, kDuration, kMaxOps };
const char* StopReasonName(StopReason r);

struct PhaseResult {
  std::string phase;  // "load" or "run"
  double elapsed_s = 0;
  StopReason stopped_by = StopReason::kCompleted;
  Histogram all;
  std::array<Histogram, kOpTypeCount> per_op;
  std::array<uint64_t, kErrorKindCount> errors{};
  uint64_t read_misses = 0;    // reads of absent keys (not errors)
  uint64_t cas_conflicts = 0;  // read-modify-writes whose CAS lost a race
  // The first message seen for each error kind (for the summary).
  std::array<std::string, kErrorKindCount> first_error;

  uint64_t ops() const { return all.count(); }
  uint64_t errors_total() const;
  double throughput() const { return elapsed_s > 0 ? ops() / elapsed_s : 0; }
};

std::unique_ptr<PhaseResult> RunLoad(Target& target, const RunOptions& o);
std::unique_ptr<PhaseResult> RunWorkload(Target& target, const RunOptions& o);

}  // namespace sb::bench
