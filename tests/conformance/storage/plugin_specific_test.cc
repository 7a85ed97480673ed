// Checks specific to one plugin, next to the shared suite: storage-rocksdb's
// configuration validation and on-disk layout, storage-mem's checkpoint
// loading and its refusal of a corrupt dump, and the wrapper's vtable check.
#include <unistd.h>

#include <fstream>

#include "storage_fixture.h"

namespace sb::testing {
namespace {

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("sb-storage-specific-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

Status CheckRocks(const std::vector<PluginConfigEntry>& kv) {
  auto lib = LoadStoragePlugin("storage-rocksdb");
  if (lib == nullptr) return Status::Internal("no plugin");
  PluginConfigAbi cfg(kv);
  return Storage::CheckConfig(lib, *cfg.get());
}

TEST(RocksdbConfigTest, AcceptsEveryKnownKey) {
  Status s = CheckRocks({{"block_cache_mb", "8"},
                         {"write_buffer_mb", "4"},
                         {"total_write_buffer_mb", "64"},
                         {"max_open_files", "-1"},
                         {"compression", "none"},
                         {"bytes_per_sync", "0"},
                         {"max_background_jobs", "2"}});
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(RocksdbConfigTest, BadValuesNameTheKey) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"block_cache_mb", "-1"},
      {"block_cache_mb", "12abc"},
      {"write_buffer_mb", "0"},
      {"write_buffer_mb", ""},
      {"max_open_files", "3"},
      {"max_open_files", "1e3"},
      {"compression", "bogus"},
      {"compression", "LZ4"},
      {"bytes_per_sync", "99999999999999"},
      {"max_background_jobs", "0"},
      {"total_write_buffer_mb", "x"},
  };
  for (const auto& [key, value] : bad) {
    Status s = CheckRocks({{key, value}});
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << key << "=" << value;
    EXPECT_NE(s.message().find("'" + key + "'"), std::string::npos)
        << s.message();
  }
  Status dup = CheckRocks({{"block_cache_mb", "8"}, {"block_cache_mb", "9"}});
  EXPECT_EQ(dup.code(), Code::kInvalidArgument);
  EXPECT_NE(dup.message().find("block_cache_mb"), std::string::npos);
}

TEST(RocksdbLayoutTest, DatabaseLivesInRocksdbSubdirectory) {
  TempDir dir;
  auto lib = LoadStoragePlugin("storage-rocksdb");
  ASSERT_NE(lib, nullptr);
  PluginConfigAbi cfg{{"block_cache_mb", "0"}, {"compression", "none"}};
  {
    auto db =
        Storage::Open(lib, TestHostServices(),
                      (dir.path() / "nested" / "data").string(), *cfg.get());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_TRUE(db->durable());
    ASSERT_TRUE(db->Keyspace("ks").ok());
    // A second instance on the same directory is refused, not corrupted.
    auto second =
        Storage::Open(lib, TestHostServices(),
                      (dir.path() / "nested" / "data").string(), *cfg.get());
    EXPECT_FALSE(second.ok());
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "nested" / "data" /
                                      "rocksdb" / "CURRENT"));
}

TEST(MemDumpTest, CorruptDumpIsRefused) {
  TempDir dir;
  auto lib = LoadStoragePlugin("storage-mem");
  ASSERT_NE(lib, nullptr);
  PluginConfigAbi empty;
  {
    auto db = Storage::Open(lib, TestHostServices(), "", *empty.get());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_FALSE(db->durable());
    auto ks = db->Keyspace("ks");
    ASSERT_TRUE(ks.ok());
    ASSERT_TRUE(db->Put(*ks, "key", "value").ok());
    ASSERT_TRUE(db->Checkpoint((dir.path() / "cp").string()).ok());
  }
  const auto dump = dir.path() / "cp" / "storage-mem.dump";
  ASSERT_TRUE(std::filesystem::exists(dump));
  {
    // Flip one byte in the middle: the checksum catches it.
    std::fstream f(dump, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x5a');
  }
  auto db = Storage::Open(lib, TestHostServices(), (dir.path() / "cp").string(),
                          *empty.get());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kCorruption) << db.status().ToString();
  // A truncated file too.
  std::filesystem::resize_file(dump, 10);
  db = Storage::Open(lib, TestHostServices(), (dir.path() / "cp").string(),
                     *empty.get());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kCorruption);
}

TEST(StorageWrapperTest, AcceptsTheRealPlugins) {
  for (const char* name : {"storage-mem", "storage-rocksdb"}) {
    auto lib = LoadStoragePlugin(name);
    ASSERT_NE(lib, nullptr);
    EXPECT_TRUE(Storage::CheckPlugin(*lib).ok()) << name;
  }
}

TEST(StorageWrapperTest, RefusesShortVtableOrNullMember) {
  PluginLoader loader({BROKEN_PLUGIN_DIR});
  PluginConfigAbi empty;
  TempDir dir;
  for (const char* file : {"short", "null_member"}) {
    auto lib = loader.Load(file, SB_KIND_STORAGE);
    ASSERT_TRUE(lib.ok()) << lib.status().ToString();
    Status s = Storage::CheckPlugin(**lib);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << file;
    // The message names the plugin.
    EXPECT_NE(s.message().find((*lib)->name()), std::string::npos)
        << s.message();
    auto db = Storage::Open(*lib, TestHostServices(), dir.path().string(),
                            *empty.get());
    EXPECT_FALSE(db.ok()) << file;
  }
}

}  // namespace
}  // namespace sb::testing
