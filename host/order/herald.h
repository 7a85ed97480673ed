// host/order/herald.h — the leader side of one order: client writes become
// proposals whose results come back as futures, and linearizable reads are
// served through ReadIndex, batched.
//
// A Herald sits beside the ConsensusDriver that hosts the order's group and
// the group's OrderStateMachine. Any thread may call Propose and
// LinearizableGet: they queue a request and return a future (or take a
// callback, called on the driver's thread). The driver's
// thread calls Pump() after each RunCycle (and after Tick), which
//   1. answers every queued request Unavailable "not the herald; leader
//      node N" (the API maps it to WrongLeader with leader_hint()) if this
//      node is not the leader;
//   2. proposes queued writes and watches their log index in ApplyResults
//      (the state machine answers them once their batch is written);
//   3. issues ONE read_index for all reads queued since the last one, and
//      none while one is outstanding (Raft §6.4: the leader confirms it is
//      still leader, then serves reads once its state machine applied the
//      index it had committed);
//   4. serves reads whose read index is applied, straight from storage;
//   5. answers OutcomeUnknown to writes and reads older than the request
//      timeout (a write may still apply: a retry with the same sequence
//      is deduplicated).
// A herald that loses leadership fails the reads and writes it still
// holds as not the herald. A write failed that way may still commit under
// the new herald; the client's retry with the same sequence is
// deduplicated, so it is answered the first outcome.
//
// Thread safety: Propose, LinearizableGet may be called from any thread;
// Pump and OnReadIndex only from the driver's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "host/consensus/driver.h"
#include "host/order/command.h"
#include "host/order/state_machine.h"

namespace sb::order {

// Answer of a read: the value, or nullopt when the key is absent.
using ReadResult = StatusOr<std::optional<std::string>>;

struct HeraldOptions {
  uint64_t request_timeout_ms = 5000;  // [cluster] request_timeout_ms
  // [limits] max_value_bytes: an append whose result would be larger is
  // refused (TooLarge) by every replica alike, as it travels in the command.
  uint32_t max_value_bytes = 1 << 20;
  // Monotonic clock in ms (injectable for tests).
  std::function<uint64_t()> now_ms;
  // Wall clock in ms for command timestamps (session expiry).
  std::function<uint64_t()> wall_ms;
};

class Herald {
 public:
  // A read_index unanswered this long no longer holds back the next one.
  static constexpr uint64_t kReadIndexRetryMs = 100;

  // `driver` hosts `group`, whose state machine is `sm`; all outlive the
  // Herald. Registers itself as `sm`'s read-index listener.
  Herald(ConsensusDriver* driver, uint64_t group, OrderStateMachine* sm,
         HeraldOptions options);
  ~Herald();

  // Queues a write. The command's timestamp is set here (wall clock), and
  // an append's value limit when it has none. The
  // future answers the command's result, or WrongLeader / OutcomeUnknown /
  // the apply error.
  std::future<StatusOr<CommandResult>> Propose(Command command);
  // Queues a linearizable read of (shard, key).
  std::future<ReadResult> LinearizableGet(uint16_t shard, std::string key);

  // The same, answered through `done` instead of a future: called exactly
  // once, on the driver's thread (or the destroying thread), with no lock
  // held; it must not block.
  using WriteDone = std::function<void(StatusOr<CommandResult>)>;
  using ReadDone = std::function<void(ReadResult)>;
  void Propose(Command command, WriteDone done);
  void LinearizableGet(uint16_t shard, std::string key, ReadDone done);

  // Driver thread: moves queued work forward (see the file comment).
  void Pump();
  // Driver thread, from the state machine: a read_index completed.
  void OnReadIndex(std::string_view context, uint64_t index);

  // Driver thread: read batches issued so far (one read_index each), and
  // the leader this node knew when it last refused as not the herald (0:
  // none known).
  uint64_t read_batches() const { return read_batches_; }
  uint64_t leader_hint() const { return last_leader_; }

 private:
  // A write's answer, given once (the watcher, a timeout or a leadership
  // loss, whichever comes first; all on the driver's thread).
  struct Pending {
    WriteDone done;
    uint64_t deadline_ms = 0;
    bool answered = false;
    void Answer(StatusOr<CommandResult> r) {
      if (answered) return;
      answered = true;
      done(std::move(r));
    }
  };
  struct Write {
    Command command;
    std::shared_ptr<Pending> pending;
  };
  struct Read {
    uint16_t shard;
    std::string key;
    uint64_t deadline_ms;
    ReadDone done;
  };
  // Reads each key (at least as new as the batch's read index) and answers.
  void ServeReads(std::vector<Read>& reads);
  struct ReadBatch {
    std::vector<Read> reads;
    bool answered = false;  // read_index came back with `index`
    uint64_t index = 0;     // may be 0: a group that committed nothing yet
    uint64_t deadline_ms = 0;
    uint64_t issued_ms = 0;
  };

  Status NotLeader();
  void FailAll(const Status& s);

  ConsensusDriver* driver_;
  uint64_t group_;
  OrderStateMachine* sm_;
  HeraldOptions opts_;

  std::mutex mu_;  // guards the queues below
  std::deque<Write> writes_;
  std::vector<Read> reads_;

  // Driver thread only.
  uint64_t next_context_ = 1;
  std::map<std::string, ReadBatch> batches_;  // by read_index context
  std::map<uint64_t, std::shared_ptr<Pending>> in_flight_;  // by log index
  uint64_t read_batches_ = 0;
  uint64_t last_leader_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace sb::order
