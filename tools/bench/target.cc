#include "tools/bench/target.h"

namespace sb::bench {

const char* ErrorKindName(ErrorKind k) {
  switch (k) {
    case ErrorKind::kOk:
      return "ok";
    case ErrorKind::kNotReady:
      return "not_ready";
    case ErrorKind::kWrongLeader:
      return "wrong_leader";
    case ErrorKind::kWrongGroup:
      return "wrong_group";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kTooLarge:
      return "too_large";
    case ErrorKind::kInvalidArgument:
      return "invalid_argument";
    case ErrorKind::kConnection:
      return "connection";
    case ErrorKind::kOther:
      return "other";
  }
  return "?";
}

}  // namespace sb::bench
