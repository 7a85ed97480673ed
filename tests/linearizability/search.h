// tests/linearizability/search.h — the per-key search behind CheckHistory
// (internal to this library).
//
// SearchKey runs Wing & Gong's search with Lowe's improvements over the
// operations of one object and returns the verdict, the number of steps, and
// for a failure the longest linearizable prefix found, the operation that
// could not be linearized after it and the model state between them.
//
// Thread safety: a pure function of its arguments.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "tests/linearizability/checker.h"
#include "tests/linearizability/history.h"
#include "tests/linearizability/model.h"

namespace sb::lincheck::internal {

struct SearchOutcome {
  Verdict verdict = Verdict::kLinearizable;
  uint64_t steps = 0;
  // Indices into the searched span.
  std::vector<size_t> longest_prefix;
  size_t stuck = 0;  // valid when verdict == kNotLinearizable
  ModelState state_after_prefix;
};

// `ops` must hold valid operations (ValidateOperation) of one object, with
// failed operations and unknown reads already removed.
SearchOutcome SearchKey(std::span<const Operation> ops, const Model& model,
                        uint64_t max_steps, std::chrono::milliseconds max_time);

}  // namespace sb::lincheck::internal
