// host/api/limits.h — size limits the API server enforces before a request
// reaches a handler (the node configuration's [limits]). Plain values.
#pragma once

#include <cstdint>

#include "host/config/config.h"

namespace sb::api {

struct ApiLimits {
  uint32_t max_key_bytes = 4096;        // keys are 1..max_key_bytes bytes
  uint32_t max_value_bytes = 1u << 20;  // values are 0..max_value_bytes
  uint32_t max_batch_ops = 1024;        // keys in one multi_get
  // Largest request frame; the server refuses longer frames before reading
  // them. 0: derived from the limits above (MaxFrameBytes()).
  uint32_t max_frame_bytes = 0;

  static ApiLimits FromConfig(const LimitsOptions& l) {
    ApiLimits a;
    a.max_key_bytes = l.max_key_bytes;
    a.max_value_bytes = l.max_value_bytes;
    a.max_batch_ops = l.max_batch_ops;
    a.max_frame_bytes = l.max_frame_bytes;
    return a;
  }

  uint32_t MaxFrameBytes() const {
    if (max_frame_bytes != 0) return max_frame_bytes;
    // Room for a CAS (key + two values) or a full multi_get, plus headers.
    uint64_t kv = uint64_t{max_key_bytes} + 2ull * max_value_bytes;
    uint64_t batch = uint64_t{max_batch_ops} * (max_key_bytes + 16);
    uint64_t m = (kv > batch ? kv : batch) + 4096;
    return m > (1u << 30) ? (1u << 30) : static_cast<uint32_t>(m);
  }
};

}  // namespace sb::api
