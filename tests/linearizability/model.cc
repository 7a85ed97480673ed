// tests/linearizability/model.cc — the register model and its explanations.
#include "tests/linearizability/model.h"

namespace sb::lincheck {

std::string Model::Explain(const ModelState& state, const Operation& op,
                           std::span<const Operation>) const {
  return std::string(OpKindName(op.kind)) +
         " could not be linearized: no placement inside its interval is "
         "consistent with the rest of the history (state after the longest "
         "linearizable prefix: " +
         Describe(state) + ")";
}

ModelState RegisterModel::Encode(const std::optional<std::string>& value) {
  return value ? "=" + *value : ModelState();
}

std::optional<std::string> RegisterModel::Decode(const ModelState& state) {
  if (state.empty()) return std::nullopt;
  return state.substr(1);
}

ModelState RegisterModel::Init() const { return Encode(std::nullopt); }

bool RegisterModel::Step(const ModelState& state, const Operation& op,
                         ModelState* next) const {
  const bool known = op.outcome == Outcome::kOk;
  switch (op.kind) {
    case OpKind::kGet:
      // An unknown read observes nothing; a known one must see the value.
      if (known && Decode(state) != op.output) return false;
      *next = state;
      return true;
    case OpKind::kPut:
      *next = Encode(op.value);
      return true;
    case OpKind::kAppend:
      // Append to an absent key behaves as put.
      *next = state.empty() ? Encode(op.value) : state + op.value;
      return true;
    case OpKind::kDelete:
      *next = Encode(std::nullopt);
      return true;
    case OpKind::kCas: {
      const bool matches = Decode(state) == op.expected;
      if (known && matches != op.cas_succeeded) return false;
      *next = matches ? Encode(op.value) : state;
      return true;
    }
  }
  return false;
}

bool RegisterModel::IsReadOnly(const Operation& op) const {
  // A get never writes; a cas known to have failed wrote nothing. A cas of
  // unknown outcome may have swapped, so it is not read-only.
  return op.kind == OpKind::kGet ||
         (op.kind == OpKind::kCas && op.outcome == Outcome::kOk &&
          !op.cas_succeeded);
}

std::string RegisterModel::Describe(const ModelState& state) const {
  return QuoteOptional(Decode(state), 48);
}

namespace {

// Whether some operation of the sub-history (other than `self`) could leave
// the register holding exactly `value` (nil: absent).
bool SomeWriteProduces(const std::optional<std::string>& value,
                       const Operation& self,
                       std::span<const Operation> sub_history) {
  for (const Operation& w : sub_history) {
    if (&w == &self || w.outcome == Outcome::kFailed) continue;
    switch (w.kind) {
      case OpKind::kGet:
        break;
      case OpKind::kPut:
        if (value == w.value) return true;
        break;
      case OpKind::kAppend:
        if (value && value->ends_with(w.value)) return true;
        break;
      case OpKind::kDelete:
        if (!value) return true;
        break;
      case OpKind::kCas:
        if (value == w.value &&
            !(w.outcome == Outcome::kOk && !w.cas_succeeded)) {
          return true;
        }
        break;
    }
  }
  return false;
}

std::string WriteOf(const std::optional<std::string>& value) {
  return value ? "write of " + QuoteBytes(*value, 48) : "delete";
}

}  // namespace

std::string RegisterModel::Explain(
    const ModelState& state, const Operation& op,
    std::span<const Operation> sub_history) const {
  const std::string held = " (the register holds " + Describe(state) +
                           " after the longest linearizable prefix)";
  // The value a read or a successful CAS needed to observe.
  std::optional<std::string> needed;
  std::string what;
  if (op.kind == OpKind::kGet && op.outcome == Outcome::kOk) {
    needed = op.output;
    what = "get returned " + QuoteOptional(op.output, 48);
    if (!op.output) what = "get returned not-found";
  } else if (op.kind == OpKind::kCas && op.outcome == Outcome::kOk &&
             op.cas_succeeded) {
    needed = op.expected;
    what = "cas expecting " + QuoteOptional(op.expected, 48) + " succeeded";
  } else if (op.kind == OpKind::kCas && op.outcome == Outcome::kOk) {
    return "cas expecting " + QuoteOptional(op.expected, 48) +
           " failed, but no write changing the value away from it could be "
           "linearized before it" +
           held;
  } else {
    return Model::Explain(state, op, sub_history);
  }
  if (!needed && op.kind == OpKind::kGet && state.empty()) {
    // Absent at the failure point yet rejected: the prefix itself is fine,
    // the contradiction lies in what follows.
    return Model::Explain(state, op, sub_history);
  }
  const bool initial = !needed;  // the register starts absent
  if (!initial && !SomeWriteProduces(needed, op, sub_history)) {
    return what + " but no operation of this key (failed ones excluded) " +
           "writes that value";
  }
  return what + " but no " + WriteOf(needed) +
         " could be linearized before it" + held;
}

}  // namespace sb::lincheck
