// sb_durability_writer — the child of the durability test.
//
// Usage: sb_durability_writer <plugin_dir> <data_dir> <first_batch>
//
// Opens storage-rocksdb from <plugin_dir> on <data_dir> and writes batches
// first_batch, first_batch + 1, ... (batch_schema.h), each as one synced
// write. After each OK write it prints the batch number and a newline on
// stdout (unbuffered): a printed number is an acknowledged batch. It runs
// until killed, or stops by itself after kMaxBatches or kMaxSeconds (so an
// orphan never runs forever). Exit code 2 on any storage error.
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "batch_schema.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"

namespace {

constexpr uint64_t kMaxBatches = 1000000;
constexpr int kMaxSeconds = 120;

int Fail(const std::string& what, const sb::Status& s) {
  std::fprintf(stderr, "sb_durability_writer: %s: %s\n", what.c_str(),
               s.ToString().c_str());
  return 2;
}

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sb::durability;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <plugin_dir> <data_dir> <first_batch>\n",
                 argv[0]);
    return 64;
  }
  // Die with the parent test, whatever happens to it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const uint64_t first = std::strtoull(argv[3], nullptr, 10);

  sb::PluginLoader loader({argv[1]});
  auto lib = loader.Load("storage-rocksdb", SB_KIND_STORAGE);
  if (!lib.ok()) return Fail("loading storage-rocksdb", lib.status());
  const sb_host_services host = {
      sizeof(sb_host_services), nullptr, nullptr, nullptr, nullptr, nullptr};
  const sb_config config = {sizeof(sb_config), nullptr, 0};
  auto db = sb::Storage::Open(*lib, host, argv[2], config);
  if (!db.ok()) return Fail("opening", db.status());
  auto a = db->Keyspace(kKeyspaceA);
  if (!a.ok()) return Fail("keyspace a", a.status());
  auto b = db->Keyspace(kKeyspaceB);
  if (!b.ok()) return Fail("keyspace b", b.status());
  auto batch = db->NewBatch();
  if (!batch.ok()) return Fail("batch", batch.status());

  const auto start = std::chrono::steady_clock::now();
  for (uint64_t n = first; n < first + kMaxBatches; ++n) {
    if (std::chrono::steady_clock::now() - start >
        std::chrono::seconds(kMaxSeconds)) {
      break;
    }
    batch->Clear();
    for (int i = 0; i < kKeysPerBatch; ++i) {
      const uint32_t ks = i < kKeysPerBatch / 2 ? *a : *b;
      sb::Status s = batch->Put(ks, BatchKey(n, i), BatchValue(n, i));
      if (!s.ok()) return Fail("batch put", s);
    }
    sb::Status s = batch->Put(*a, kLastKey, std::to_string(n));
    if (!s.ok()) return Fail("batch put", s);
    s = db->Write(*batch, /*sync=*/true);
    if (!s.ok()) return Fail("write", s);
    // Only now is batch n acknowledged.
    if (!WriteAll(STDOUT_FILENO, std::to_string(n) + "\n")) return 3;
  }
  return 0;
}
