#include "options.h"

#include <charconv>
#include <cstring>
#include <string_view>

#include "cidr.h"

namespace sb::bpfq {
namespace {

bool ParseUint(std::string_view s, uint64_t max, uint64_t* out) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return false;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || ptr != s.data() + s.size() || v > max) return false;
  *out = v;
  return true;
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

bool ParsePriority(const std::string& text, uint32_t* out) {
  std::string_view s = text;
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) {
    uint64_t v;
    if (!ParseUint(s, UINT32_MAX, &v)) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }
  uint32_t major = 0, minor = 0;
  std::string_view a = s.substr(0, colon), b = s.substr(colon + 1);
  auto r1 = std::from_chars(a.data(), a.data() + a.size(), major, 16);
  auto r2 = std::from_chars(b.data(), b.data() + b.size(), minor, 16);
  if (a.empty() || b.empty() || r1.ec != std::errc() ||
      r1.ptr != a.data() + a.size() || r2.ec != std::errc() ||
      r2.ptr != b.data() + b.size() || major > 0xffff || minor > 0xffff) {
    return false;
  }
  *out = (major << 16) | minor;
  return true;
}

sb_code ParseOptions(const sb_config* cfg, Options* out, sb_status* st) {
  *out = Options{};
  if (cfg == nullptr) return sb_status_ok(st);
  if (cfg->entries == nullptr && cfg->count != 0) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "classifier config: entries missing");
  }
  for (size_t i = 0; i < cfg->count; ++i) {
    const sb_config_entry& e = cfg->entries[i];
    if (e.key == nullptr || e.value == nullptr) {
      return sb_status_set(st, SB_INVALID_ARGUMENT,
                           "classifier config: entry %zu has no key/value", i);
    }
    const std::string key = e.key;
    const std::string value = e.value;
    uint64_t v = 0;
    auto bad = [&](const char* expect) {
      return sb_status_set(st, SB_INVALID_ARGUMENT,
                           "classifier config: key '%s' = '%s': expected %s",
                           key.c_str(), value.c_str(), expect);
    };
    if (key == "interface") {
      if (value.empty() || value.size() >= 16 ||
          value.find('/') != std::string::npos) {
        return bad("an interface name (1..15 characters)");
      }
      out->interface = value;
    } else if (key == "allowed_cidrs" || key == "denied_cidrs") {
      auto list = SplitList(value);
      for (const auto& c : list) {
        Cidr parsed;
        std::string err;
        if (!ParseCidr(c, &parsed, &err)) {
          return sb_status_set(st, SB_INVALID_ARGUMENT,
                               "classifier config: key '%s': %s", key.c_str(),
                               err.c_str());
        }
      }
      (key == "allowed_cidrs" ? out->allowed_cidrs : out->denied_cidrs) =
          std::move(list);
    } else if (key == "join_rate") {
      if (!ParseUint(value, kMaxJoinRate, &v)) {
        return bad("an integer 0..1000000 (tokens per second)");
      }
      out->join_rate = static_cast<uint32_t>(v);
    } else if (key == "join_burst") {
      if (!ParseUint(value, kMaxJoinRate, &v)) {
        return bad("an integer 0..1000000 (tokens)");
      }
      out->join_burst = static_cast<uint32_t>(v);
    } else if (key == "peer_priority" || key == "client_priority") {
      uint32_t p;
      if (!ParsePriority(value, &p)) {
        return bad("a tc priority: 0..15 or \"major:minor\" in hex");
      }
      (key == "peer_priority" ? out->peer_priority : out->client_priority) = p;
    } else if (key == "tc_handle") {
      if (!ParseUint(value, UINT32_MAX, &v) || v == 0) {
        return bad("an integer 1..0xffffffff");
      }
      out->tc_handle = static_cast<uint32_t>(v);
    } else if (key == "tc_priority") {
      if (!ParseUint(value, 0xffff, &v) || v == 0) {
        return bad("an integer 1..65535");
      }
      out->tc_priority = static_cast<uint32_t>(v);
    } else {
      return sb_status_set(
          st, SB_INVALID_ARGUMENT,
          "classifier config: unknown key '%s' (known: interface, "
          "allowed_cidrs, denied_cidrs, join_rate, join_burst, peer_priority, "
          "client_priority, tc_handle, tc_priority)",
          key.c_str());
    }
  }
  return sb_status_ok(st);
}

}  // namespace sb::bpfq
