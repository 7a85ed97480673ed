// tests/linearizability/model.h — the sequential specification the checker
// compares a history against.
//
// A Model describes one object (here: the value under one key) as a
// deterministic state machine: an initial state and a step function that, given
// a state and an operation with its recorded output, says whether the
// operation could have produced that output from that state and, if so, the
// state after it. The checker only ever calls the model through this
// interface, so a later suite can check another object (a counter, a queue, a
// shard map) by supplying its own Model.
//
// States are opaque byte strings whose encoding the model chooses. Two states
// must compare Equal exactly when the object behaves the same from them; the
// checker memoizes (linearized set, state) pairs with Hash/Equal (Lowe 2017),
// so a canonical encoding makes the defaults (byte equality) right.
//
// The checker treats an operation with outcome kUnknown as one whose output is
// unconstrained: Step must accept it whenever the operation itself is possible
// (for the register: always), applying its effect.
//
// Thread safety: the checker calls a Model from the calling thread only, but
// implementations should be immutable (all methods const, no caches) so that
// a caller may check several histories or keys in parallel with one Model.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "tests/linearizability/history.h"

namespace sb::lincheck {

using ModelState = std::string;

class Model {
 public:
  virtual ~Model() = default;

  // The state of the object before any operation.
  virtual ModelState Init() const = 0;

  // Applies `op` to `state`. Returns false if `op` with its recorded output
  // cannot happen in `state`; otherwise stores the resulting state in *next.
  virtual bool Step(const ModelState& state, const Operation& op,
                    ModelState* next) const = 0;

  // True if `op`, whenever Step accepts it, leaves the state unchanged (a
  // read; a compare-and-set known to have failed). The checker linearizes
  // such operations as early as possible and never tries alternatives to
  // them, which prunes most of the search. Answer false when unsure: an
  // operation that may change the state in some states (an unknown-outcome
  // compare-and-set) must not be declared read-only.
  virtual bool IsReadOnly(const Operation& op) const {
    (void)op;
    return false;
  }

  virtual size_t Hash(const ModelState& state) const {
    return std::hash<ModelState>{}(state);
  }
  virtual bool Equal(const ModelState& a, const ModelState& b) const {
    return a == b;
  }

  // A readable rendering of a state, for reports.
  virtual std::string Describe(const ModelState& state) const = 0;

  // One line saying why `op` could not be linearized, given the state after
  // the longest linearizable prefix and the whole sub-history of the object.
  virtual std::string Explain(const ModelState& state, const Operation& op,
                              std::span<const Operation> sub_history) const;
};

// The per-key register of the store: optional<bytes>, absent at start.
//   get      succeeds iff its output equals the current value (nil: absent)
//   put v    value := v
//   append v value := value + v (absent counts as empty: append = put)
//   delete   value := absent
//   cas e v  if value == e (nil: absent) then value := v, succeeded = true
//            else succeeded = false; the recorded result must match
class RegisterModel : public Model {
 public:
  ModelState Init() const override;
  bool Step(const ModelState& state, const Operation& op,
            ModelState* next) const override;
  bool IsReadOnly(const Operation& op) const override;
  std::string Describe(const ModelState& state) const override;
  std::string Explain(const ModelState& state, const Operation& op,
                      std::span<const Operation> sub_history) const override;

  // The encoding of a register value: "" for absent, "=" + bytes if present.
  static ModelState Encode(const std::optional<std::string>& value);
  static std::optional<std::string> Decode(const ModelState& state);
};

}  // namespace sb::lincheck
