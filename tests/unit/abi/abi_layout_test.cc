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

#include "shardbearer/abi/classifier.h"
#include "shardbearer/abi/common.h"
#include "shardbearer/abi/consensus.h"
#include "shardbearer/abi/storage.h"
#include "shardbearer/abi/transport.h"

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
      // consensus.h
      SB_STRUCT(sb_consensus_entry),
      SB_MEMBER(sb_consensus_entry, struct_size),
      SB_MEMBER(sb_consensus_entry, type),
      SB_MEMBER(sb_consensus_entry, index),
      SB_MEMBER(sb_consensus_entry, meta),
      SB_MEMBER(sb_consensus_entry, data),
      SB_STRUCT(sb_consensus_message),
      SB_MEMBER(sb_consensus_message, struct_size),
      SB_MEMBER(sb_consensus_message, to),
      SB_MEMBER(sb_consensus_message, data),
      SB_STRUCT(sb_consensus_snapshot_chunk),
      SB_MEMBER(sb_consensus_snapshot_chunk, struct_size),
      SB_MEMBER(sb_consensus_snapshot_chunk, done),
      SB_MEMBER(sb_consensus_snapshot_chunk, index),
      SB_MEMBER(sb_consensus_snapshot_chunk, offset),
      SB_MEMBER(sb_consensus_snapshot_chunk, meta),
      SB_MEMBER(sb_consensus_snapshot_chunk, data),
      SB_STRUCT(sb_consensus_read_state),
      SB_MEMBER(sb_consensus_read_state, struct_size),
      SB_MEMBER(sb_consensus_read_state, index),
      SB_MEMBER(sb_consensus_read_state, context),
      SB_STRUCT(sb_consensus_ready),
      SB_MEMBER(sb_consensus_ready, struct_size),
      SB_MEMBER(sb_consensus_ready, hard_state),
      SB_MEMBER(sb_consensus_ready, entries),
      SB_MEMBER(sb_consensus_ready, entries_count),
      SB_MEMBER(sb_consensus_ready, must_sync),
      SB_MEMBER(sb_consensus_ready, snapshot),
      SB_MEMBER(sb_consensus_ready, messages),
      SB_MEMBER(sb_consensus_ready, messages_count),
      SB_MEMBER(sb_consensus_ready, committed),
      SB_MEMBER(sb_consensus_ready, committed_count),
      SB_MEMBER(sb_consensus_ready, reads),
      SB_MEMBER(sb_consensus_ready, reads_count),
      SB_MEMBER(sb_consensus_ready, early_messages),
      SB_MEMBER(sb_consensus_ready, early_messages_count),
      SB_STRUCT(sb_consensus_log_reader),
      SB_MEMBER(sb_consensus_log_reader, struct_size),
      SB_MEMBER(sb_consensus_log_reader, ctx),
      SB_MEMBER(sb_consensus_log_reader, range),
      SB_MEMBER(sb_consensus_log_reader, entries),
      SB_MEMBER(sb_consensus_log_reader, snapshot_meta),
      SB_MEMBER(sb_consensus_log_reader, snapshot_read),
      SB_STRUCT(sb_consensus_options),
      SB_MEMBER(sb_consensus_options, struct_size),
      SB_MEMBER(sb_consensus_options, group_id),
      SB_MEMBER(sb_consensus_options, node_id),
      SB_MEMBER(sb_consensus_options, seed),
      SB_MEMBER(sb_consensus_options, config),
      SB_MEMBER(sb_consensus_options, log),
      SB_MEMBER(sb_consensus_options, hard_state),
      SB_MEMBER(sb_consensus_options, applied),
      SB_MEMBER(sb_consensus_options, bootstrap_voters),
      SB_MEMBER(sb_consensus_options, bootstrap_voters_count),
      SB_STRUCT(sb_consensus_status),
      SB_MEMBER(sb_consensus_status, struct_size),
      SB_MEMBER(sb_consensus_status, role),
      SB_MEMBER(sb_consensus_status, term),
      SB_MEMBER(sb_consensus_status, leader),
      SB_MEMBER(sb_consensus_status, commit),
      SB_MEMBER(sb_consensus_status, applied),
      SB_MEMBER(sb_consensus_status, last_index),
      SB_MEMBER(sb_consensus_status, first_index),
      SB_MEMBER(sb_consensus_status, voters),
      SB_MEMBER(sb_consensus_status, learners),
      SB_STRUCT(sb_consensus_vtable),
      SB_MEMBER(sb_consensus_vtable, struct_size),
      SB_MEMBER(sb_consensus_vtable, check_config),
      SB_MEMBER(sb_consensus_vtable, create),
      SB_MEMBER(sb_consensus_vtable, destroy),
      SB_MEMBER(sb_consensus_vtable, tick),
      SB_MEMBER(sb_consensus_vtable, step),
      SB_MEMBER(sb_consensus_vtable, propose),
      SB_MEMBER(sb_consensus_vtable, read_index),
      SB_MEMBER(sb_consensus_vtable, change_membership),
      SB_MEMBER(sb_consensus_vtable, transfer_leadership),
      SB_MEMBER(sb_consensus_vtable, compact),
      SB_MEMBER(sb_consensus_vtable, status),
      SB_MEMBER(sb_consensus_vtable, members),
      SB_MEMBER(sb_consensus_vtable, has_ready),
      SB_MEMBER(sb_consensus_vtable, ready),
      SB_MEMBER(sb_consensus_vtable, advance),
      // transport.h
      SB_STRUCT(sb_transport_create_args),
      SB_MEMBER(sb_transport_create_args, struct_size),
      SB_MEMBER(sb_transport_create_args, host),
      SB_MEMBER(sb_transport_create_args, config),
      SB_MEMBER(sb_transport_create_args, local_node_id),
      SB_MEMBER(sb_transport_create_args, cluster_id),
      SB_MEMBER(sb_transport_create_args, listen_address),
      SB_MEMBER(sb_transport_create_args, deliver),
      SB_MEMBER(sb_transport_create_args, deliver_ctx),
      SB_STRUCT(sb_transport_stats),
      SB_MEMBER(sb_transport_stats, struct_size),
      SB_MEMBER(sb_transport_stats, messages_sent),
      SB_MEMBER(sb_transport_stats, bytes_sent),
      SB_MEMBER(sb_transport_stats, messages_received),
      SB_MEMBER(sb_transport_stats, bytes_received),
      SB_MEMBER(sb_transport_stats, send_busy),
      SB_MEMBER(sb_transport_stats, messages_dropped),
      SB_MEMBER(sb_transport_stats, envelopes_sent),
      SB_MEMBER(sb_transport_stats, connects),
      SB_MEMBER(sb_transport_stats, connect_failures),
      SB_MEMBER(sb_transport_stats, inbound_accepted),
      SB_MEMBER(sb_transport_stats, inbound_refused),
      SB_MEMBER(sb_transport_stats, inbound_open),
      SB_MEMBER(sb_transport_stats, outbound_open),
      SB_STRUCT(sb_transport_vtable),
      SB_MEMBER(sb_transport_vtable, struct_size),
      SB_MEMBER(sb_transport_vtable, check_config),
      SB_MEMBER(sb_transport_vtable, create),
      SB_MEMBER(sb_transport_vtable, listen),
      SB_MEMBER(sb_transport_vtable, local_address),
      SB_MEMBER(sb_transport_vtable, add_peer),
      SB_MEMBER(sb_transport_vtable, update_peer),
      SB_MEMBER(sb_transport_vtable, remove_peer),
      SB_MEMBER(sb_transport_vtable, send),
      SB_MEMBER(sb_transport_vtable, stats),
      SB_MEMBER(sb_transport_vtable, shutdown),
      SB_MEMBER(sb_transport_vtable, destroy),
      // classifier.h
      SB_STRUCT(sb_classifier_counters),
      SB_MEMBER(sb_classifier_counters, struct_size),
      SB_MEMBER(sb_classifier_counters, reserved0),
      SB_MEMBER(sb_classifier_counters, allowed),
      SB_MEMBER(sb_classifier_counters, dropped),
      SB_MEMBER(sb_classifier_counters, join_admitted),
      SB_MEMBER(sb_classifier_counters, join_limited),
      SB_MEMBER(sb_classifier_counters, malformed),
      SB_MEMBER(sb_classifier_counters, passed),
      SB_MEMBER(sb_classifier_counters, egress_peer_marked),
      SB_MEMBER(sb_classifier_counters, egress_client_marked),
      SB_STRUCT(sb_classifier_vtable),
      SB_MEMBER(sb_classifier_vtable, struct_size),
      SB_MEMBER(sb_classifier_vtable, check_config),
      SB_MEMBER(sb_classifier_vtable, create),
      SB_MEMBER(sb_classifier_vtable, destroy),
      SB_MEMBER(sb_classifier_vtable, attach),
      SB_MEMBER(sb_classifier_vtable, detach),
      SB_MEMBER(sb_classifier_vtable, set_ports),
      SB_MEMBER(sb_classifier_vtable, set_join_port),
      SB_MEMBER(sb_classifier_vtable, set_join_rate),
      SB_MEMBER(sb_classifier_vtable, allow_cidr),
      SB_MEMBER(sb_classifier_vtable, deny_cidr),
      SB_MEMBER(sb_classifier_vtable, remove_cidr),
      SB_MEMBER(sb_classifier_vtable, set_egress_priorities),
      SB_MEMBER(sb_classifier_vtable, read_counters),
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
