// tests/linearizability/random_history.cc — see random_history.h.
#include "tests/linearizability/random_history.h"

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace sb::lincheck::testing {

History RandomLinearizableHistory(uint64_t seed,
                                  const RandomHistoryOptions& o) {
  std::mt19937_64 rng(seed);
  auto percent = [&](int p) { return static_cast<int>(rng() % 100) < p; };
  auto pick = [&](int64_t n) { return static_cast<int64_t>(rng() % n); };
  std::map<std::string, std::optional<std::string>> store;  // reference
  History h;
  for (int i = 0; i < o.operations; ++i) {
    const std::string key = "k" + std::to_string(pick(o.keys));
    std::optional<std::string>& current = store[key];
    // Every written value is unique, so a read names the write it saw.
    const std::string fresh = "v" + std::to_string(i);
    const int64_t at = 10 * static_cast<int64_t>(i) + 5;
    const int64_t invoke = at - pick(o.max_stretch + 1);
    const int64_t ret = at + pick(o.max_stretch + 1);
    const uint64_t client = static_cast<uint64_t>(pick(o.clients));
    const int roll = static_cast<int>(pick(100));

    if (roll < 35) {  // get
      const Outcome out =
          percent(o.unknown_read_percent) ? Outcome::kUnknown : Outcome::kOk;
      h.push_back(MakeGet(client, key, current, invoke, ret, out));
      continue;
    }
    Operation op;
    if (roll < 55) {
      op = MakePut(client, key, fresh, invoke, ret);
    } else if (roll < 70) {
      op = MakeAppend(client, key, fresh, invoke, ret);
    } else if (roll < 80) {
      op = MakeDelete(client, key, invoke, ret);
    } else {
      // Mostly the current value (a swap that succeeds), else another.
      std::optional<std::string> expected = current;
      if (percent(30)) {
        expected = percent(50) ? std::optional<std::string>()
                               : "v" + std::to_string(pick(i + 1));
      }
      op = MakeCas(client, key, expected, fresh, expected == current, invoke,
                   ret);
    }
    // Decide whether it takes effect, and what the client learns.
    bool applies = true;
    if (percent(o.failed_write_percent)) {
      op.outcome = Outcome::kFailed;
      op.cas_succeeded = false;
      applies = false;
    } else if (percent(o.unknown_write_percent)) {
      op.outcome = Outcome::kUnknown;
      op.ret = kInfinity;
      op.cas_succeeded = false;
      applies = percent(50);
    }
    if (applies) {
      switch (op.kind) {
        case OpKind::kPut:
          current = op.value;
          break;
        case OpKind::kAppend:
          current = current.value_or("") + op.value;
          break;
        case OpKind::kDelete:
          current.reset();
          break;
        case OpKind::kCas:
          if (current == op.expected) current = op.value;
          break;
        case OpKind::kGet:
          break;
      }
    }
    h.push_back(std::move(op));
  }
  return h;
}

namespace {

std::vector<size_t> OkReads(const History& h) {
  std::vector<size_t> reads;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i].kind == OpKind::kGet && h[i].outcome == Outcome::kOk) {
      reads.push_back(i);
    }
  }
  return reads;
}

}  // namespace

bool MutateReadToUnwrittenValue(uint64_t seed, History* history) {
  const std::vector<size_t> reads = OkReads(*history);
  if (reads.empty()) return false;
  std::mt19937_64 rng(seed);
  (*history)[reads[rng() % reads.size()]].output = "never-written";
  return true;
}

bool MutateReadToFutureValue(uint64_t seed, History* history) {
  std::vector<std::pair<size_t, size_t>> pairs;  // (read, write)
  for (size_t r : OkReads(*history)) {
    const Operation& read = (*history)[r];
    for (size_t w = 0; w < history->size(); ++w) {
      const Operation& write = (*history)[w];
      if ((write.kind == OpKind::kPut || write.kind == OpKind::kCas) &&
          write.key == read.key && write.invoke > read.ret &&
          read.output != write.value) {
        pairs.emplace_back(r, w);
      }
    }
  }
  if (pairs.empty()) return false;
  std::mt19937_64 rng(seed);
  const auto [r, w] = pairs[rng() % pairs.size()];
  (*history)[r].output = (*history)[w].value;
  return true;
}

}  // namespace sb::lincheck::testing
