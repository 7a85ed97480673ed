// host/order/codec.h — big-endian fixed-width integers and a bounds-checked
// reader, shared by the order's command, result, storage-key and snapshot
// encodings.
//
// ByteReader never reads past its input: every Read* returns false instead,
// and the caller turns that into Status::Corruption. Thread safety: plain
// values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sb::order {

inline void PutU8(std::string* out, uint8_t v) {
  out->push_back(static_cast<char>(v));
}
inline void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}
inline void PutU32(std::string* out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s));
}
inline void PutU64(std::string* out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s));
}
// u32 length + bytes.
inline void PutBytes(std::string* out, std::string_view b) {
  PutU32(out, static_cast<uint32_t>(b.size()));
  out->append(b);
}

inline uint64_t GetU64(std::string_view b) {  // b.size() >= 8
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}
inline uint16_t GetU16(std::string_view b) {  // b.size() >= 2
  return static_cast<uint16_t>((static_cast<uint8_t>(b[0]) << 8) |
                               static_cast<uint8_t>(b[1]));
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool ReadU8(uint8_t* v) {
    if (in_.size() < 1) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool ReadU16(uint16_t* v) {
    if (in_.size() < 2) return false;
    *v = GetU16(in_);
    in_.remove_prefix(2);
    return true;
  }
  bool ReadU32(uint32_t* v) {
    if (in_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<uint8_t>(in_[i]);
    in_.remove_prefix(4);
    return true;
  }
  bool ReadU64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = GetU64(in_);
    in_.remove_prefix(8);
    return true;
  }
  // u32 length + bytes; false if the length is over `max` or past the end.
  bool ReadBytes(size_t max, std::string_view* v) {
    uint32_t n = 0;
    if (!ReadU32(&n) || n > max || n > in_.size()) return false;
    *v = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

}  // namespace sb::order
