// The ABI layout guard. Every struct crossing the plugin boundary is listed
// below with each member; the test renders "struct.member offset size" lines
// and compares them with the golden file of the current ABI version.
//
// Changing an ABI struct therefore fails this test until you:
//   - append members only: bump SB_ABI_MINOR, then write the new golden file
//       build/tests/unit/abi/abi_layout_test --dump > abi/layout/1.<minor>.txt
//     (older minors of the same major are checked to be a prefix);
//   - anything else (remove, reorder, retype): bump SB_ABI_MAJOR and write
//     abi/layout/<major>.0.txt.
// When you add a struct or a kind header, add it to kLayout.
#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "shardbearer/abi/common.h"
#include "shardbearer/abi/storage.h"

namespace {

struct Line {
  std::string text;
};

#define SB_STRUCT(T)                                                     \
  Line {                                                                 \
    std::string(#T) + " size " + std::to_string(sizeof(T)) + " align " + \
        std::to_string(alignof(T))                                       \
  }
#define SB_MEMBER(T, m)                                                   \
  Line {                                                                  \
    std::string(#T) + "." #m " " + std::to_string(offsetof(T, m)) + " " + \
        std::to_string(sizeof(((T*)nullptr)->m))                          \
  }

std::vector<Line> Layout() {
  return {
      // common.h
      SB_STRUCT(sb_status),
      SB_MEMBER(sb_status, code),
      SB_MEMBER(sb_status, message),
      SB_STRUCT(sb_bytes),
      SB_MEMBER(sb_bytes, data),
      SB_MEMBER(sb_bytes, len),
      SB_STRUCT(sb_config_entry),
      SB_MEMBER(sb_config_entry, struct_size),
      SB_MEMBER(sb_config_entry, type),
      SB_MEMBER(sb_config_entry, key),
      SB_MEMBER(sb_config_entry, value),
      SB_STRUCT(sb_config),
      SB_MEMBER(sb_config, struct_size),
      SB_MEMBER(sb_config, entries),
      SB_MEMBER(sb_config, count),
      SB_STRUCT(sb_host_services),
      SB_MEMBER(sb_host_services, struct_size),
      SB_MEMBER(sb_host_services, host_ctx),
      SB_MEMBER(sb_host_services, log),
      SB_MEMBER(sb_host_services, log_enabled),
      SB_MEMBER(sb_host_services, monotonic_ns),
      SB_MEMBER(sb_host_services, wall_ns),
      SB_STRUCT(sb_plugin_info),
      SB_MEMBER(sb_plugin_info, struct_size),
      SB_MEMBER(sb_plugin_info, magic),
      SB_MEMBER(sb_plugin_info, abi_major),
      SB_MEMBER(sb_plugin_info, abi_minor),
      SB_MEMBER(sb_plugin_info, kind),
      SB_MEMBER(sb_plugin_info, name),
      SB_MEMBER(sb_plugin_info, version),
      SB_MEMBER(sb_plugin_info, description),
      SB_MEMBER(sb_plugin_info, vtable),
      // storage.h
      SB_STRUCT(sb_storage_iter_options),
      SB_MEMBER(sb_storage_iter_options, struct_size),
      SB_MEMBER(sb_storage_iter_options, snapshot),
      SB_MEMBER(sb_storage_iter_options, lower_bound),
      SB_MEMBER(sb_storage_iter_options, upper_bound),
      SB_STRUCT(sb_storage_vtable),
      SB_MEMBER(sb_storage_vtable, struct_size),
      SB_MEMBER(sb_storage_vtable, flags),
      SB_MEMBER(sb_storage_vtable, check_config),
      SB_MEMBER(sb_storage_vtable, open),
      SB_MEMBER(sb_storage_vtable, close),
      SB_MEMBER(sb_storage_vtable, keyspace),
      SB_MEMBER(sb_storage_vtable, list_keyspaces),
      SB_MEMBER(sb_storage_vtable, get),
      SB_MEMBER(sb_storage_vtable, put),
      SB_MEMBER(sb_storage_vtable, del),
      SB_MEMBER(sb_storage_vtable, batch_new),
      SB_MEMBER(sb_storage_vtable, batch_free),
      SB_MEMBER(sb_storage_vtable, batch_clear),
      SB_MEMBER(sb_storage_vtable, batch_put),
      SB_MEMBER(sb_storage_vtable, batch_delete),
      SB_MEMBER(sb_storage_vtable, batch_delete_range),
      SB_MEMBER(sb_storage_vtable, batch_count),
      SB_MEMBER(sb_storage_vtable, batch_bytes),
      SB_MEMBER(sb_storage_vtable, write),
      SB_MEMBER(sb_storage_vtable, snapshot_new),
      SB_MEMBER(sb_storage_vtable, snapshot_release),
      SB_MEMBER(sb_storage_vtable, iter_new),
      SB_MEMBER(sb_storage_vtable, iter_free),
      SB_MEMBER(sb_storage_vtable, iter_seek_first),
      SB_MEMBER(sb_storage_vtable, iter_seek_last),
      SB_MEMBER(sb_storage_vtable, iter_seek),
      SB_MEMBER(sb_storage_vtable, iter_seek_for_prev),
      SB_MEMBER(sb_storage_vtable, iter_valid),
      SB_MEMBER(sb_storage_vtable, iter_next),
      SB_MEMBER(sb_storage_vtable, iter_prev),
      SB_MEMBER(sb_storage_vtable, iter_key),
      SB_MEMBER(sb_storage_vtable, iter_value),
      SB_MEMBER(sb_storage_vtable, iter_status),
      SB_MEMBER(sb_storage_vtable, checkpoint),
      SB_MEMBER(sb_storage_vtable, approximate_size),
      SB_MEMBER(sb_storage_vtable, sync),
  };
}

std::string VersionName(int major, int minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Current layout as the golden file's text.
std::string Render() {
  std::ostringstream out;
  out << "# Shardbearer plugin ABI layout, version "
      << VersionName(SB_ABI_MAJOR, SB_ABI_MINOR)
      << " (x86-64 LP64). Generated by abi_layout_test --dump.\n";
  for (const auto& l : Layout()) out << l.text << "\n";
  return out.str();
}

std::vector<std::string> Members(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.find(" size ") != std::string::npos) continue;  // struct sizes
    out.push_back(line);
  }
  return out;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AbiLayoutTest, MatchesGoldenFileOfCurrentVersion) {
  const auto path = std::filesystem::path(ABI_LAYOUT_DIR) /
                    (VersionName(SB_ABI_MAJOR, SB_ABI_MINOR) + ".txt");
  ASSERT_TRUE(std::filesystem::exists(path))
      << "no golden layout for ABI " << VersionName(SB_ABI_MAJOR, SB_ABI_MINOR)
      << ": write it with `abi_layout_test --dump > " << path.string() << "`";
  const std::string golden = ReadFile(path);
  EXPECT_EQ(golden, Render())
      << "The ABI layout changed but SB_ABI_MAJOR/MINOR did not. Appending "
         "members: bump SB_ABI_MINOR; anything else: bump SB_ABI_MAJOR. Then "
         "regenerate the golden file (see the top of abi_layout_test.cc).";
}

TEST(AbiLayoutTest, OlderMinorsAreAPrefix) {
  const std::string current = Render();
  const auto now = Members(current);
  const std::set<std::string> now_set(now.begin(), now.end());
  int checked = 0;
  for (int minor = 0; minor < SB_ABI_MINOR; ++minor) {
    const auto path = std::filesystem::path(ABI_LAYOUT_DIR) /
                      (VersionName(SB_ABI_MAJOR, minor) + ".txt");
    ASSERT_TRUE(std::filesystem::exists(path))
        << "missing golden layout of an older minor: " << path.string();
    for (const auto& member : Members(ReadFile(path))) {
      EXPECT_TRUE(now_set.count(member))
          << "ABI " << VersionName(SB_ABI_MAJOR, minor) << " member '" << member
          << "' moved, changed size or vanished in "
          << VersionName(SB_ABI_MAJOR, SB_ABI_MINOR)
          << ": only appending is allowed within a major";
      ++checked;
    }
  }
  if (SB_ABI_MINOR == 0) {
    EXPECT_EQ(checked, 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--dump") {
    std::cout << Render();
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
