// host/order/apply_results.h — hands the result of an applied command back
// to whoever proposed it, by log index.
//
// The proposer learns the log index of its proposal and calls Watch(index,
// digest, ...), where digest is CommandDigest() of the bytes it proposed,
// before the entry can be applied (the herald proposes and watches on the
// driver's thread, which also applies). The state machine Records each
// applied command's result while it adds the command's writes to the
// driver's batch; only watched indexes keep a result (a follower's entries
// cost nothing here, not even their digest). Results are held back until
// the batch holding them was written (ReleaseThrough), so no client hears
// "ok" for a write a read could not yet see.
//
// A watcher is answered exactly once:
//   - the result, if the entry at its index carried its command;
//   - Aborted, if the entry at that index was something else (a new herald
//     overwrote the uncommitted proposal): the proposal did not apply there;
//   - Aborted, if the index was already released when Watch was called
//     (results are not kept once released);
//   - the status given to FailAll (shutdown, leadership lost).
// A corrupt committed entry answers its watcher Corruption.
//
// Thread safety: all methods may be called from any thread. Callbacks run on
// the thread calling ReleaseThrough / FailAll (or Watch, when answered at
// once) with no lock held; they must not block for long.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

#include "host/common/status.h"
#include "host/order/command.h"

namespace sb::order {

// FNV-1a 64 of the proposed bytes: identifies the proposal at an index.
uint64_t CommandDigest(std::string_view proposed_bytes);

class ApplyResults {
 public:
  using Result = StatusOr<CommandResult>;
  using Callback = std::function<void(const Result&)>;

  void Watch(uint64_t index, uint64_t digest, Callback cb);
  std::future<Result> Watch(uint64_t index, uint64_t digest);

  // Apply side (the driver's thread): the result of the entry at `index`,
  // whose bytes are `entry_bytes`; kept only if that index is watched.
  void Record(uint64_t index, std::string_view entry_bytes, Result result);
  // Every entry through `index` is written: answer their watchers and drop
  // their results. Watchers of indexes <= `index` with no recorded result
  // (the entry was not a command) are answered Aborted.
  void ReleaseThrough(uint64_t index);
  // Recorded but unreleased results are dropped (their batch was not
  // written, e.g. a snapshot replaced the state): those indexes will be
  // recorded again if applied again.
  void DropUnreleased();
  // Answers every watcher with `status` (not OK) and forgets them.
  void FailAll(const Status& status);

  uint64_t released() const;
  size_t watchers() const;

 private:
  struct Watcher {
    uint64_t digest;
    Callback cb;
  };
  struct Recorded {
    uint64_t digest;
    Result result;
  };
  mutable std::mutex mu_;
  uint64_t released_ = 0;
  std::multimap<uint64_t, Watcher> watchers_;
  std::map<uint64_t, Recorded> recorded_;
};

}  // namespace sb::order
