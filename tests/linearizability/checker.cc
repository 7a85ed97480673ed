// tests/linearizability/checker.cc — splits a history by key, runs the search
// on each key's sub-history and writes the reports.
#include "tests/linearizability/checker.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

#include "tests/linearizability/search.h"

namespace sb::lincheck {

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "not linearizable";
    case Verdict::kUnknown:
      return "unknown (budget exhausted)";
    case Verdict::kInvalidHistory:
      return "invalid history";
  }
  return "?";
}

namespace {

constexpr size_t kMaxPrefixShown = 20;
constexpr size_t kMaxOperations = size_t{1} << 30;

// The report of one non-linearizable key. `global` maps positions in the
// searched sub-history to positions in the checked History.
std::string FailureReport(const KeyResult& r, std::span<const Operation> sub,
                          const std::vector<size_t>& global,
                          const internal::SearchOutcome& s, const Model& model,
                          size_t context) {
  auto id = [&](size_t local) { return "#" + std::to_string(global[local]); };
  std::string out = "key " + QuoteBytes(r.key, 64) + ": not linearizable (" +
                    std::to_string(sub.size()) + " operations, " +
                    std::to_string(r.steps) + " search steps)\n";
  out += "  " + r.explanation + "\n";
  out += "  first operation that could not be linearized: " + id(s.stuck) +
         " " + DescribeOperation(sub[s.stuck]) + "\n";
  out += "  longest linearizable prefix: " +
         std::to_string(s.longest_prefix.size()) + " of " +
         std::to_string(sub.size()) + " operations, leaving " +
         model.Describe(s.state_after_prefix) + "\n";
  const size_t n = s.longest_prefix.size();
  const size_t from = n > kMaxPrefixShown ? n - kMaxPrefixShown : 0;
  if (from > 0) {
    out += "    ... " + std::to_string(from) + " earlier operations\n";
  }
  for (size_t i = from; i < n; ++i) {
    const size_t op = s.longest_prefix[i];
    out += "    " + std::to_string(i + 1) + ". " + id(op) + " " +
           DescribeOperation(sub[op]) + "\n";
  }

  // The operations around the failure, by invoke time. "L<n>" marks the
  // n-th operation of the prefix above, ">>" the one that failed.
  std::vector<size_t> order(sub.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return sub[a].invoke < sub[b].invoke;
  });
  std::vector<size_t> position(sub.size(), 0);
  for (size_t i = 0; i < n; ++i) position[s.longest_prefix[i]] = i + 1;
  const size_t at =
      std::find(order.begin(), order.end(), s.stuck) - order.begin();
  const size_t lo = at > context ? at - context : 0;
  const size_t hi = std::min(order.size(), at + context + 1);
  out +=
      "  operations around it, by invoke time (L<n>: n-th of the prefix, "
      ">>: could not be linearized, -: not in the prefix):\n";
  for (size_t i = lo; i < hi; ++i) {
    const size_t op = order[i];
    std::string mark = op == s.stuck  ? ">>"
                       : position[op] ? "L" + std::to_string(position[op])
                                      : "-";
    mark.resize(std::max<size_t>(mark.size(), 5), ' ');
    std::string ident = id(op);
    ident.resize(std::max<size_t>(ident.size(), 7), ' ');
    out += "    " + ident + mark + DescribeOperation(sub[op]) + "\n";
  }
  if (lo > 0 || hi < order.size()) {
    out += "    (" + std::to_string(order.size() - (hi - lo)) +
           " more operations of this key not shown)\n";
  }
  return out;
}

KeyResult CheckKey(const History& history, const std::string& key,
                   const std::vector<size_t>& members, const Model& model,
                   const CheckOptions& options) {
  KeyResult r;
  r.key = key;
  // Failed operations never took effect and unknown reads observed nothing
  // the client saw: neither constrains the history, so both are dropped.
  std::vector<Operation> sub;
  std::vector<size_t> global;
  for (size_t i : members) {
    const Operation& op = history[i];
    if (op.outcome == Outcome::kFailed) continue;
    if (op.outcome == Outcome::kUnknown && op.IsRead()) continue;
    sub.push_back(op);
    global.push_back(i);
  }
  r.operations = sub.size();
  internal::SearchOutcome s = internal::SearchKey(
      sub, model, options.max_steps_per_key, options.max_time_per_key);
  r.verdict = s.verdict;
  r.steps = s.steps;
  if (s.verdict == Verdict::kUnknown) {
    r.report = "key " + QuoteBytes(key, 64) + ": unknown, budget exhausted " +
               "after " + std::to_string(s.steps) + " search steps (" +
               std::to_string(sub.size()) + " operations)\n";
  } else if (s.verdict == Verdict::kNotLinearizable) {
    for (size_t op : s.longest_prefix) r.longest_prefix.push_back(global[op]);
    r.first_unlinearizable = global[s.stuck];
    r.explanation = model.Explain(s.state_after_prefix, sub[s.stuck], sub);
    r.report = FailureReport(r, sub, global, s, model, options.report_context);
  }
  return r;
}

}  // namespace

std::string CheckResult::Report() const {
  std::string out = std::string("history is ") + VerdictName(verdict);
  if (verdict == Verdict::kInvalidHistory) return out + ": " + error + "\n";
  out += " (" + std::to_string(keys_checked) + " keys checked)\n";
  for (const KeyResult& k : problems) out += k.report;
  return out;
}

CheckResult CheckHistory(const History& history, const Model& model,
                         const CheckOptions& options) {
  CheckResult result;
  // P-compositionality: group by key and check each group on its own. A
  // std::map keeps the key order, and so the reports, deterministic.
  std::map<std::string, std::vector<size_t>, std::less<>> by_key;
  // The search indexes operations with int; refuse what would overflow.
  if (history.size() > kMaxOperations) {
    result.verdict = Verdict::kInvalidHistory;
    result.error = std::to_string(history.size()) + " operations; at most " +
                   std::to_string(kMaxOperations) + " can be checked";
    return result;
  }
  for (size_t i = 0; i < history.size(); ++i) {
    const std::string why = ValidateOperation(history[i]);
    if (!why.empty()) {
      result.verdict = Verdict::kInvalidHistory;
      result.error = "operation #" + std::to_string(i) + " (" +
                     DescribeOperation(history[i]) + "): " + why;
      return result;
    }
    by_key[history[i].key].push_back(i);
  }
  bool unknown = false;
  bool failed = false;
  for (const auto& [key, members] : by_key) {
    KeyResult r = CheckKey(history, key, members, model, options);
    ++result.keys_checked;
    if (r.verdict == Verdict::kLinearizable) continue;
    unknown |= r.verdict == Verdict::kUnknown;
    failed |= r.verdict == Verdict::kNotLinearizable;
    result.problems.push_back(std::move(r));
    if (failed && options.stop_at_first_failure) break;
  }
  // One non-linearizable key decides; otherwise any exhausted budget leaves
  // the answer open.
  result.verdict = failed    ? Verdict::kNotLinearizable
                   : unknown ? Verdict::kUnknown
                             : Verdict::kLinearizable;
  return result;
}

CheckResult CheckHistory(const History& history, const CheckOptions& options) {
  const RegisterModel model;  // stateless
  return CheckHistory(history, model, options);
}

}  // namespace sb::lincheck
