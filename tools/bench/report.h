// report.h — human-readable summary and JSON output of a benchmark.
//
// The JSON format ("format": "shardbearer-bench/1") is shared with the etcd
// load generator in tools/etcd-compare, so one script compares both:
//
//   { "format": "shardbearer-bench/1", "tool": ..., "target": ...,
//     "endpoints": [...], "workload": "a", "distribution": "zipfian",
//     "records": N, "key_size": N, "value_size": N, "clients": N,
//     "duration_s": x, "max_ops": N, "warmup_s": x, "seed": N,
//     "phases": [ { "phase": "load"|"run", "elapsed_s": x,
//                   "stopped_by": "completed"|"duration"|"max_ops",
//                   "ops": N, "throughput_ops_s": x,
//                   "latency_us": LAT,
//                   "operations": { "<op>": { "ops": N,
//                                             "throughput_ops_s": x,
//                                             "latency_us": LAT } },
//                   "errors": { "<kind>": N, ... }, "errors_total": N,
//                   "read_misses": N, "cas_conflicts": N } ] }
//   LAT = { "min", "mean", "p50", "p95", "p99", "p99_9", "max" } in
//         microseconds (numbers); all zero when no operation succeeded.
// "ops" counts successful requests; "errors" lists every kind of target.h,
// zeros included. Operations absent from the workload are left out.
//
// Thread safety: pure functions.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "tools/bench/runner.h"

namespace sb::bench {

struct ReportHeader {
  std::string tool = "shardbearer-bench";
  std::string target;
  std::vector<std::string> endpoints;
};

std::string ToJson(const ReportHeader& header, const RunOptions& options,
                   const std::vector<const PhaseResult*>& phases);

void PrintSummary(std::ostream& os, const PhaseResult& phase);

}  // namespace sb::bench
