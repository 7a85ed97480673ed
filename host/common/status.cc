#include "host/common/status.h"

namespace sb {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not found";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kCorruption:
      return "corruption";
    case Code::kIOError:
      return "I/O error";
    case Code::kNotSupported:
      return "not supported";
    case Code::kBusy:
      return "busy";
    case Code::kOutcomeUnknown:
      return "outcome unknown";
    case Code::kTooLarge:
      return "too large";
    case Code::kAborted:
      return "aborted";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kPermissionDenied:
      return "permission denied";
    case Code::kInternal:
      return "internal error";
    case Code::kAlreadyExists:
      return "already exists";
  }
  return "unknown code";
}

Status Status::FromAbi(const sb_status& st) { return FromAbi(st.code, st); }

Status Status::FromAbi(sb_code code, const sb_status& st) {
  if (code == SB_OK) return Status();
  if (code < SB_OK || code > SB_ALREADY_EXISTS) {
    return Status(Code::kInternal, "plugin returned unknown status code " +
                                       std::to_string(code) + ": " +
                                       std::string(st.message));
  }
  // The message buffer is NUL-terminated by contract; bound it anyway.
  size_t n = strnlen(st.message, sizeof st.message);
  return Status(static_cast<Code>(code), std::string(st.message, n));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::Annotate(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

}  // namespace sb
