// host/order/command.cc — see command.h.
#include "host/order/command.h"

#include "host/order/codec.h"

namespace sb::order {
namespace {

constexpr uint8_t kFlagExpected = 1;
constexpr uint8_t kFlagValue = 2;

constexpr uint8_t kResultExisted = 1;
constexpr uint8_t kResultCasSucceeded = 2;
constexpr uint8_t kResultHasCurrent = 4;

bool KnownKind(uint8_t k) {
  return k >= static_cast<uint8_t>(CommandKind::kPut) &&
         k <= static_cast<uint8_t>(CommandKind::kCompareAndSet);
}

bool ReservedKind(uint8_t k) {
  return k == static_cast<uint8_t>(CommandKind::kInstallShard) ||
         k == static_cast<uint8_t>(CommandKind::kDeleteShard) ||
         k == static_cast<uint8_t>(CommandKind::kConfigChange);
}

}  // namespace

Command Command::Put(uint16_t shard, std::string key, std::string value) {
  Command c;
  c.kind = CommandKind::kPut;
  c.shard = shard;
  c.key = std::move(key);
  c.has_value = true;
  c.value = std::move(value);
  return c;
}

Command Command::Append(uint16_t shard, std::string key, std::string value,
                        uint32_t value_limit) {
  Command c = Put(shard, std::move(key), std::move(value));
  c.kind = CommandKind::kAppend;
  c.value_limit = value_limit;
  return c;
}

Command Command::Delete(uint16_t shard, std::string key) {
  Command c;
  c.kind = CommandKind::kDelete;
  c.shard = shard;
  c.key = std::move(key);
  return c;
}

Command Command::CompareAndSet(uint16_t shard, std::string key,
                               const std::string* expected,
                               const std::string* new_value) {
  Command c;
  c.kind = CommandKind::kCompareAndSet;
  c.shard = shard;
  c.key = std::move(key);
  if (expected != nullptr) {
    c.has_expected = true;
    c.expected = *expected;
  }
  if (new_value != nullptr) {
    c.has_value = true;
    c.value = *new_value;
  }
  return c;
}

Command& Command::WithSession(uint64_t client, uint64_t seq, uint64_t now_ms) {
  client_id = client;
  sequence = seq;
  timestamp_ms = now_ms;
  return *this;
}

Status ValidateCommand(const Command& c) {
  if (!KnownKind(static_cast<uint8_t>(c.kind))) {
    return Status::InvalidArgument("command kind " +
                                   std::to_string(static_cast<int>(c.kind)) +
                                   " cannot be encoded by version 1");
  }
  if (c.key.size() > kMaxCommandKeyBytes) {
    return Status::InvalidArgument("key of " + std::to_string(c.key.size()) +
                                   " bytes over the cap");
  }
  if (c.value.size() > kMaxCommandValueBytes ||
      c.expected.size() > kMaxCommandValueBytes) {
    return Status::InvalidArgument("value over the cap");
  }
  if ((c.client_id == 0) != (c.sequence == 0)) {
    return Status::InvalidArgument(
        "client id and sequence must both be 0 or both be set");
  }
  switch (c.kind) {
    case CommandKind::kPut:
    case CommandKind::kAppend:
      if (!c.has_value || c.has_expected) {
        return Status::InvalidArgument("put/append carry a value only");
      }
      break;
    case CommandKind::kDelete:
      if (c.has_value || c.has_expected) {
        return Status::InvalidArgument("delete carries no value");
      }
      break;
    default:
      break;
  }
  if (c.kind != CommandKind::kAppend && c.value_limit != 0) {
    return Status::InvalidArgument("value_limit is for append only");
  }
  if (!c.has_value && !c.value.empty()) {
    return Status::InvalidArgument("value bytes without has_value");
  }
  if (!c.has_expected && !c.expected.empty()) {
    return Status::InvalidArgument("expected bytes without has_expected");
  }
  return Status::OK();
}

Status EncodeCommand(const Command& c, std::string* out) {
  SB_RETURN_IF_ERROR(ValidateCommand(c));
  PutU8(out, kCommandVersion);
  PutU8(out, static_cast<uint8_t>(c.kind));
  PutU8(out, static_cast<uint8_t>((c.has_expected ? kFlagExpected : 0) |
                                  (c.has_value ? kFlagValue : 0)));
  PutU16(out, c.shard);
  PutU64(out, c.client_id);
  PutU64(out, c.sequence);
  PutU64(out, c.timestamp_ms);
  PutU32(out, c.value_limit);
  PutBytes(out, c.key);
  if (c.has_value) PutBytes(out, c.value);
  if (c.has_expected) PutBytes(out, c.expected);
  return Status::OK();
}

StatusOr<Command> DecodeCommand(std::string_view bytes) {
  ByteReader r(bytes);
  uint8_t version = 0, kind = 0, flags = 0;
  if (!r.ReadU8(&version) || !r.ReadU8(&kind) || !r.ReadU8(&flags)) {
    return Status::Corruption("command truncated in its header");
  }
  if (version != kCommandVersion) {
    return Status::Corruption("command version " + std::to_string(version) +
                              " (this node reads version 1)");
  }
  if (ReservedKind(kind)) {
    return Status::NotSupported("command kind " + std::to_string(kind) +
                                " is reserved and not yet supported");
  }
  if (!KnownKind(kind)) {
    return Status::Corruption("unknown command kind " + std::to_string(kind));
  }
  if ((flags & ~(kFlagExpected | kFlagValue)) != 0) {
    return Status::Corruption("unknown command flags");
  }
  Command c;
  c.kind = static_cast<CommandKind>(kind);
  c.has_expected = (flags & kFlagExpected) != 0;
  c.has_value = (flags & kFlagValue) != 0;
  std::string_view key, value, expected;
  if (!r.ReadU16(&c.shard) || !r.ReadU64(&c.client_id) ||
      !r.ReadU64(&c.sequence) || !r.ReadU64(&c.timestamp_ms) ||
      !r.ReadU32(&c.value_limit) || !r.ReadBytes(kMaxCommandKeyBytes, &key)) {
    return Status::Corruption("command truncated or key over the cap");
  }
  if (c.has_value && !r.ReadBytes(kMaxCommandValueBytes, &value)) {
    return Status::Corruption("command value truncated or over the cap");
  }
  if (c.has_expected && !r.ReadBytes(kMaxCommandValueBytes, &expected)) {
    return Status::Corruption("command expected value truncated or over cap");
  }
  if (!r.empty()) {
    return Status::Corruption(std::to_string(r.remaining()) +
                              " trailing bytes after the command");
  }
  c.key.assign(key);
  c.value.assign(value);
  c.expected.assign(expected);
  Status s = ValidateCommand(c);
  if (!s.ok()) return Status::Corruption("command: " + s.message());
  return c;
}

const char* ResultCodeName(ResultCode c) {
  switch (c) {
    case ResultCode::kOk:
      return "ok";
    case ResultCode::kWrongGroup:
      return "wrong group";
    case ResultCode::kStaleSequence:
      return "stale sequence";
    case ResultCode::kTooLarge:
      return "too large";
  }
  return "unknown";
}

void EncodeResult(const CommandResult& r, std::string* out) {
  PutU8(out, static_cast<uint8_t>(r.code));
  PutU64(out, r.index);
  PutU8(out, static_cast<uint8_t>((r.existed ? kResultExisted : 0) |
                                  (r.cas_succeeded ? kResultCasSucceeded : 0) |
                                  (r.has_current ? kResultHasCurrent : 0)));
  PutU64(out, r.new_size);
  if (r.has_current) PutBytes(out, r.current);
}

StatusOr<CommandResult> DecodeResult(std::string_view bytes) {
  ByteReader r(bytes);
  CommandResult out;
  uint8_t code = 0, flags = 0;
  std::string_view current;
  if (!r.ReadU8(&code) || !r.ReadU64(&out.index) || !r.ReadU8(&flags) ||
      !r.ReadU64(&out.new_size)) {
    return Status::Corruption("stored result truncated");
  }
  if (code > static_cast<uint8_t>(ResultCode::kTooLarge) ||
      (flags & ~(kResultExisted | kResultCasSucceeded | kResultHasCurrent))) {
    return Status::Corruption("stored result has unknown code or flags");
  }
  out.code = static_cast<ResultCode>(code);
  out.existed = (flags & kResultExisted) != 0;
  out.cas_succeeded = (flags & kResultCasSucceeded) != 0;
  out.has_current = (flags & kResultHasCurrent) != 0;
  if (out.has_current && !r.ReadBytes(kMaxCommandValueBytes, &current)) {
    return Status::Corruption("stored result value truncated");
  }
  if (!r.empty()) return Status::Corruption("trailing bytes after result");
  out.current.assign(current);
  return out;
}

}  // namespace sb::order
