// Loader refusals: each case checks the message names the file, the
// versions and the known plugins, as operators rely on it.
#include "host/plugin/loader.h"

#include <gtest/gtest.h>

#include <string>

namespace sb {
namespace {

const std::string kDir = TEST_PLUGIN_DIR;

PluginLoader TestLoader() { return PluginLoader({kDir}); }

std::string ExpectedAbi() {
  return "expected ABI " + std::to_string(SB_ABI_MAJOR) + "." +
         std::to_string(SB_ABI_MINOR);
}

TEST(LoaderTest, LoadsGoodPluginByName) {
  auto lib = TestLoader().Load("good_storage", SB_KIND_STORAGE);
  ASSERT_TRUE(lib.ok()) << lib.status().ToString();
  EXPECT_EQ((*lib)->name(), "test-plugin");
  EXPECT_EQ((*lib)->version(), "9.9.9");
  EXPECT_EQ((*lib)->kind(), static_cast<uint32_t>(SB_KIND_STORAGE));
  EXPECT_EQ((*lib)->path(), kDir + "/good_storage.so");
  EXPECT_NE((*lib)->vtable(), nullptr);
}

TEST(LoaderTest, LoadsGoodPluginByPath) {
  auto lib = PluginLoader({"/nonexistent"})
                 .Load(kDir + "/good_storage.so", SB_KIND_STORAGE);
  ASSERT_TRUE(lib.ok()) << lib.status().ToString();
}

TEST(LoaderTest, MissingNameListsSearchedFilesAndKnownPlugins) {
  auto lib = TestLoader().Load("storage-nope", SB_KIND_STORAGE);
  ASSERT_FALSE(lib.ok());
  const std::string& m = lib.status().message();
  EXPECT_TRUE(lib.status().IsNotFound());
  EXPECT_NE(m.find("no storage plugin named 'storage-nope'"), std::string::npos)
      << m;
  EXPECT_NE(m.find(kDir + "/storage-nope.so"), std::string::npos) << m;
  EXPECT_NE(m.find("known storage plugins: good_storage"), std::string::npos)
      << m;
}

TEST(LoaderTest, MissingPath) {
  auto lib = TestLoader().Load("/no/such/dir/plugin.so", SB_KIND_STORAGE);
  ASSERT_FALSE(lib.ok());
  EXPECT_NE(
      lib.status().message().find("'/no/such/dir/plugin.so' does not exist"),
      std::string::npos)
      << lib.status().message();
}

TEST(LoaderTest, NotASharedObject) {
  auto lib = TestLoader().Load("not_elf", SB_KIND_STORAGE);
  ASSERT_FALSE(lib.ok());
  const std::string& m = lib.status().message();
  EXPECT_NE(m.find(kDir + "/not_elf.so' is not a loadable shared object"),
            std::string::npos)
      << m;
}

TEST(LoaderTest, MissingEntrySymbol) {
  auto lib = TestLoader().Load("no_symbol", SB_KIND_STORAGE);
  ASSERT_FALSE(lib.ok());
  const std::string& m = lib.status().message();
  EXPECT_NE(m.find(kDir + "/no_symbol.so' has no entry symbol "
                          "'shardbearer_plugin_entry'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(ExpectedAbi()), std::string::npos) << m;
}

TEST(LoaderTest, NullDescriptor) {
  auto lib = TestLoader().Load("null_descriptor", SB_KIND_STORAGE);
  ASSERT_FALSE(lib.ok());
  EXPECT_NE(lib.status().message().find("returned no descriptor"),
            std::string::npos)
      << lib.status().message();
}

TEST(LoaderTest, BadMagic) {
  auto lib = TestLoader().Load("bad_magic", SB_KIND_STORAGE);
  ASSERT_FALSE(lib.ok());
  EXPECT_NE(lib.status().message().find("bad descriptor magic"),
            std::string::npos)
      << lib.status().message();
}

TEST(LoaderTest, AbiMajorMismatchNamesBothVersions) {
  auto lib = TestLoader().Load("wrong_major", SB_KIND_STORAGE);
  ASSERT_FALSE(lib.ok());
  const std::string& m = lib.status().message();
  EXPECT_NE(m.find(kDir + "/wrong_major.so': ABI major mismatch"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(ExpectedAbi()), std::string::npos) << m;
  EXPECT_NE(m.find("found ABI " + std::to_string(SB_ABI_MAJOR + 1) + "." +
                   std::to_string(SB_ABI_MINOR)),
            std::string::npos)
      << m;
}

TEST(LoaderTest, WrongKindNamesBothKindsAndKnownPlugins) {
  auto lib = TestLoader().Load("wrong_kind", SB_KIND_STORAGE);
  ASSERT_FALSE(lib.ok());
  const std::string& m = lib.status().message();
  EXPECT_NE(m.find("is a transport (3) plugin, expected a storage (1) plugin"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("known storage plugins: good_storage"), std::string::npos)
      << m;
}

TEST(LoaderTest, KnownPluginsFiltersByKindAndSkipsBrokenFiles) {
  auto loader = TestLoader();
  EXPECT_EQ(loader.KnownPlugins(SB_KIND_STORAGE),
            std::vector<std::string>{"good_storage"});
  EXPECT_EQ(loader.KnownPlugins(SB_KIND_TRANSPORT),
            std::vector<std::string>{"wrong_kind"});
  EXPECT_TRUE(loader.KnownPlugins(SB_KIND_CLASSIFIER).empty());
}

TEST(LoaderTest, LibraryOutlivesLoader) {
  std::shared_ptr<PluginLibrary> lib;
  {
    auto r = TestLoader().Load("good_storage", SB_KIND_STORAGE);
    ASSERT_TRUE(r.ok());
    lib = std::move(r).value();
  }
  // The descriptor is static data of the still-loaded library.
  EXPECT_STREQ(lib->info().description, "loader test plugin");
}

}  // namespace
}  // namespace sb
