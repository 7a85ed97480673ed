// tests/linearizability/checker.h — decides whether a recorded history is
// linearizable.
//
// The search is Wing & Gong's ("Testing and Verifying Concurrent Objects",
// 1993) with the improvements of Lowe ("Testing for Linearizability", 2017):
// a doubly linked list of call and return entries ordered by time from which
// linearized operations are lifted (and unlifted on backtracking), a cache of
// (linearized set, model state) pairs already explored, and just-in-time
// linearization (only operations invoked before the earliest pending return
// are candidates for the next linearization point).
//
// It runs per key. Linearizability is compositional (Herlihy & Wing's
// locality; Lowe's "P-compositionality"): a history of independent objects is
// linearizable iff each object's sub-history is, so each key is searched on
// its own, which keeps the search space small.
//
// Each key's search has a budget (steps and wall time). When it runs out the
// key's verdict is kUnknown: "budget exhausted" is never reported as
// linearizable.
//
// Thread safety: CheckHistory is a pure function of its arguments; concurrent
// calls are safe if the Model is immutable.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/linearizability/history.h"
#include "tests/linearizability/model.h"

namespace sb::lincheck {

struct CheckOptions {
  // Search steps per key (one step: try to linearize one call entry, or
  // backtrack once). Memory grows with the steps: each step may cache the
  // linearized set (n/8 bytes for n operations of the key) and a state.
  uint64_t max_steps_per_key = 2'000'000;
  // Wall time per key; zero means no time limit (steps still bound it).
  std::chrono::milliseconds max_time_per_key{20'000};
  // Stop checking further keys after the first non-linearizable one.
  bool stop_at_first_failure = true;
  // Operations shown either side of the failing one in a report.
  size_t report_context = 12;
};

enum class Verdict : uint8_t {
  kLinearizable,
  kNotLinearizable,
  kUnknown,         // a budget ran out before the search finished
  kInvalidHistory,  // the input is malformed; nothing was checked
};

const char* VerdictName(Verdict verdict);

// The outcome of one key's search.
struct KeyResult {
  std::string key;
  Verdict verdict = Verdict::kLinearizable;
  // Operations searched: the key's operations minus failed ones and reads
  // with unknown outcome (neither constrains the history).
  size_t operations = 0;
  uint64_t steps = 0;
  // For kNotLinearizable: positions in the checked History of the longest
  // linearizable prefix found (in linearization order), of the first
  // operation that could not be linearized after it, and why.
  std::vector<size_t> longest_prefix;
  std::optional<size_t> first_unlinearizable;
  std::string explanation;
  // Multi-line readable report (empty when linearizable).
  std::string report;
};

struct CheckResult {
  Verdict verdict = Verdict::kLinearizable;
  std::string error;  // for kInvalidHistory
  size_t keys_checked = 0;
  // Every key whose verdict is not kLinearizable, in key order.
  std::vector<KeyResult> problems;

  // The verdict line followed by each problem's report.
  std::string Report() const;
};

// Checks `history` against `model`, one key at a time. Operation positions in
// the result refer to `history`.
CheckResult CheckHistory(const History& history, const Model& model,
                         const CheckOptions& options = {});

// The same with the register model of the store.
CheckResult CheckHistory(const History& history,
                         const CheckOptions& options = {});

}  // namespace sb::lincheck
