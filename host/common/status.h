// host/common/status.h — the host's one error type.
//
// A Status is a code from the ABI's fixed numbering (sb_code) plus a message.
// It is cheap when OK. StatusOr<T> carries either a value or a non-OK Status.
// Translate at the edges: ABI sb_status -> FromAbi(), Thrift exceptions and
// errno where they arise. Thread safety: values, no shared state.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

#include "shardbearer/abi/common.h"

namespace sb {

enum class Code : int32_t {
  kOk = SB_OK,
  kNotFound = SB_NOT_FOUND,
  kInvalidArgument = SB_INVALID_ARGUMENT,
  kCorruption = SB_CORRUPTION,
  kIOError = SB_IO_ERROR,
  kNotSupported = SB_NOT_SUPPORTED,
  kBusy = SB_BUSY,
  kOutcomeUnknown = SB_OUTCOME_UNKNOWN,
  kTooLarge = SB_TOO_LARGE,
  kAborted = SB_ABORTED,
  kUnavailable = SB_UNAVAILABLE,
  kPermissionDenied = SB_PERMISSION_DENIED,
  kInternal = SB_INTERNAL,
  kAlreadyExists = SB_ALREADY_EXISTS,
};

// Stable lower-case name of a code ("not found", "outcome unknown", ...).
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status NotFound(std::string m) {
    return {Code::kNotFound, std::move(m)};
  }
  static Status InvalidArgument(std::string m) {
    return {Code::kInvalidArgument, std::move(m)};
  }
  static Status Corruption(std::string m) {
    return {Code::kCorruption, std::move(m)};
  }
  static Status IOError(std::string m) {
    return {Code::kIOError, std::move(m)};
  }
  static Status NotSupported(std::string m) {
    return {Code::kNotSupported, std::move(m)};
  }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status OutcomeUnknown(std::string m) {
    return {Code::kOutcomeUnknown, std::move(m)};
  }
  static Status TooLarge(std::string m) {
    return {Code::kTooLarge, std::move(m)};
  }
  static Status Aborted(std::string m) {
    return {Code::kAborted, std::move(m)};
  }
  static Status Unavailable(std::string m) {
    return {Code::kUnavailable, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {Code::kPermissionDenied, std::move(m)};
  }
  static Status Internal(std::string m) {
    return {Code::kInternal, std::move(m)};
  }
  static Status AlreadyExists(std::string m) {
    return {Code::kAlreadyExists, std::move(m)};
  }

  // From a filled ABI status (code + message).
  static Status FromAbi(const sb_status& st);
  static Status FromAbi(sb_code code, const sb_status& st);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsOutcomeUnknown() const { return code_ == Code::kOutcomeUnknown; }

  // "OK", or "<code name>: <message>".
  std::string ToString() const;

  // Returns a copy with `context + ": "` prefixed to the message.
  Status Annotate(const std::string& context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok());
  }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace sb

#define SB_RETURN_IF_ERROR(expr)     \
  do {                               \
    ::sb::Status _sb_st = (expr);    \
    if (!_sb_st.ok()) return _sb_st; \
  } while (0)
