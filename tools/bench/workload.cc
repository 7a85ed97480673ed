#include "tools/bench/workload.h"

#include <cstdio>

namespace sb::bench {

const char* OpTypeName(OpType t) {
  switch (t) {
    case OpType::kRead:
      return "read";
    case OpType::kUpdate:
      return "update";
    case OpType::kInsert:
      return "insert";
    case OpType::kReadModifyWrite:
      return "read_modify_write";
  }
  return "?";
}

bool LookupWorkload(const std::string& name, Workload* out,
                    std::string* error) {
  Workload w;
  w.name = name;
  if (name == "a") {
    w.read = 0.5;
    w.update = 0.5;
  } else if (name == "b") {
    w.read = 0.95;
    w.update = 0.05;
  } else if (name == "c") {
    w.read = 1.0;
  } else if (name == "d") {
    w.read = 0.95;
    w.insert = 0.05;
    w.default_distribution = Distribution::kLatest;
  } else if (name == "f") {
    w.read = 0.5;
    w.read_modify_write = 0.5;
  } else if (name == "write") {
    w.update = 1.0;
  } else if (name == "e") {
    *error =
        "workload e (short range scans) is not offered: the Kv service has "
        "no scan, keys are hash-partitioned and have no global order";
    return false;
  } else {
    *error = "unknown workload '" + name + "' (choices: a, b, c, d, f, write)";
    return false;
  }
  *out = w;
  return true;
}

OpChooser::OpChooser(const Workload& w) {
  cumulative_[0] = w.read;
  cumulative_[1] = cumulative_[0] + w.update;
  cumulative_[2] = cumulative_[1] + w.insert;
  cumulative_[3] = cumulative_[2] + w.read_modify_write;
}

OpType OpChooser::Pick(double u) const {
  // Scale to the total so proportions need not sum to exactly 1.0 in
  // floating point; the last type with a non-zero share takes the rest.
  const double x = u * cumulative_[kOpTypeCount - 1];
  int last = 0;
  for (int i = 0; i < kOpTypeCount; ++i) {
    const double share = cumulative_[i] - (i == 0 ? 0 : cumulative_[i - 1]);
    if (share <= 0) continue;
    last = i;
    if (x < cumulative_[i]) return static_cast<OpType>(i);
  }
  return static_cast<OpType>(last);
}

OpType OpChooser::Next(Rng& rng) const { return Pick(NextUnit(rng)); }

size_t MinKeySize(uint64_t records) {
  const uint64_t largest = records == 0 ? 0 : records - 1;
  return 4 + std::to_string(largest).size();
}

bool FormatKey(uint64_t index, size_t key_size, std::string* out) {
  const std::string digits = std::to_string(index);
  if (key_size < 4 + digits.size()) return false;
  out->assign("user");
  out->append(key_size - 4 - digits.size(), '0');
  out->append(digits);
  return true;
}

std::string RandomValue(Rng& rng, size_t size) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  std::string v(size, '\0');
  uint64_t bits = 0;
  int left = 0;
  for (size_t i = 0; i < size; ++i) {
    if (left == 0) {
      bits = rng();
      left = 10;  // ten 6-bit symbols per 64-bit draw
    }
    v[i] = kAlphabet[bits & 63];
    bits >>= 6;
    --left;
  }
  return v;
}

}  // namespace sb::bench
