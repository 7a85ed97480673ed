// host/config/config.h — the configuration of one Shardbearer node.
//
// A node (radiant) reads one TOML file. This header is its schema: each
// table of the file is a struct below whose members carry the defaults; the
// loader (config.cc, sections.cc) only fills in what the file sets, then checks
// every value and the rules that tie values together. docs/config.md is the
// operator's reference for the same schema.
//
// Errors: every problem in the text is Status::InvalidArgument with a message
// "FILE:LINE:COLUMN: what is wrong; what is expected" — TOML syntax errors,
// unknown tables and keys (with a "did you mean" for near misses), wrong
// types, out-of-range numbers, bad addresses, missing required keys (at the
// position of their table, or FILE:1:1), and broken cross-key rules. Only
// LoadConfigFile's failure to read the file is Status::IOError.
//
// Thread safety: the functions are pure (no shared state) and may run
// concurrently; NodeConfig is a value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/status.h"
#include "host/config/address.h"
#include "host/config/plugin_section.h"

namespace sb {

// [node]: who this node is and where it listens.
struct NodeOptions {
  // Required. Unique in the cluster, 1..64 of [A-Za-z0-9_.-].
  std::string id;
  // Required. Directory for everything the node stores. A relative path is
  // relative to the daemon's working directory.
  std::string data_dir;
  // Where peers (other radiants) connect, and where clients connect.
  HostPort listen_peer{"127.0.0.1", 7400};
  HostPort listen_client{"127.0.0.1", 7500};
  // The addresses other nodes and clients are told to use. Default: the
  // listen address; never a wildcard (0.0.0.0, ::).
  HostPort advertise_peer;    // filled from listen_peer when not set
  HostPort advertise_client;  // filled from listen_client when not set
  // Peer addresses of other nodes to contact at start (the association
  // graph's edges leaving this node). At least one unless single_node or
  // a [layout] names every radiant; never this node itself; no duplicates.
  std::vector<HostPort> seeds;
  // Where each seed is written (parallel to `seeds`), for messages of
  // checks made after loading (see local_addresses.h).
  std::vector<SourcePosition> seed_positions;
  // A cluster of exactly this node: no seeds, replication_factor = 1,
  // bootstrap_expect = 1.
  bool single_node = false;
  // Mutual TLS on the client port (Kv and Admin): this node's certificate
  // and key, and the CA that signs client certificates. All three or none;
  // the files are read when the API server starts.
  std::string client_tls_cert_file;
  std::string client_tls_key_file;
  std::string client_tls_ca_file;
};

// [cluster]: cluster-wide parameters. Every node of a cluster must use the
// same values.
struct ClusterOptions {
  uint32_t shards = 64;                 // hash partitions, 1..65536
  uint32_t replication_factor = 3;      // radiants per order, 1..7
  uint32_t council_size = 3;            // council voters, odd, 1..7
  uint32_t bootstrap_expect = 3;        // nodes that form the first cluster
  uint32_t tick_ms = 100;               // consensus tick
  uint32_t failure_timeout_ms = 10000;  // silence before replacement
  uint32_t poll_interval_ms = 1000;     // controller polls heralds
  uint32_t request_timeout_ms = 5000;   // client request deadline
  // Client sessions (write deduplication): idle this long, a session
  // expires; a shard keeps at most max_sessions_per_shard (least recently
  // seen evicted). See docs/orders.md.
  uint32_t session_expiry_ms = 600000;  // 10 minutes
  uint32_t max_sessions_per_shard = 100000;
};

// [limits]: sizes accepted from clients and peers.
struct LimitsOptions {
  // Bytes a frame needs beyond one maximal key and value (headers, client
  // session, consensus envelope). max_frame_bytes must leave this room.
  static constexpr uint64_t kFrameOverheadBytes = 64 * 1024;

  uint32_t max_key_bytes = 4096;
  uint32_t max_value_bytes = 1 << 20;   // 1 MiB
  uint32_t max_frame_bytes = 16 << 20;  // 16 MiB
  uint32_t max_batch_ops = 1024;
};

// One radiant of a static [layout]: its node id, the order it belongs to and
// its advertised addresses.
struct LayoutRadiant {
  std::string id;  // [node] id of that radiant
  uint64_t order = 0;
  HostPort peer;
  HostPort client;
  SourcePosition position;  // where the entry is written
};

// [layout]: a static layout, naming every radiant of the cluster and the
// order it belongs to. Shards are split across the orders in ranges
// (docs/orders.md); every node of the cluster must carry the same layout.
// Empty: no static layout (single_node, or a node waiting for a cluster).
struct LayoutOptions {
  std::vector<LayoutRadiant> radiants;
  SourcePosition position;  // of the [layout] table
};

// [compaction]: when the consensus log is compacted into a snapshot
// (whichever threshold is reached first).
struct CompactionOptions {
  uint64_t log_entries = 100000;
  uint64_t log_bytes = 64ull << 20;  // 64 MiB
};

// The pattern used when [logging] pattern is not set: ISO time with
// milliseconds, level, logger name (the host or the plugin), message.
inline constexpr char kDefaultLogPattern[] =
    "%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v";

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical };
enum class LogSink { kStderr, kFile };

// "trace", "debug", ... and back. ParseLogLevel: nullopt if unknown.
const char* LogLevelName(LogLevel level);
std::optional<LogLevel> ParseLogLevel(std::string_view name);

// [logging]
struct LoggingOptions {
  LogLevel level = LogLevel::kInfo;
  LogSink sink = LogSink::kStderr;
  // Required with sink = file (forbidden otherwise). Relative paths are
  // relative to the daemon's working directory.
  std::string file;
  // With sink = file: rotate when the file reaches rotate_bytes (0: never
  // rotate, one growing file), keeping rotate_files old files.
  uint64_t rotate_bytes = 0;
  uint32_t rotate_files = 5;
  // spdlog pattern (see kDefaultLogPattern).
  std::string pattern = kDefaultLogPattern;
};

// [plugins]
struct PluginsOptions {
  // Extra directories searched for plugins by name, before the defaults.
  std::vector<std::string> dirs;
};

// [metrics]: the Prometheus text-format endpoint (host/metrics/). Absent
// table or absent `listen`: no endpoint.
struct MetricsOptions {
  std::optional<HostPort> listen;  // e.g. 127.0.0.1:9500
  SourcePosition listen_position;  // of `listen`, for cross-table errors
};

// Default plugin of each plugin section.
inline constexpr char kDefaultStoragePlugin[] = "storage-rocksdb";
inline constexpr char kDefaultConsensusPlugin[] = "raft";
inline constexpr char kDefaultTransportPlugin[] = "transport-thrift";

struct NodeConfig {
  std::string source;  // file name (or the source name given to ParseConfig)
  NodeOptions node;
  ClusterOptions cluster;
  LimitsOptions limits;
  CompactionOptions compaction;
  LayoutOptions layout;
  LoggingOptions logging;
  PluginsOptions plugins;
  MetricsOptions metrics;
  PluginSection storage;    // plugin defaults to kDefaultStoragePlugin
  PluginSection consensus;  // plugin defaults to kDefaultConsensusPlugin
  PluginSection transport;  // plugin defaults to kDefaultTransportPlugin
  std::optional<PluginSection> classifier;  // absent: no classifier
};

// Parses `text`; `source_name` is the FILE in error messages and
// NodeConfig::source.
StatusOr<NodeConfig> ParseConfig(std::string_view text,
                                 const std::string& source_name);

// Reads and parses the file at `path` (at most 4 MiB).
StatusOr<NodeConfig> LoadConfigFile(const std::string& path);

// The effective configuration, defaults filled in, as a TOML document that
// ParseConfig accepts and that yields the same values (plugin array
// elements are written as strings: the joined text is what plugins see).
// For `shardbearerd --check-config` and the start-up log.
std::string FormatConfig(const NodeConfig& config);

}  // namespace sb
