#include "storage_fixture.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace sb::testing {
namespace {

void Log(void*, int32_t level, const char* msg, size_t len) {
  std::fprintf(stderr, "[plugin %d] %.*s\n", level, static_cast<int>(len), msg);
}
int32_t LogEnabled(void*, int32_t level) { return level >= SB_LOG_WARN; }
uint64_t MonotonicNs(void*) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
uint64_t WallNs(void*) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

const sb_host_services& TestHostServices() {
  static const sb_host_services services = {
      sizeof(sb_host_services), nullptr, Log, LogEnabled, MonotonicNs, WallNs};
  return services;
}

std::shared_ptr<PluginLibrary> LoadStoragePlugin(const std::string& name) {
  PluginLoader loader({SB_PLUGIN_BUILD_DIR});
  auto lib = loader.Load(name, SB_KIND_STORAGE);
  EXPECT_TRUE(lib.ok()) << lib.status().ToString();
  return lib.ok() ? *lib : nullptr;
}

std::vector<std::pair<std::string, std::string>> Scan(
    const Storage& db, uint32_t keyspace, const IterOptions& options) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = db.NewIterator(keyspace, options);
  EXPECT_TRUE(it.ok()) << it.status().ToString();
  if (!it.ok()) return out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

void StorageConformance::SetUp() {
  static std::atomic<int> counter{0};
  root_ = std::filesystem::temp_directory_path() /
          ("sb-storage-conf-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++));
  std::filesystem::remove_all(root_);
  std::filesystem::create_directories(root_);
  data_dir_ = root_ / "data";
  lib_ = LoadStoragePlugin(GetParam());
  ASSERT_NE(lib_, nullptr);
  auto db = OpenAt(data_dir_);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_.emplace(std::move(*db));
}

void StorageConformance::TearDown() {
  db_.reset();
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

StatusOr<Storage> StorageConformance::OpenAt(const std::filesystem::path& dir,
                                             const sb_config& config) const {
  return Storage::Open(lib_, TestHostServices(), dir.string(), config);
}

StatusOr<Storage> StorageConformance::OpenAt(
    const std::filesystem::path& dir) const {
  PluginConfigAbi empty;
  return OpenAt(dir, *empty.get());
}

void StorageConformance::Reopen() {
  db_.reset();
  auto db = OpenAt(data_dir_);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_.emplace(std::move(*db));
}

uint32_t StorageConformance::Ks(const std::string& name) {
  auto id = db_->Keyspace(name);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : 0;
}

std::string StorageConformance::Get(uint32_t ks, std::string_view key) {
  std::string value;
  Status s = db_->Get(ks, key, &value);
  if (s.IsNotFound()) return "<absent>";
  EXPECT_TRUE(s.ok()) << s.ToString();
  return value;
}

INSTANTIATE_TEST_SUITE_P(Plugins, StorageConformance,
                         ::testing::Values("storage-mem", "storage-rocksdb"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

}  // namespace sb::testing
