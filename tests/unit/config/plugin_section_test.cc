// Plugin sections: the sb_config handed to plugins, and plugin errors
// annotated with the file position of the key they name.
#include "host/config/plugin_section.h"

#include <gtest/gtest.h>

#include <cstring>

#include "host/config/config.h"

namespace sb {
namespace {

PluginSection StorageSection() {
  StatusOr<NodeConfig> c = ParseConfig(R"([node]
id = "n1"
data_dir = "/tmp/n1"
seeds = ["127.0.0.1:7401"]

[storage]
plugin = "storage-rocksdb"
sync = true
write_buffer_mb = 64
[storage.tls]
ca_file = "/etc/ca.pem"
ca = "short"
)",
                                       "node.toml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? c->storage : PluginSection{};
}

TEST(PluginSectionTest, ToAbiCarriesEveryEntry) {
  PluginSection s = StorageSection();
  PluginConfigAbi abi = s.ToAbi();
  const sb_config* cfg = abi.get();
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->struct_size, sizeof(sb_config));
  ASSERT_EQ(cfg->count, 4u);
  EXPECT_STREQ(cfg->entries[0].key, "sync");
  EXPECT_STREQ(cfg->entries[0].value, "true");
  EXPECT_EQ(cfg->entries[0].type, uint32_t{SB_CONFIG_BOOL});
  EXPECT_EQ(cfg->entries[0].struct_size, sizeof(sb_config_entry));
  EXPECT_STREQ(cfg->entries[1].key, "write_buffer_mb");
  EXPECT_EQ(cfg->entries[1].type, uint32_t{SB_CONFIG_INTEGER});
  EXPECT_STREQ(cfg->entries[2].key, "tls.ca_file");
  EXPECT_STREQ(cfg->entries[2].value, "/etc/ca.pem");
  EXPECT_STREQ(cfg->entries[3].key, "tls.ca");
}

TEST(PluginSectionTest, AbiPointersOutliveTheSectionAndSurviveMoves) {
  PluginConfigAbi moved;
  {
    PluginSection s = StorageSection();
    PluginConfigAbi abi = s.ToAbi();
    const char* key0 = abi.get()->entries[0].key;
    moved = std::move(abi);
    EXPECT_EQ(moved.get()->entries[0].key, key0);
  }  // the section is gone; the holder owns copies
  ASSERT_EQ(moved.get()->count, 4u);
  EXPECT_STREQ(moved.get()->entries[3].value, "short");
}

TEST(PluginSectionTest, EmptySectionGivesAnEmptyConfig) {
  PluginSection s;
  PluginConfigAbi abi = s.ToAbi();
  EXPECT_EQ(abi.get()->count, 0u);
  PluginConfigAbi none;
  EXPECT_EQ(none.get()->count, 0u);
  EXPECT_EQ(none.get()->struct_size, sizeof(sb_config));
}

TEST(PluginSectionTest, EntriesWrittenByHandBuildTheSameConfig) {
  // {key, value} is a string; {key, value, type} says the type.
  const std::vector<PluginConfigEntry> entries = {
      {"name", "x"},
      {"sync", "true", SB_CONFIG_BOOL},
      {"ports", "1,2", SB_CONFIG_ARRAY, {"node.toml", 7, 3}}};
  EXPECT_EQ(entries[0].type, uint32_t{SB_CONFIG_STRING});
  EXPECT_EQ(entries[0].position.ToString(), ":1:1");
  EXPECT_EQ(entries[2].position.ToString(), "node.toml:7:3");
  PluginConfigAbi abi(entries);
  const sb_config* cfg = abi.get();
  ASSERT_EQ(cfg->count, 3u);
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(cfg->entries[i].struct_size, sizeof(sb_config_entry));
    EXPECT_EQ(cfg->entries[i].key, entries[i].key);
    EXPECT_EQ(cfg->entries[i].value, entries[i].value);
    EXPECT_EQ(cfg->entries[i].type, entries[i].type);
  }
  PluginConfigEntry defaulted;
  EXPECT_EQ(defaulted.type, uint32_t{SB_CONFIG_STRING});
  EXPECT_TRUE(defaulted.key.empty());
}

TEST(PluginSectionTest, LocateFindsTheKeyAPluginNames) {
  PluginSection s = StorageSection();
  auto pos = s.Locate("unknown key 'sync'");
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->ToString(), "node.toml:8:1");
  // The longest quoted key wins: "tls.ca_file" over "tls.ca".
  pos = s.Locate("cannot open \"tls.ca_file\": no such file");
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->ToString(), "node.toml:11:1");
  pos = s.Locate("bad tls.ca: too short");
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->ToString(), "node.toml:12:1");
  // A key inside a longer word does not count.
  EXPECT_FALSE(s.Locate("async writes are off").has_value());
  EXPECT_FALSE(s.Locate("nothing to see").has_value());
  // A sentence-ending period is not part of a key.
  pos = s.Locate("write_buffer_mb must be a power of two.");
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->ToString(), "node.toml:9:1");
}

TEST(PluginSectionTest, AnnotatePluginErrorPrefixesThePosition) {
  PluginSection s = StorageSection();
  Status st = s.AnnotatePluginError(
      Status::InvalidArgument("unknown key 'write_buffer_mb'"));
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_EQ(st.message(),
            "node.toml:9:1: [storage] plugin 'storage-rocksdb': unknown key "
            "'write_buffer_mb'");
  // A message naming no key of the section points at the table.
  st = s.AnnotatePluginError(
      Status::InvalidArgument("missing required key 'path'"));
  EXPECT_EQ(st.message(),
            "node.toml:6:1: [storage] plugin 'storage-rocksdb': missing "
            "required key 'path'");
  // The code is kept; OK stays OK.
  EXPECT_EQ(s.AnnotatePluginError(Status::IOError("sync failed")).code(),
            Code::kIOError);
  EXPECT_TRUE(s.AnnotatePluginError(Status::OK()).ok());
}

TEST(PluginSectionTest, AnnotateAnAbsentSectionUsesTheFileStart) {
  StatusOr<NodeConfig> c = ParseConfig(
      "[node]\nid = \"n\"\ndata_dir = \"/d\"\nsingle_node = true\n", "x.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Status st = c->consensus.AnnotatePluginError(Status::InvalidArgument("bad"));
  EXPECT_EQ(st.message(), "x.toml:1:1: [consensus] plugin 'raft': bad");
}

}  // namespace
}  // namespace sb
