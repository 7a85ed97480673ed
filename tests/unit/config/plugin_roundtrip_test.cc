// A plugin section travels to a real plugin (storage-mem) as an sb_config,
// and the plugin's refusal of a key comes back pointing at the key's line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/config/config.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"

namespace sb {
namespace {

using ::testing::StartsWith;

std::shared_ptr<PluginLibrary> LoadStorageMem() {
  PluginLoader loader({SB_PLUGIN_BUILD_DIR});
  auto lib = loader.Load("storage-mem", SB_KIND_STORAGE);
  EXPECT_TRUE(lib.ok()) << lib.status().ToString();
  return lib.ok() ? lib.value() : nullptr;
}

TEST(PluginRoundTripTest, PluginErrorPointsAtTheKeyItNames) {
  StatusOr<NodeConfig> c = ParseConfig(
      "[node]\n"
      "id = \"n1\"\n"
      "data_dir = \"/tmp/n1\"\n"
      "seeds = [\"127.0.0.1:7401\"]\n"
      "[storage]\n"
      "plugin = \"storage-mem\"\n"
      "  sync_wal = true\n",
      "node.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::shared_ptr<PluginLibrary> lib = LoadStorageMem();
  ASSERT_NE(lib, nullptr);

  PluginConfigAbi abi = c->storage.ToAbi();
  Status st = Storage::CheckConfig(lib, *abi.get());
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  Status annotated = c->storage.AnnotatePluginError(st);
  EXPECT_TRUE(annotated.IsInvalidArgument());
  EXPECT_THAT(annotated.message(),
              StartsWith("node.toml:7:3: [storage] plugin 'storage-mem': "))
      << annotated.message();
  EXPECT_NE(annotated.message().find("sync_wal"), std::string::npos);
}

TEST(PluginRoundTripTest, EmptySectionIsAccepted) {
  StatusOr<NodeConfig> c = ParseConfig(
      "[node]\nid = \"n1\"\ndata_dir = \"/tmp/n1\"\nsingle_node = true\n"
      "[storage]\nplugin = \"storage-mem\"\n",
      "node.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::shared_ptr<PluginLibrary> lib = LoadStorageMem();
  ASSERT_NE(lib, nullptr);
  PluginConfigAbi abi = c->storage.ToAbi();
  Status st = Storage::CheckConfig(lib, *abi.get());
  EXPECT_TRUE(st.ok()) << st.ToString();
}

}  // namespace
}  // namespace sb
