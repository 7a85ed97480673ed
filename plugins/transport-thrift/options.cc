// plugins/transport-thrift/options.cc — see options.h.
#include "plugins/transport-thrift/options.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace sb::transport_thrift {

namespace {

bool ParseInt(const char* text, int64_t lo, int64_t hi, int64_t* out) {
  if (text == nullptr || *text == '\0') return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

sb_code ParseOptions(const sb_config* cfg, Options* out, sb_status* st) {
  Options o;
  struct IntKey {
    const char* key;
    int64_t lo, hi;
    int64_t* slot;
  };
  int64_t max_frame = o.max_frame_bytes, queue = o.send_queue_messages,
          batch = o.batch_max_bytes, connect = o.connect_timeout_ms,
          idle = o.idle_timeout_ms, read = o.read_timeout_ms,
          bmin = o.backoff_min_ms, bmax = o.backoff_max_ms,
          conns = o.max_inbound_connections;
  const IntKey ints[] = {
      {"max_frame_bytes", 1024, int64_t{1} << 30, &max_frame},
      {"send_queue_messages", 1, 1 << 24, &queue},
      {"batch_max_bytes", 1024, int64_t{1} << 30, &batch},
      {"connect_timeout_ms", 1, 600000, &connect},
      {"idle_timeout_ms", 2, 86400000, &idle},
      {"read_timeout_ms", 1, 600000, &read},
      {"backoff_min_ms", 1, 600000, &bmin},
      {"backoff_max_ms", 1, 3600000, &bmax},
      {"max_inbound_connections", 1, 65536, &conns},
  };
  if (cfg != nullptr) {
    for (size_t i = 0; i < cfg->count; ++i) {
      const sb_config_entry& e = cfg->entries[i];
      const char* key = e.key != nullptr ? e.key : "";
      bool known = false;
      for (const IntKey& k : ints) {
        if (std::strcmp(key, k.key) != 0) continue;
        known = true;
        if (!ParseInt(e.value, k.lo, k.hi, k.slot)) {
          return sb_status_set(st, SB_INVALID_ARGUMENT,
                               "transport: %s = '%s' is not an integer in "
                               "[%lld, %lld]",
                               key, e.value ? e.value : "",
                               static_cast<long long>(k.lo),
                               static_cast<long long>(k.hi));
        }
      }
      std::string* tls_slot = nullptr;
      if (std::strcmp(key, "tls.cert_file") == 0) tls_slot = &o.tls.cert_file;
      if (std::strcmp(key, "tls.key_file") == 0) tls_slot = &o.tls.key_file;
      if (std::strcmp(key, "tls.ca_file") == 0) tls_slot = &o.tls.ca_file;
      if (tls_slot != nullptr) {
        known = true;
        *tls_slot = e.value != nullptr ? e.value : "";
      }
      if (!known) {
        return sb_status_set(
            st, SB_INVALID_ARGUMENT,
            "transport: unknown key '%s' (known: max_frame_bytes, "
            "send_queue_messages, batch_max_bytes, connect_timeout_ms, "
            "idle_timeout_ms, read_timeout_ms, backoff_min_ms, "
            "backoff_max_ms, max_inbound_connections, tls.cert_file, "
            "tls.key_file, tls.ca_file)",
            key);
      }
    }
  }
  o.max_frame_bytes = static_cast<uint32_t>(max_frame);
  o.send_queue_messages = static_cast<size_t>(queue);
  o.batch_max_bytes = static_cast<size_t>(batch);
  o.connect_timeout_ms = static_cast<int>(connect);
  o.idle_timeout_ms = static_cast<int>(idle);
  o.read_timeout_ms = static_cast<int>(read);
  o.backoff_min_ms = static_cast<int>(bmin);
  o.backoff_max_ms = static_cast<int>(bmax);
  o.max_inbound_connections = static_cast<int>(conns);
  if (o.backoff_min_ms > o.backoff_max_ms) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "transport: backoff_min_ms (%d) > backoff_max_ms (%d)",
                         o.backoff_min_ms, o.backoff_max_ms);
  }
  if (o.batch_max_bytes > o.max_frame_bytes) {
    o.batch_max_bytes = o.max_frame_bytes;
  }
  bool any_tls = !o.tls.cert_file.empty() || !o.tls.key_file.empty() ||
                 !o.tls.ca_file.empty();
  if (any_tls && (o.tls.cert_file.empty() || o.tls.key_file.empty() ||
                  o.tls.ca_file.empty())) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "transport: mutual TLS needs all of tls.cert_file, "
                         "tls.key_file and tls.ca_file");
  }
  if (any_tls) {
    // Catch a wrong path at --check-config time, naming the key, rather
    // than when the first connection needs the file.
    const std::pair<const char*, const std::string*> files[] = {
        {"tls.cert_file", &o.tls.cert_file},
        {"tls.key_file", &o.tls.key_file},
        {"tls.ca_file", &o.tls.ca_file},
    };
    for (const auto& [key, path] : files) {
      std::error_code ec;
      const bool regular = std::filesystem::is_regular_file(*path, ec);
      const bool readable = regular && ::access(path->c_str(), R_OK) == 0;
      if (!readable) {
        return sb_status_set(st, SB_INVALID_ARGUMENT,
                             "transport: %s = '%s' is not a readable file", key,
                             path->c_str());
      }
    }
  }
  *out = o;
  return sb_status_ok(st);
}

}  // namespace sb::transport_thrift
