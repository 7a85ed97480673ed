// plugins/raft/codec.cc — see codec.h.
#include "codec.h"

#include <algorithm>

#include "shardbearer/abi/consensus.h"

namespace sbraft {
namespace {

constexpr uint8_t kMessageFormat = 1;
constexpr uint8_t kHardStateFormat = 1;
constexpr uint8_t kSnapshotMetaFormat = 1;
// Upper bound on member count accepted from the wire or disk.
constexpr uint64_t kMaxMembers = 1024;

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytes(std::string* out, std::string_view b) {
  PutVarint(out, b.size());
  out->append(b);
}

// Bounds-checked reader over a byte span.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (pos_ >= in_.size()) return false;
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) return false;  // overflow
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Byte(uint8_t* b) {
    if (pos_ >= in_.size()) return false;
    *b = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool Bool(bool* b) {
    uint8_t v;
    if (!Byte(&v) || v > 1) return false;
    *b = v == 1;
    return true;
  }
  bool Bytes(std::string* out) {
    uint64_t n;
    if (!Varint(&n) || n > in_.size() - pos_) return false;
    out->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

void PutIds(std::string* out, const std::vector<uint64_t>& ids) {
  PutVarint(out, ids.size());
  for (uint64_t id : ids) PutVarint(out, id);
}

// Reads a sorted, unique list of non-zero ids.
bool GetIds(Reader* r, std::vector<uint64_t>* ids) {
  uint64_t n;
  if (!r->Varint(&n) || n > kMaxMembers || n > r->remaining()) return false;
  ids->clear();
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id;
    if (!r->Varint(&id) || id == 0) return false;
    if (!ids->empty() && id <= ids->back()) return false;
    ids->push_back(id);
  }
  return true;
}

void PutMembership(std::string* out, const Membership& ms) {
  PutIds(out, ms.voters);
  PutIds(out, ms.learners);
}

bool GetMembership(Reader* r, Membership* ms) {
  if (!GetIds(r, &ms->voters) || !GetIds(r, &ms->learners)) return false;
  for (uint64_t id : ms->learners) {
    if (ms->IsVoter(id)) return false;
  }
  return true;
}

}  // namespace

bool Membership::IsVoter(uint64_t id) const {
  return std::binary_search(voters.begin(), voters.end(), id);
}
bool Membership::IsLearner(uint64_t id) const {
  return std::binary_search(learners.begin(), learners.end(), id);
}

const char* MsgTypeName(MsgType t) {
  switch (t) {
    case MsgType::kPreVote:
      return "PreVote";
    case MsgType::kPreVoteResp:
      return "PreVoteResp";
    case MsgType::kVote:
      return "Vote";
    case MsgType::kVoteResp:
      return "VoteResp";
    case MsgType::kAppend:
      return "Append";
    case MsgType::kAppendResp:
      return "AppendResp";
    case MsgType::kHeartbeat:
      return "Heartbeat";
    case MsgType::kHeartbeatResp:
      return "HeartbeatResp";
    case MsgType::kSnapshot:
      return "Snapshot";
    case MsgType::kSnapshotResp:
      return "SnapshotResp";
    case MsgType::kTimeoutNow:
      return "TimeoutNow";
  }
  return "?";
}

void EncodeMessage(const Message& m, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(kMessageFormat));
  out->push_back(static_cast<char>(m.type));
  PutVarint(out, m.group);
  PutVarint(out, m.from);
  PutVarint(out, m.to);
  PutVarint(out, m.term);
  PutVarint(out, m.index);
  PutVarint(out, m.log_term);
  PutVarint(out, m.commit);
  out->push_back(static_cast<char>(m.reject ? 1 : 0));
  PutVarint(out, m.hint);
  out->push_back(static_cast<char>(m.force ? 1 : 0));
  PutVarint(out, m.seq);
  PutVarint(out, m.entries.size());
  for (const Entry& e : m.entries) {
    PutVarint(out, e.term);
    PutVarint(out, e.type);
    PutBytes(out, e.data);
  }
  if (m.type == MsgType::kSnapshot || m.type == MsgType::kSnapshotResp) {
    PutVarint(out, m.snap_index);
    PutVarint(out, m.offset);
    out->push_back(static_cast<char>(m.done ? 1 : 0));
    PutBytes(out, m.snap_meta);
    PutBytes(out, m.snap_data);
  }
}

bool DecodeMessage(std::string_view in, Message* m) {
  Reader r(in);
  uint8_t format, type;
  if (!r.Byte(&format) || format != kMessageFormat) return false;
  if (!r.Byte(&type) || type < static_cast<uint8_t>(MsgType::kPreVote) ||
      type > static_cast<uint8_t>(MsgType::kTimeoutNow)) {
    return false;
  }
  m->type = static_cast<MsgType>(type);
  uint64_t n;
  if (!r.Varint(&m->group) || !r.Varint(&m->from) || !r.Varint(&m->to) ||
      !r.Varint(&m->term) || !r.Varint(&m->index) || !r.Varint(&m->log_term) ||
      !r.Varint(&m->commit) || !r.Bool(&m->reject) || !r.Varint(&m->hint) ||
      !r.Bool(&m->force) || !r.Varint(&m->seq) || !r.Varint(&n)) {
    return false;
  }
  // Each entry takes at least 3 bytes: bounds the vector before reserving.
  if (n > r.remaining() / 3) return false;
  m->entries.clear();
  m->entries.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    Entry& e = m->entries[i];
    uint64_t etype;
    if (!r.Varint(&e.term) || !r.Varint(&etype) || etype > SB_ENTRY_PROTOCOL ||
        !r.Bytes(&e.data)) {
      return false;
    }
    e.type = static_cast<uint32_t>(etype);
    e.index = m->index + 1 + i;
  }
  if (m->type == MsgType::kSnapshot || m->type == MsgType::kSnapshotResp) {
    if (!r.Varint(&m->snap_index) || !r.Varint(&m->offset) ||
        !r.Bool(&m->done) || !r.Bytes(&m->snap_meta) ||
        !r.Bytes(&m->snap_data)) {
      return false;
    }
  }
  return r.done() && m->from != 0 && m->to != 0;
}

void EncodeHardState(const HardState& hs, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(kHardStateFormat));
  PutVarint(out, hs.term);
  PutVarint(out, hs.vote);
  PutVarint(out, hs.commit);
}

bool DecodeHardState(std::string_view in, HardState* hs) {
  Reader r(in);
  uint8_t format;
  return r.Byte(&format) && format == kHardStateFormat && r.Varint(&hs->term) &&
         r.Varint(&hs->vote) && r.Varint(&hs->commit) && r.done();
}

void EncodeEntryMeta(uint64_t term, std::string* out) {
  out->clear();
  PutVarint(out, term);
}

bool DecodeEntryMeta(std::string_view in, uint64_t* term) {
  Reader r(in);
  return r.Varint(term) && r.done();
}

void EncodeSnapshotMeta(const SnapshotMeta& sm, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(kSnapshotMetaFormat));
  PutVarint(out, sm.term);
  PutMembership(out, sm.membership);
}

bool DecodeSnapshotMeta(std::string_view in, SnapshotMeta* sm) {
  Reader r(in);
  uint8_t format;
  return r.Byte(&format) && format == kSnapshotMetaFormat &&
         r.Varint(&sm->term) && GetMembership(&r, &sm->membership) && r.done();
}

void EncodeNoop(std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(ProtocolKind::kNoop));
}

void EncodeMembershipEntry(const Membership& ms, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(ProtocolKind::kMembership));
  PutMembership(out, ms);
}

bool DecodeProtocolEntry(std::string_view in, ProtocolKind* kind,
                         Membership* ms) {
  Reader r(in);
  uint8_t k;
  if (!r.Byte(&k)) return false;
  if (k == static_cast<uint8_t>(ProtocolKind::kNoop)) {
    *kind = ProtocolKind::kNoop;
    return r.done();
  }
  if (k == static_cast<uint8_t>(ProtocolKind::kMembership)) {
    *kind = ProtocolKind::kMembership;
    return GetMembership(&r, ms) && r.done();
  }
  return false;
}

}  // namespace sbraft
