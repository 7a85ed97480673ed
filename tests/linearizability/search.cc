// tests/linearizability/search.cc — Wing & Gong's linearizability search with
// Lowe's improvements, over the operations of one object.
//
// The history is turned into a list of entries, a call and a return per
// operation, ordered by time. The search walks the list from its head:
//
//  * At a call entry it tries to make that operation the next linearization
//    point: the model must accept it in the current state. If it does and the
//    resulting (linearized set, state) pair was never seen before, the pair is
//    cached, the call and its return are lifted out of the list, the old
//    state is pushed, and the walk restarts at the head (Wing & Gong's
//    search; the cache is Lowe's, which prunes configurations reached
//    through a different order of the same operations).
//  * Reaching a return entry means its operation has returned without having
//    been linearized: every operation linearized from now on would come after
//    it in real time. So the last choice was wrong; pop it, unlift its
//    entries, restore the state and try the next call after it. Because the
//    walk never goes past the first return, only operations invoked before
//    the earliest pending return are candidates (Lowe's just-in-time
//    linearization).
//  * The history is linearizable when no finite return is left to reach.
//    Operations with unknown outcome return at +infinity: their entries sit
//    at the end, and reaching one means only unknown operations are pending.
//    They may simply not have taken effect, so the search succeeds there.
//    (Linearizing them last instead would be equivalent for total operations
//    but costs steps.)
//  * An empty stack at a return entry proves that no linearization exists.
//
// On top of Lowe's algorithm, four reductions prune branches that another
// branch dominates (each argued where it is implemented; brute_force_test.cc
// checks that they never change an answer):
//  1. A read-only operation (Model::IsReadOnly) that can be linearized is
//     linearized at once, with no alternative tried at that depth (`forced`).
//     Without it every interleaving of concurrent reads with concurrent
//     writes is a separate branch.
//  2. An unknown operation is not linearized where it changes nothing, and
//     nothing is linearized right after an unknown operation if it would
//     leave the same state without it (AfterUnknownIsRedundant).
//  3. Of several unknown operations with the same inputs, only the earliest
//     pending one is tried (UnknownTwins).
//  4. A configuration is dropped if the same one with a linearized unknown
//     operation left pending already failed (DominatedByFailed).
// Reductions 2-4 keep pending unknown writes, which stay candidates until
// the end of the history, from multiplying the configurations.
#include "tests/linearizability/search.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>

namespace sb::lincheck::internal {
namespace {

constexpr int kNone = -1;

struct Entry {
  int64_t time;
  int op;     // index into ops
  bool call;  // call entry (true) or return entry (false)
  int match;  // the return entry of a call, and vice versa
  int prev;
  int next;
};

// The doubly linked list of entries; slot `head` is a sentinel before them.
class EntryList {
 public:
  explicit EntryList(std::span<const Operation> ops) {
    entries_.reserve(2 * ops.size() + 1);
    for (size_t i = 0; i < ops.size(); ++i) {
      entries_.push_back({ops[i].invoke, static_cast<int>(i), true, 0, 0, 0});
      entries_.push_back({ops[i].ret, static_cast<int>(i), false, 0, 0, 0});
    }
    // Calls before returns at equal times: intervals are closed, so an
    // operation invoked at the instant another returns overlaps it. That is
    // the permissive reading (no false alarm from coarse clocks).
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const Entry& a, const Entry& b) {
                       if (a.time != b.time) return a.time < b.time;
                       return a.call && !b.call;
                     });
    std::vector<int> call_of(ops.size(), kNone);
    for (size_t i = 0; i < entries_.size(); ++i) {
      Entry& e = entries_[i];
      if (e.call) {
        call_of[e.op] = static_cast<int>(i);
      } else {
        e.match = call_of[e.op];
        entries_[e.match].match = static_cast<int>(i);
      }
    }
    head_ = static_cast<int>(entries_.size());
    entries_.push_back({0, kNone, false, kNone, kNone, kNone});
    int prev = head_;
    for (int i = 0; i < head_; ++i) {
      entries_[prev].next = i;
      entries_[i].prev = prev;
      prev = i;
    }
    entries_[prev].next = kNone;
  }

  const Entry& at(int i) const { return entries_[i]; }
  size_t size() const { return entries_.size() - 1; }  // without the head
  int first() const { return entries_[head_].next; }

  // Removes a call entry and its return (Lowe's "lift").
  void Lift(int call) {
    Unlink(call);
    Unlink(entries_[call].match);
  }
  // Restores them, in the reverse order of Lift ("unlift").
  void Unlift(int call) {
    Relink(entries_[call].match);
    Relink(call);
  }

 private:
  void Unlink(int i) {
    Entry& e = entries_[i];
    entries_[e.prev].next = e.next;
    if (e.next != kNone) entries_[e.next].prev = e.prev;
  }
  void Relink(int i) {
    Entry& e = entries_[i];
    entries_[e.prev].next = i;
    if (e.next != kNone) entries_[e.next].prev = i;
  }

  std::vector<Entry> entries_;
  int head_ = 0;
};

// A set of operation indices with an incrementally maintained Zobrist hash
// (XOR of a random word per member), so hashing a configuration is O(1).
class LinearizedSet {
 public:
  explicit LinearizedSet(size_t n) : words_((n + 63) / 64), keys_(n) {
    std::mt19937_64 rng(0x5eed5eedULL);  // fixed: results are deterministic
    for (uint64_t& k : keys_) k = rng();
  }
  void Flip(int i) {
    words_[i / 64] ^= uint64_t{1} << (i % 64);
    hash_ ^= keys_[i];
  }
  uint64_t key(int i) const { return keys_[i]; }
  bool Contains(int i) const { return (words_[i / 64] >> (i % 64)) & 1; }
  uint64_t hash() const { return hash_; }
  const std::vector<uint64_t>& words() const { return words_; }

 private:
  std::vector<uint64_t> words_;
  std::vector<uint64_t> keys_;
  uint64_t hash_ = 0;
};

// One explored configuration: which operations are linearized, and the state.
struct Config {
  std::vector<uint64_t> linearized;
  ModelState state;
  size_t hash;
};

struct ConfigHash {
  size_t operator()(const Config& c) const { return c.hash; }
};
struct ConfigEqual {
  const Model* model;
  bool operator()(const Config& a, const Config& b) const {
    return a.hash == b.hash && a.linearized == b.linearized &&
           model->Equal(a.state, b.state);
  }
};

struct Frame {
  int call;  // the call entry linearized at this depth
  ModelState state_before;
  bool forced;  // no alternative needs trying at this depth
};

// For each operation of unknown outcome, the previous one (in invocation
// order) with the same kind and inputs, or kNone. Such twins are
// interchangeable: neither has a return that orders anything after it, the
// earlier one may be linearized wherever the later one may, and the model
// sees the same operation. So the search only ever linearizes the first
// pending twin; since twins are then linearized in order (and unlinearized in
// reverse), checking the immediate predecessor is enough. Without this, k
// identical unknown deletes make 2^k equivalent configurations.
std::vector<int> UnknownTwins(std::span<const Operation> ops,
                              const EntryList& list) {
  std::vector<int> previous(ops.size(), kNone);
  std::map<
      std::tuple<OpKind, std::string_view, std::optional<std::string_view>>,
      int>
      last;
  for (size_t i = 0; i < list.size(); ++i) {
    const Entry& e = list.at(static_cast<int>(i));
    const Operation& op = ops[e.op];
    if (!e.call || op.outcome != Outcome::kUnknown) continue;
    std::optional<std::string_view> expected;
    if (op.expected) expected = *op.expected;
    auto [it, inserted] = last.try_emplace({op.kind, op.value, expected}, e.op);
    if (!inserted) {
      previous[e.op] = it->second;
      it->second = e.op;
    }
  }
  return previous;
}

// Whether linearizing `op` (giving `next`) right after the operation on top
// of the stack is redundant because that operation's outcome is unknown and
// `op` would leave the same state without it. The configuration reached
// (P + u + op) is then dominated by P + op with u still pending: u may
// simply never take effect, so every completion of the former is one of the
// latter, and the latter is a sibling branch the search explores from P (op
// is a candidate there too: lifting u, whose return is at +infinity, did not
// change the earliest pending return). This keeps unknown writes from being
// linearized except where something observes them; without it every subset
// of the pending unknown writes is a separate configuration.
bool AfterUnknownIsRedundant(const Model& model, std::span<const Operation> ops,
                             const EntryList& list,
                             const std::vector<Frame>& stack,
                             const Operation& op, const ModelState& next) {
  if (stack.empty()) return false;
  const Frame& top = stack.back();
  if (ops[list.at(top.call).op].outcome != Outcome::kUnknown) return false;
  ModelState without;
  return model.Step(top.state_before, op, &without) &&
         model.Equal(without, next);
}

using ConfigCache = std::unordered_set<Config, ConfigHash, ConfigEqual>;

// Whether the new configuration `*config` (whose words and hash are those of
// `linearized`; `unknown_linearized` lists its unknown operations other than
// the one just added) is dominated by one already explored: the same state with
// one of the linearized unknown operations left pending instead. Such a
// configuration has every option of this one (the unknown operation may
// still be linearized later, or never), so if it was explored, this one
// fails too. Everything in the cache that is not an ancestor has failed,
// and the configuration looked up is no ancestor: it contains the operation
// being linearized now. Without this, an unknown write whose effect is
// later overwritten doubles every configuration that follows it. Leaves
// *config as it found it.
bool DominatedByFailed(const LinearizedSet& linearized,
                       const std::vector<int>& unknown_linearized,
                       size_t state_hash, const ConfigCache& cache,
                       Config* config) {
  for (int u : unknown_linearized) {
    config->linearized[u / 64] ^= uint64_t{1} << (u % 64);
    config->hash =
        static_cast<size_t>(linearized.hash() ^ linearized.key(u) ^ state_hash);
    const bool found = cache.contains(*config);
    config->linearized[u / 64] ^= uint64_t{1} << (u % 64);
    if (found) return true;
  }
  config->hash = static_cast<size_t>(linearized.hash() ^ state_hash);
  return false;
}

}  // namespace

SearchOutcome SearchKey(std::span<const Operation> ops, const Model& model,
                        uint64_t max_steps,
                        std::chrono::milliseconds max_time) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + max_time;
  const bool timed = max_time.count() > 0;

  SearchOutcome out;
  EntryList list(ops);
  LinearizedSet linearized(ops.size());
  ConfigCache cache(16, ConfigHash{}, ConfigEqual{&model});
  std::vector<Frame> stack;
  std::vector<int> unknown_on_stack;  // the unknown operations in `stack`
  const std::vector<int> twins = UnknownTwins(ops, list);
  ModelState state = model.Init();
  // Depth of the deepest dead end recorded so far (for the report).
  long best_depth = -1;

  // Undoes linearizations until one that had alternatives: pops the top
  // frame and, if it was forced (see below), keeps popping, since its
  // parent configuration is then dead as well. Returns false when the
  // stack runs empty: no linearization exists.
  auto backtrack = [&](int* entry) {
    while (!stack.empty()) {
      Frame top = std::move(stack.back());
      stack.pop_back();
      if (ops[list.at(top.call).op].outcome == Outcome::kUnknown) {
        unknown_on_stack.pop_back();
      }
      state = std::move(top.state_before);
      linearized.Flip(list.at(top.call).op);
      list.Unlift(top.call);
      if (!top.forced) {
        *entry = list.at(top.call).next;  // try the next candidate
        return true;
      }
    }
    return false;
  };

  int entry = list.first();
  while (true) {
    if (entry == kNone) return out;  // every operation linearized
    if (out.steps >= max_steps ||
        (timed && out.steps % 256 == 0 && Clock::now() >= deadline)) {
      out.verdict = Verdict::kUnknown;
      return out;
    }
    ++out.steps;
    const Entry& e = list.at(entry);
    if (e.call) {
      ModelState next;
      const bool twin_pending =
          twins[e.op] != kNone && !linearized.Contains(twins[e.op]);
      // An unknown operation that changes nothing here is better left
      // pending: the configuration with it linearized has the same state
      // and fewer options than the one without.
      if (!twin_pending && model.Step(state, ops[e.op], &next) &&
          !(ops[e.op].outcome == Outcome::kUnknown &&
            model.Equal(next, state)) &&
          !AfterUnknownIsRedundant(model, ops, list, stack, ops[e.op], next)) {
        // A read-only operation (one that never changes the state when the
        // model accepts it) that can be linearized here may as well be
        // linearized right now: in any linearization that places it later,
        // it was accepted there without changing the state, so removing it
        // from there and placing it here changes no other step's state; and
        // no pending operation must precede it in real time (the walk has
        // not reached any pending return yet, and entries are in time
        // order). So its frame is forced: if the configuration after it
        // fails, so does the one before it, and no other candidate needs
        // trying at this depth.
        const bool forced = model.IsReadOnly(ops[e.op]);
        linearized.Flip(e.op);
        const size_t state_hash = model.Hash(next) * 0x9e3779b97f4a7c15ULL;
        Config config{linearized.words(), next,
                      static_cast<size_t>(linearized.hash() ^ state_hash)};
        if (!DominatedByFailed(linearized, unknown_on_stack, state_hash, cache,
                               &config) &&
            cache.insert(std::move(config)).second) {
          // A new configuration: linearize here and restart at the head.
          stack.push_back(Frame{entry, std::move(state), forced});
          if (ops[e.op].outcome == Outcome::kUnknown) {
            unknown_on_stack.push_back(e.op);
          }
          state = std::move(next);
          list.Lift(entry);
          entry = list.first();
          continue;
        }
        linearized.Flip(e.op);  // already explored from here (and failed)
        if (forced) {
          // The forced successor failed, so this configuration fails too.
          if (!backtrack(&entry)) {
            out.verdict = Verdict::kNotLinearizable;
            return out;
          }
          continue;
        }
      }
      entry = e.next;
      continue;
    }
    // A return entry: its operation returned without being linearized.
    if (ops[e.op].ret == kInfinity) return out;  // only unknown ops pending
    if (static_cast<long>(stack.size()) > best_depth) {
      best_depth = static_cast<long>(stack.size());
      out.longest_prefix.clear();
      for (const Frame& f : stack) {
        out.longest_prefix.push_back(list.at(f.call).op);
      }
      out.stuck = e.op;
      out.state_after_prefix = state;
    }
    // The last choice was wrong: undo it and try the next call after it.
    if (!backtrack(&entry)) {
      out.verdict = Verdict::kNotLinearizable;
      return out;
    }
  }
}

}  // namespace sb::lincheck::internal
