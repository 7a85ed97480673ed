// host/api/limits.h — size limits the API server enforces before a request
// reaches a handler ([limits] in the node configuration). Plain values.
#pragma once

#include <cstdint>

namespace sb::api {

struct ApiLimits {
  uint32_t max_key_bytes = 4096;        // keys are 1..max_key_bytes bytes
  uint32_t max_value_bytes = 1u << 20;  // values are 0..max_value_bytes
  uint32_t max_batch_ops = 1024;        // keys in one multi_get

  // Largest request frame these limits allow, with room for framing and
  // field headers; the server refuses longer frames before reading them.
  uint32_t MaxFrameBytes() const {
    uint64_t kv = uint64_t{max_key_bytes} * 2 + max_value_bytes * 2ull;
    uint64_t batch = uint64_t{max_batch_ops} * (max_key_bytes + 16);
    uint64_t m = (kv > batch ? kv : batch) + 4096;
    return m > (1u << 30) ? (1u << 30) : static_cast<uint32_t>(m);
  }
};

}  // namespace sb::api
