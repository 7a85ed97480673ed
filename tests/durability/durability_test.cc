// The SIGKILL durability test of storage-rocksdb.
//
// Each cycle starts sb_durability_writer (writer_main.cc) on one data
// directory, reads the batch numbers it acknowledges through a pipe, and
// SIGKILLs it at a random moment (seeded: the seed is printed, and
// SB_DURABILITY_SEED replays it). Then the test reopens the store itself and
// checks the two promises of a synced write batch:
//   1. every acknowledged batch is there, with every key and value intact;
//   2. no batch is half-applied: each batch's keys are all there or none,
//      and they agree with the "last" marker written in the same batch.
// The next cycle continues after the last batch found.
//
// Default: 20 cycles, a few seconds to ~30 s. SB_DURABILITY_CYCLES=N runs N.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <string>

#include "batch_schema.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"

namespace sb::durability {
namespace {

constexpr int kDefaultCycles = 20;
// Longest a single cycle may wait for acknowledgements before killing.
constexpr int kMaxKillDelayMs = 1200;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::atoi(v);
}

struct Child {
  pid_t pid = -1;
  int out_fd = -1;  // read end of the child's stdout
};

Child StartWriter(const std::string& data_dir, uint64_t first_batch) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  const std::string first = std::to_string(first_batch);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    const char* argv[] = {WRITER_PATH, SB_PLUGIN_BUILD_DIR, data_dir.c_str(),
                          first.c_str(), nullptr};
    ::execv(WRITER_PATH, const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return {};
  }
  return Child{pid, fds[0]};
}

// Parses complete "<n>\n" lines out of `buf` into *max_ack.
void ParseAcks(std::string* buf, uint64_t* max_ack, uint64_t* count) {
  size_t start = 0, nl;
  while ((nl = buf->find('\n', start)) != std::string::npos) {
    const uint64_t n = std::strtoull(buf->c_str() + start, nullptr, 10);
    if (n > *max_ack) *max_ack = n;
    ++*count;
    start = nl + 1;
  }
  buf->erase(0, start);
}

// What the reopened store holds.
struct Found {
  uint64_t last = 0;                  // the "last" marker, 0 if absent
  std::map<uint64_t, int> keys;       // batch -> keys found
  std::vector<std::string> problems;  // wrong values, stray keys
};

Found Inspect(const Storage& db, uint32_t a, uint32_t b) {
  Found f;
  std::string last;
  Status s = db.Get(a, kLastKey, &last);
  if (s.ok()) {
    f.last = std::strtoull(last.c_str(), nullptr, 10);
  } else if (!s.IsNotFound()) {
    f.problems.push_back("reading last: " + s.ToString());
  }
  for (uint32_t ks : {a, b}) {
    auto it = db.NewPrefixIterator(ks, "batch/");
    if (!it.ok()) {
      f.problems.push_back("iterator: " + it.status().ToString());
      continue;
    }
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key(it->key());
      unsigned long long n = 0;
      int i = -1;
      if (std::sscanf(key.c_str(), "batch/%llu/%d", &n, &i) != 2 || i < 0 ||
          i >= kKeysPerBatch || BatchKey(n, i) != key ||
          (ks == a) != (i < kKeysPerBatch / 2)) {
        f.problems.push_back("stray key " + key);
        continue;
      }
      if (it->value() != BatchValue(n, i)) {
        f.problems.push_back("wrong value for " + key);
      }
      ++f.keys[n];
    }
    if (!it->status().ok()) {
      f.problems.push_back("iterating: " + it->status().ToString());
    }
  }
  return f;
}

TEST(DurabilityTest, SyncedBatchesSurviveSigkill) {
  const int cycles = EnvInt("SB_DURABILITY_CYCLES", kDefaultCycles);
  const uint64_t seed =
      std::getenv("SB_DURABILITY_SEED") != nullptr
          ? std::strtoull(std::getenv("SB_DURABILITY_SEED"), nullptr, 10)
          : std::random_device{}();
  std::cout << "durability seed " << seed
            << " (replay with SB_DURABILITY_SEED=" << seed << "), " << cycles
            << " cycles" << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);

  const auto dir = std::filesystem::temp_directory_path() /
                   ("sb-durability-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  // Removed however the test ends.
  struct RemoveDir {
    std::filesystem::path path;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_dir{dir};
  const std::string data_dir = (dir / "data").string();
  PluginLoader loader({SB_PLUGIN_BUILD_DIR});
  auto lib = loader.Load("storage-rocksdb", SB_KIND_STORAGE);
  ASSERT_TRUE(lib.ok()) << lib.status().ToString();
  const sb_host_services host = {
      sizeof(sb_host_services), nullptr, nullptr, nullptr, nullptr, nullptr};
  const sb_config config = {sizeof(sb_config), nullptr, 0};

  uint64_t next_batch = 1, total_acks = 0, max_ack_ever = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle) + ", seed " +
                 std::to_string(seed));
    // Kill delays spread from "during open" to "well into the writes".
    const int delay_ms = static_cast<int>(rng() % kMaxKillDelayMs);
    Child child = StartWriter(data_dir, next_batch);
    ASSERT_GT(child.pid, 0) << "cannot start " << WRITER_PATH;

    uint64_t max_ack = 0, acks = 0;
    std::string buf;
    bool exited_early = false;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
    // Read acknowledgements until the kill moment (bounded by the delay).
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) break;
      pollfd p{child.out_fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::read(child.out_fd, chunk, sizeof chunk);
      if (n <= 0) {
        exited_early = true;
        break;
      }
      buf.append(chunk, static_cast<size_t>(n));
      ParseAcks(&buf, &max_ack, &acks);
    }
    ::kill(child.pid, SIGKILL);
    int wstatus = 0;
    ::waitpid(child.pid, &wstatus, 0);
    // Acknowledgements written before the kill still count: drain them.
    char chunk[4096];
    ssize_t n;
    while ((n = ::read(child.out_fd, chunk, sizeof chunk)) > 0) {
      buf.append(chunk, static_cast<size_t>(n));
    }
    ::close(child.out_fd);
    ParseAcks(&buf, &max_ack, &acks);
    ASSERT_FALSE(exited_early && !(WIFSIGNALED(wstatus)))
        << "writer exited by itself with status " << WEXITSTATUS(wstatus);
    total_acks += acks;
    if (max_ack > max_ack_ever) max_ack_ever = max_ack;

    // Reopen and check. The child is dead, so its lock is released.
    auto db = Storage::Open(*lib, host, data_dir, config);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto a = db->Keyspace(kKeyspaceA);
    auto b = db->Keyspace(kKeyspaceB);
    ASSERT_TRUE(a.ok() && b.ok());
    Found f = Inspect(*db, *a, *b);
    for (const auto& p : f.problems) ADD_FAILURE() << p;
    // Promise 1: every acknowledged batch (of every cycle so far) is there.
    ASSERT_GE(f.last, max_ack_ever) << "acknowledged batch lost";
    // The writer acknowledges each batch before starting the next, so at
    // most one unacknowledged batch can have landed.
    ASSERT_LE(f.last, std::max(max_ack_ever, next_batch - 1) + 1);
    // Promise 2: batches 1..last complete, nothing after.
    for (uint64_t batch = 1; batch <= f.last; ++batch) {
      auto it = f.keys.find(batch);
      const int got = it == f.keys.end() ? 0 : it->second;
      ASSERT_EQ(got, kKeysPerBatch) << "batch " << batch << " half-applied";
    }
    ASSERT_EQ(f.keys.size(), f.last)
        << "keys of batches after 'last' " << f.last;
    next_batch = f.last + 1;
  }
  std::cout << total_acks << " acknowledged batches over " << cycles
            << " cycles, " << next_batch - 1 << " batches stored" << std::endl;
  // The test must have exercised something to mean anything.
  EXPECT_GT(total_acks, 0u);
}

}  // namespace
}  // namespace sb::durability
