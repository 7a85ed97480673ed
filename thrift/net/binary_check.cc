// thrift/net/binary_check.cc — see binary_check.h.
#include "thrift/net/binary_check.h"

namespace sb::wire {

namespace {

// Thrift type codes (TType).
enum : uint8_t {
  kStop = 0,
  kBool = 2,
  kByte = 3,
  kDouble = 4,
  kI16 = 6,
  kI32 = 8,
  kI64 = 10,
  kString = 11,
  kStruct = 12,
  kMap = 13,
  kSet = 14,
  kList = 15,
};

constexpr int kMaxDepth = 64;

class Walker {
 public:
  Walker(const uint8_t* d, size_t n, std::string* why)
      : d_(d), n_(n), why_(why) {}

  bool Struct(int depth) {
    if (depth > kMaxDepth) return Fail("nesting deeper than 64");
    for (;;) {
      uint8_t type = 0;
      if (!Byte(&type)) return false;
      if (type == kStop) return true;
      if (!Skip(2)) return false;  // field id
      if (!Value(type, depth)) return false;
    }
  }

  bool Message() {
    uint32_t version = 0;
    if (!U32(&version)) return false;
    // Strict encoding: 0x8001 in the high half, message type in the low byte.
    if ((version & 0xffff0000u) != 0x80010000u) {
      return Fail("not a strict binary-protocol message");
    }
    uint32_t name_len = 0;
    if (!U32(&name_len) || !Skip(name_len)) return false;
    if (!Skip(4)) return false;  // sequence id
    return Struct(0);
  }

  bool AtEnd() {
    if (pos_ != n_) return Fail("trailing bytes after the value");
    return true;
  }

 private:
  bool Fail(const std::string& m) {
    *why_ = m + " at byte " + std::to_string(pos_);
    return false;
  }
  bool Skip(size_t k) {
    if (k > n_ - pos_) return Fail("length past the end of the frame");
    pos_ += k;
    return true;
  }
  bool Byte(uint8_t* out) {
    if (pos_ >= n_) return Fail("truncated value");
    *out = d_[pos_++];
    return true;
  }
  bool U32(uint32_t* out) {
    if (n_ - pos_ < 4) return Fail("truncated value");
    *out = (uint32_t{d_[pos_]} << 24) | (uint32_t{d_[pos_ + 1]} << 16) |
           (uint32_t{d_[pos_ + 2]} << 8) | uint32_t{d_[pos_ + 3]};
    pos_ += 4;
    return true;
  }
  bool Count(uint32_t* out) {
    if (!U32(out)) return false;
    if (*out > 0x7fffffffu) return Fail("negative size");
    return true;
  }
  static bool KnownType(uint8_t t) {
    switch (t) {
      case kBool:
      case kByte:
      case kDouble:
      case kI16:
      case kI32:
      case kI64:
      case kString:
      case kStruct:
      case kMap:
      case kSet:
      case kList:
        return true;
      default:
        return false;
    }
  }
  bool Value(uint8_t type, int depth) {
    if (!KnownType(type)) {
      return Fail("unknown type code " + std::to_string(type));
    }
    switch (type) {
      case kBool:
      case kByte:
        return Skip(1);
      case kI16:
        return Skip(2);
      case kI32:
        return Skip(4);
      case kDouble:
      case kI64:
        return Skip(8);
      case kString: {
        uint32_t len = 0;
        return Count(&len) && Skip(len);
      }
      case kStruct:
        return Struct(depth + 1);
      case kMap: {
        uint8_t kt = 0, vt = 0;
        uint32_t count = 0;
        if (!Byte(&kt) || !Byte(&vt) || !Count(&count)) return false;
        if (count > 0 && (!KnownType(kt) || !KnownType(vt))) {
          return Fail("unknown map element type");
        }
        for (uint32_t i = 0; i < count; ++i) {
          if (!Value(kt, depth + 1) || !Value(vt, depth + 1)) return false;
        }
        return true;
      }
      default: {  // set, list
        uint8_t et = 0;
        uint32_t count = 0;
        if (!Byte(&et) || !Count(&count)) return false;
        if (count > 0 && !KnownType(et)) {
          return Fail("unknown list element type");
        }
        // Each element takes at least one byte: a count larger than what
        // is left is refused without walking it.
        if (count > n_ - pos_) return Fail("list longer than the frame");
        for (uint32_t i = 0; i < count; ++i) {
          if (!Value(et, depth + 1)) return false;
        }
        return true;
      }
    }
  }

  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
  std::string* why_;
};

}  // namespace

bool CheckBinaryStruct(const uint8_t* data, size_t len, std::string* why) {
  Walker w(data, len, why);
  return w.Struct(0) && w.AtEnd();
}

bool CheckBinaryMessage(const uint8_t* data, size_t len, std::string* why) {
  Walker w(data, len, why);
  return w.Message() && w.AtEnd();
}

}  // namespace sb::wire
