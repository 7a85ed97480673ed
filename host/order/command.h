// host/order/command.h — what is proposed to an order's log, and what
// applying it answers.
//
// A Command is one client write on one key of one shard (put, append,
// delete, compare-and-set), with the client session it belongs to (client
// id + sequence; 0 = no session) and a timestamp the herald assigns when it
// proposes (wall clock, milliseconds). The timestamp is used ONLY to expire
// client sessions at apply time, so every replica expires the same sessions
// at the same log index; it never decides what a read sees.
//
// Encoding, version 1 (all integers big-endian, every field always present
// so the layout depends only on `kind` and `flags`):
//
//   version   u8     = 1
//   kind      u8     CommandKind
//   flags     u8     bit 0: `expected` present (cas); bit 1: `value`
//                    present (cas; always set for put and append)
//   shard     u16
//   client    u64    0: no session
//   sequence  u64    0 when client is 0
//   timestamp u64    ms since the Unix epoch at the herald
//   limit     u32    append: largest value the result may have (0: none)
//   key       u32 length + bytes
//   value     u32 length + bytes (only if flags bit 1)
//   expected  u32 length + bytes (only if flags bit 0)
//
// Decoding is strict: a wrong version, unknown kind, flag not allowed for
// the kind, length past the end, key or value over the hard caps below, or
// trailing bytes are Status::Corruption. Kinds reserved for later (shard
// install / delete for migration, configuration changes) decode as
// Status::NotSupported until this version knows them.
//
// The hard caps are structural (the same on every node, independent of the
// configured [limits], so that replicas never disagree about what decodes);
// the herald checks the configured limits before proposing.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "host/common/status.h"

namespace sb::order {

inline constexpr uint8_t kCommandVersion = 1;
inline constexpr size_t kMaxCommandKeyBytes = 64 * 1024;
inline constexpr size_t kMaxCommandValueBytes = 64 * 1024 * 1024;

enum class CommandKind : uint8_t {
  kPut = 1,
  kAppend = 2,
  kDelete = 3,
  kCompareAndSet = 4,
  // Reserved, not yet decodable (NotSupported):
  kInstallShard = 16,  // migration: a pulled shard's data and sessions
  kDeleteShard = 17,   // migration: garbage-collect a handed-off shard
  kConfigChange = 32,  // a new cluster configuration number
};

struct Command {
  CommandKind kind = CommandKind::kPut;
  uint16_t shard = 0;
  uint64_t client_id = 0;  // 0: no session (not deduplicated)
  uint64_t sequence = 0;
  uint64_t timestamp_ms = 0;
  uint32_t value_limit = 0;  // append only; 0: unlimited
  std::string key;
  // put / append: the value. cas: the new value, absent = delete the key.
  bool has_value = false;
  std::string value;
  // cas: the expected current value, absent = the key must not exist.
  bool has_expected = false;
  std::string expected;

  static Command Put(uint16_t shard, std::string key, std::string value);
  static Command Append(uint16_t shard, std::string key, std::string value,
                        uint32_t value_limit = 0);
  static Command Delete(uint16_t shard, std::string key);
  // `expected` / `new_value` null: absent.
  static Command CompareAndSet(uint16_t shard, std::string key,
                               const std::string* expected,
                               const std::string* new_value);
  // Sets the session (client id, sequence) and herald timestamp.
  Command& WithSession(uint64_t client, uint64_t seq, uint64_t now_ms);

  bool operator==(const Command& o) const = default;
};

// Checks the invariants Decode enforces (for a command built in memory).
Status ValidateCommand(const Command& c);

// Appends the version-1 encoding of `c` to `out`. InvalidArgument if `c`
// breaks an invariant (then `out` is unchanged).
Status EncodeCommand(const Command& c, std::string* out);
StatusOr<Command> DecodeCommand(std::string_view bytes);

// What applying a command answered. Stored in the client's session so a
// retried write answers the first outcome.
enum class ResultCode : uint8_t {
  kOk = 0,             // applied (cas: see cas_succeeded)
  kWrongGroup = 1,     // the key's shard is not owned by this order
  kStaleSequence = 2,  // sequence older than the session's last one
  kTooLarge = 3,       // append would exceed value_limit; nothing written
};
const char* ResultCodeName(ResultCode c);

struct CommandResult {
  ResultCode code = ResultCode::kOk;
  // The log index that applied the command (for a duplicate: the index that
  // applied the first one).
  uint64_t index = 0;
  // delete: whether the key existed. cas: whether the swap happened.
  bool existed = false;
  bool cas_succeeded = false;
  // cas: the value before the operation (has_current false: absent).
  bool has_current = false;
  std::string current;
  // append: size of the value after the append.
  uint64_t new_size = 0;
  // Set when this answer is the stored one of an earlier identical write.
  bool duplicate = false;

  bool operator==(const CommandResult& o) const = default;
};

// Result encoding (version 1): code u8, index u64, flags u8 (bit 0 existed,
// bit 1 cas_succeeded, bit 2 has_current), new_size u64, current (u32
// length + bytes, only if has_current). `duplicate` is not stored.
void EncodeResult(const CommandResult& r, std::string* out);
StatusOr<CommandResult> DecodeResult(std::string_view bytes);

}  // namespace sb::order
