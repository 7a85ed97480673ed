// One parse function per table of the schema (config.h), each with its
// list of host-owned keys. Adding a key: add it to the table's struct in
// config.h and to the list below, read and check it in the table's function,
// and document it in docs/config.md and config/shardbearer.toml.
#include "host/config/sections.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <tuple>

namespace sb::config_internal {
namespace {

const std::vector<std::string_view> kNodeKeys = {"id",
                                                 "data_dir",
                                                 "listen_peer",
                                                 "listen_client",
                                                 "advertise_peer",
                                                 "advertise_client",
                                                 "seeds",
                                                 "single_node",
                                                 "client_tls_cert_file",
                                                 "client_tls_key_file",
                                                 "client_tls_ca_file"};
const std::vector<std::string_view> kClusterKeys = {"shards",
                                                    "replication_factor",
                                                    "council_size",
                                                    "bootstrap_expect",
                                                    "tick_ms",
                                                    "failure_timeout_ms",
                                                    "poll_interval_ms",
                                                    "request_timeout_ms",
                                                    "session_expiry_ms",
                                                    "max_sessions_per_shard"};
const std::vector<std::string_view> kLimitsKeys = {
    "max_key_bytes", "max_value_bytes", "max_frame_bytes", "max_batch_ops"};
const std::vector<std::string_view> kCompactionKeys = {"log_entries",
                                                       "log_bytes"};
const std::vector<std::string_view> kLayoutKeys = {"radiants"};
const std::vector<std::string_view> kLayoutRadiantKeys = {"id", "order", "peer",
                                                          "client"};
const std::vector<std::string_view> kLoggingKeys = {
    "level", "sink", "file", "rotate_bytes", "rotate_files", "pattern"};
const std::vector<std::string_view> kPluginsKeys = {"dirs"};
const std::vector<std::string_view> kMetricsKeys = {"listen"};
// Plugin sections: only these keys are the host's; the rest is the plugin's.
const std::vector<std::string_view> kPluginHostKeys = {"plugin"};
const std::vector<std::string_view> kClassifierHostKeys = {"plugin", "required",
                                                           "join_port"};

constexpr int64_t kMiB = 1 << 20;
constexpr int64_t kDayMs = 24 * 3600 * 1000;
// The failure timeout must span this many ticks: elections and heartbeats
// are counted in ticks, so a shorter timeout would replace healthy nodes.
constexpr int64_t kMinFailureTimeoutTicks = 10;

// For an unknown key of table `table`: "it belongs in [other]" if another
// host table owns a key of that name.
std::function<std::string(std::string_view)> Elsewhere(std::string_view table) {
  return [table](std::string_view key) { return OwnerOfKey(key, table); };
}

}  // namespace

const std::vector<TableSpec>& SchemaTables() {
  static const std::vector<TableSpec> tables = {
      {"node", &kNodeKeys, false},
      {"cluster", &kClusterKeys, false},
      {"limits", &kLimitsKeys, false},
      {"compaction", &kCompactionKeys, false},
      {"layout", &kLayoutKeys, false},
      {"logging", &kLoggingKeys, false},
      {"plugins", &kPluginsKeys, false},
      {"metrics", &kMetricsKeys, false},
      {"storage", &kPluginHostKeys, true},
      {"consensus", &kPluginHostKeys, true},
      {"transport", &kPluginHostKeys, true},
      {"classifier", &kClassifierHostKeys, true},
  };
  return tables;
}

std::string OwnerOfKey(std::string_view key, std::string_view except_table) {
  for (const TableSpec& t : SchemaTables()) {
    if (t.name == except_table || t.plugin_section) continue;
    if (std::find(t.keys->begin(), t.keys->end(), key) != t.keys->end()) {
      return "it belongs in [" + std::string(t.name) + "]";
    }
  }
  return "";
}

// ---- [node] ---------------------------------------------------------------

namespace {

bool IsValidNodeId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '.' || c == '-';
  });
}

// The association-graph invariants for this node's outgoing edges: no
// self-loop, no duplicate edge, at least one edge unless the node is a
// cluster of its own (then none).
Status CheckSeeds(const TableReader& r, const NodeOptions& o, bool has_layout,
                  const std::vector<SourcePosition>& seed_pos) {
  if (o.single_node) {
    if (!o.seeds.empty()) {
      return ErrorAt(seed_pos[0],
                     "node.seeds: must be empty with node.single_node = "
                     "true (a single node contacts no one)");
    }
    return Status::OK();
  }
  if (o.seeds.empty() && !has_layout) {
    SourcePosition pos =
        r.Has("seeds") ? r.ValuePosition("seeds") : r.position();
    return ErrorAt(pos,
                   "node.seeds: needs the peer address of at least one other "
                   "node (e.g. seeds = [\"10.0.0.2:7400\"]), or set "
                   "single_node = true to run a cluster of one, or name "
                   "every radiant in a [layout]");
  }
  const std::string self_listen = o.listen_peer.Normalized();
  const std::string self_adv = o.advertise_peer.Normalized();
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < o.seeds.size(); ++i) {
    const HostPort& s = o.seeds[i];
    if (s.IsWildcard()) {
      return ErrorAt(seed_pos[i], "node.seeds: '" + s.ToString() +
                                      "' is a wildcard address; expected the "
                                      "peer address of another node");
    }
    const std::string n = s.Normalized();
    // A node listening on every interface also answers on loopback.
    bool self = n == self_listen || n == self_adv ||
                (o.listen_peer.IsWildcard() && s.IsLoopback() &&
                 s.port == o.listen_peer.port);
    if (self) {
      return ErrorAt(seed_pos[i],
                     "node.seeds: '" + s.ToString() +
                         "' is this node's own peer address (listen_peer " +
                         o.listen_peer.ToString() + ", advertise_peer " +
                         o.advertise_peer.ToString() +
                         "); a seed must be another node");
    }
    auto [it, inserted] = seen.emplace(n, i);
    if (!inserted) {
      return ErrorAt(seed_pos[i], "node.seeds: '" + s.ToString() +
                                      "' is listed twice (also at " +
                                      seed_pos[it->second].ToString() + ")");
    }
  }
  return Status::OK();
}

}  // namespace

Status ParseNode(const TableReader& r, bool has_layout, NodeOptions* o) {
  SB_RETURN_IF_ERROR(r.CheckKeys(kNodeKeys, Elsewhere("node")));
  if (!r.present()) {
    return ErrorAt(r.position(),
                   "missing table [node]; every node needs at least "
                   "[node] id and data_dir");
  }
  SB_RETURN_IF_ERROR(r.Require("id",
                               "this node's unique name, e.g. "
                               "\"node1\""));
  SB_RETURN_IF_ERROR(r.Require("data_dir",
                               "the directory the node stores "
                               "its data in"));
  SB_RETURN_IF_ERROR(r.GetString("id", &o->id));
  if (!IsValidNodeId(o->id)) {
    return r.Error("id", "'" + o->id +
                             "' is not a valid node id; expected 1 to 64 of "
                             "A-Z a-z 0-9 _ . -");
  }
  SB_RETURN_IF_ERROR(r.GetString("data_dir", &o->data_dir));
  if (o->data_dir.empty()) {
    return r.Error("data_dir", "must not be empty; expected a directory path");
  }
  SB_RETURN_IF_ERROR(r.GetAddress("listen_peer", &o->listen_peer));
  SB_RETURN_IF_ERROR(r.GetAddress("listen_client", &o->listen_client));
  o->advertise_peer = o->listen_peer;
  o->advertise_client = o->listen_client;
  SB_RETURN_IF_ERROR(r.GetAddress("advertise_peer", &o->advertise_peer));
  SB_RETURN_IF_ERROR(r.GetAddress("advertise_client", &o->advertise_client));
  SB_RETURN_IF_ERROR(r.GetBool("single_node", &o->single_node));
  // Client-port TLS: all three files or none.
  const std::vector<std::pair<const char*, std::string*>> tls = {
      {"client_tls_cert_file", &o->client_tls_cert_file},
      {"client_tls_key_file", &o->client_tls_key_file},
      {"client_tls_ca_file", &o->client_tls_ca_file}};
  int tls_set = 0;
  for (const auto& [key, value] : tls) {
    SB_RETURN_IF_ERROR(r.GetString(key, value));
    if (r.Has(key) && value->empty()) {
      return r.Error(key, "must not be empty; expected a file path");
    }
    tls_set += r.Has(key) ? 1 : 0;
  }
  if (tls_set != 0 && tls_set != 3) {
    std::string missing, present;
    for (const auto& [key, value] : tls) {
      if (r.Has(key)) {
        if (present.empty()) present = key;
      } else {
        missing += missing.empty() ? key : std::string(", ") + key;
      }
    }
    return r.Error(present,
                   "client TLS needs client_tls_cert_file, client_tls_key_file "
                   "and client_tls_ca_file together; missing " +
                       missing);
  }

  // The two listeners cannot share a port on overlapping addresses.
  const HostPort& lp = o->listen_peer;
  const HostPort& lc = o->listen_client;
  if (lp.port == lc.port && (lp.IsWildcard() || lc.IsWildcard() ||
                             lp.Normalized() == lc.Normalized())) {
    return r.Error(r.Has("listen_client") ? "listen_client" : "listen_peer",
                   "listen_peer " + lp.ToString() + " and listen_client " +
                       lc.ToString() +
                       " would share a socket; expected two different ports");
  }
  // Advertised addresses are dialled by others: a wildcard reaches no one.
  for (auto [adv, listen, value] :
       {std::tuple{"advertise_peer", "listen_peer", &o->advertise_peer},
        std::tuple{"advertise_client", "listen_client",
                   &o->advertise_client}}) {
    if (!value->IsWildcard()) continue;
    if (r.Has(adv)) {
      return r.Error(adv, "'" + value->ToString() +
                              "' is a wildcard address; expected an address "
                              "other nodes and clients can reach");
    }
    return r.Error(listen, "'" + value->ToString() +
                               "' is a wildcard address, so node." + adv +
                               " must be set to an address other nodes and "
                               "clients can reach");
  }

  std::vector<std::string> seeds;
  std::vector<SourcePosition> seed_pos;
  SB_RETURN_IF_ERROR(r.GetStringArray("seeds", &seeds, &seed_pos));
  o->seeds.clear();
  for (size_t i = 0; i < seeds.size(); ++i) {
    StatusOr<HostPort> hp = HostPort::Parse(seeds[i]);
    if (!hp.ok()) {
      return ErrorAt(seed_pos[i], "node.seeds[" + std::to_string(i) +
                                      "]: " + hp.status().message());
    }
    o->seeds.push_back(std::move(hp.value()));
  }
  o->seed_positions = seed_pos;
  return CheckSeeds(r, *o, has_layout, seed_pos);
}

// ---- [cluster] ------------------------------------------------------------

Status ParseCluster(const TableReader& r, ClusterOptions* o) {
  SB_RETURN_IF_ERROR(r.CheckKeys(kClusterKeys, Elsewhere("cluster")));
  SB_RETURN_IF_ERROR(r.GetUnsigned("shards", 1, 65536, &o->shards));
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("replication_factor", 1, 7, &o->replication_factor));
  SB_RETURN_IF_ERROR(r.GetUnsigned("council_size", 1, 7, &o->council_size));
  if (o->council_size % 2 == 0) {
    // An even council tolerates no more failures than the odd size below it
    // and can split its vote evenly.
    return r.Error("council_size", std::to_string(o->council_size) +
                                       " is even; expected 1, 3, 5 or 7");
  }
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("bootstrap_expect", 1, 1024, &o->bootstrap_expect));
  SB_RETURN_IF_ERROR(r.GetUnsigned("tick_ms", 1, 60000, &o->tick_ms));
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("failure_timeout_ms", 1, kDayMs, &o->failure_timeout_ms));
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("poll_interval_ms", 1, 3600 * 1000, &o->poll_interval_ms));
  SB_RETURN_IF_ERROR(r.GetUnsigned("request_timeout_ms", 1, 3600 * 1000,
                                   &o->request_timeout_ms));
  SB_RETURN_IF_ERROR(r.GetUnsigned("session_expiry_ms", 1000, 7 * kDayMs,
                                   &o->session_expiry_ms));
  SB_RETURN_IF_ERROR(r.GetUnsigned("max_sessions_per_shard", 1, 10'000'000,
                                   &o->max_sessions_per_shard));

  const uint64_t tick = o->tick_ms;
  if (o->poll_interval_ms < tick) {
    return r.Error(
        "poll_interval_ms",
        std::to_string(o->poll_interval_ms) +
            " is shorter than one tick (tick_ms = " + std::to_string(tick) +
            "); expected at least " + std::to_string(tick));
  }
  if (o->request_timeout_ms < tick) {
    return r.Error(
        "request_timeout_ms",
        std::to_string(o->request_timeout_ms) +
            " is shorter than one tick (tick_ms = " + std::to_string(tick) +
            "); expected at least " + std::to_string(tick));
  }
  // A client retries a write for at most request_timeout_ms; its session
  // must outlive that, or a retry could apply twice.
  if (o->session_expiry_ms < 2 * uint64_t{o->request_timeout_ms}) {
    return r.Error("session_expiry_ms",
                   std::to_string(o->session_expiry_ms) +
                       " is shorter than twice request_timeout_ms (" +
                       std::to_string(o->request_timeout_ms) + ")");
  }
  const uint64_t min_failure = std::max<uint64_t>(
      kMinFailureTimeoutTicks * tick, 2 * uint64_t{o->poll_interval_ms});
  if (o->failure_timeout_ms < min_failure) {
    return r.Error("failure_timeout_ms",
                   std::to_string(o->failure_timeout_ms) +
                       " is too short; expected at least " +
                       std::to_string(min_failure) + " (" +
                       std::to_string(kMinFailureTimeoutTicks) +
                       " ticks of tick_ms = " + std::to_string(tick) +
                       ", and two polls of poll_interval_ms = " +
                       std::to_string(o->poll_interval_ms) + ")");
  }
  return Status::OK();
}

// ---- [limits], [compaction] -----------------------------------------------

Status ParseLimits(const TableReader& r, LimitsOptions* o) {
  SB_RETURN_IF_ERROR(r.CheckKeys(kLimitsKeys, Elsewhere("limits")));
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("max_key_bytes", 1, kMiB, &o->max_key_bytes));
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("max_value_bytes", 1, 256 * kMiB, &o->max_value_bytes));
  SB_RETURN_IF_ERROR(r.GetUnsigned("max_frame_bytes", 64 * 1024, 1024 * kMiB,
                                   &o->max_frame_bytes));
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("max_batch_ops", 1, 65536, &o->max_batch_ops));
  // One operation of the largest key and value must fit in a frame.
  const uint64_t need = uint64_t{o->max_key_bytes} + o->max_value_bytes +
                        LimitsOptions::kFrameOverheadBytes;
  if (o->max_frame_bytes < need) {
    return r.Error(r.Has("max_frame_bytes")   ? "max_frame_bytes"
                   : r.Has("max_value_bytes") ? "max_value_bytes"
                                              : "max_key_bytes",
                   "max_frame_bytes " + std::to_string(o->max_frame_bytes) +
                       " cannot carry one operation; expected at least "
                       "max_key_bytes + max_value_bytes + " +
                       std::to_string(LimitsOptions::kFrameOverheadBytes) +
                       " = " + std::to_string(need));
  }
  return Status::OK();
}

Status ParseCompaction(const TableReader& r, CompactionOptions* o) {
  SB_RETURN_IF_ERROR(r.CheckKeys(kCompactionKeys, Elsewhere("compaction")));
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("log_entries", 1, 1'000'000'000, &o->log_entries));
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("log_bytes", 4096, int64_t{1} << 40, &o->log_bytes));
  return Status::OK();
}

// ---- [layout] -------------------------------------------------------------

Status ParseLayout(const TableReader& r, LayoutOptions* o) {
  SB_RETURN_IF_ERROR(r.CheckKeys(kLayoutKeys, Elsewhere("layout")));
  if (!r.present()) return Status::OK();
  o->position = r.position();
  SB_RETURN_IF_ERROR(r.Require(
      "radiants",
      "every radiant of the cluster, e.g. radiants = [{ id = \"node1\", "
      "order = 1, peer = \"10.0.0.1:7400\", client = \"10.0.0.1:7500\" }]"));
  const toml::array* list = r.table()->get("radiants")->as_array();
  if (list == nullptr || list->empty()) {
    return r.Error("radiants",
                   "expected a non-empty array of tables { id, order, peer, "
                   "client }");
  }
  std::map<std::string, size_t> ids, peers, clients;
  for (size_t i = 0; i < list->size(); ++i) {
    const toml::node& item = *list->get(i);
    const std::string name = "layout.radiants[" + std::to_string(i) + "]";
    if (!item.is_table()) {
      return ErrorAt(PositionOf(item.source(), r.file()),
                     name +
                         ": expected a table { id, order, peer, client }, "
                         "found " +
                         TypeName(item.type()));
    }
    const TableReader e(item.as_table(), name, r.file());
    SB_RETURN_IF_ERROR(e.CheckKeys(
        kLayoutRadiantKeys, [](std::string_view) { return std::string(); }));
    LayoutRadiant rad;
    rad.position = e.position();
    SB_RETURN_IF_ERROR(e.Require("id", "the radiant's [node] id"));
    SB_RETURN_IF_ERROR(e.Require("order", "the order it belongs to, >= 1"));
    SB_RETURN_IF_ERROR(e.Require("peer", "its advertised peer address"));
    SB_RETURN_IF_ERROR(e.Require("client", "its advertised client address"));
    SB_RETURN_IF_ERROR(e.GetString("id", &rad.id));
    if (!IsValidNodeId(rad.id)) {
      return e.Error("id", "'" + rad.id +
                               "' is not a valid node id; expected 1 to 64 "
                               "of A-Z a-z 0-9 _ . -");
    }
    SB_RETURN_IF_ERROR(e.GetUnsigned("order", 1, 1 << 20, &rad.order));
    SB_RETURN_IF_ERROR(e.GetAddress("peer", &rad.peer));
    SB_RETURN_IF_ERROR(e.GetAddress("client", &rad.client));
    for (auto [key, hp] :
         {std::pair{"peer", &rad.peer}, std::pair{"client", &rad.client}}) {
      if (hp->IsWildcard() || hp->port == 0) {
        return e.Error(key, "'" + hp->ToString() +
                                "' cannot be dialled; expected the address "
                                "other nodes reach this radiant at");
      }
    }
    for (auto [key, seen, value] :
         {std::tuple{"id", &ids, rad.id},
          std::tuple{"peer", &peers, rad.peer.Normalized()},
          std::tuple{"client", &clients, rad.client.Normalized()}}) {
      auto [it, inserted] = seen->emplace(value, i);
      if (!inserted) {
        return e.Error(key, "'" + value + "' is also layout.radiants[" +
                                std::to_string(it->second) +
                                "]'s; every radiant needs its own");
      }
    }
    o->radiants.push_back(std::move(rad));
  }
  return Status::OK();
}

// ---- [logging], [plugins] -------------------------------------------------

Status ParseLogging(const TableReader& r, LoggingOptions* o) {
  SB_RETURN_IF_ERROR(r.CheckKeys(kLoggingKeys, Elsewhere("logging")));
  std::string level;
  if (r.Has("level")) {
    SB_RETURN_IF_ERROR(r.GetString("level", &level));
    std::optional<LogLevel> l = ParseLogLevel(level);
    if (!l) {
      return r.Error("level", "'" + level +
                                  "' is not a level; expected one of trace, "
                                  "debug, info, warn, error, critical");
    }
    o->level = *l;
  }
  std::string sink;
  if (r.Has("sink")) {
    SB_RETURN_IF_ERROR(r.GetString("sink", &sink));
    if (sink == "stderr") {
      o->sink = LogSink::kStderr;
    } else if (sink == "file") {
      o->sink = LogSink::kFile;
    } else {
      return r.Error("sink", "'" + sink +
                                 "' is not a sink; expected \"stderr\" or "
                                 "\"file\"");
    }
  }
  SB_RETURN_IF_ERROR(r.GetString("file", &o->file));
  SB_RETURN_IF_ERROR(
      r.GetUnsigned("rotate_bytes", 0, int64_t{1} << 40, &o->rotate_bytes));
  SB_RETURN_IF_ERROR(r.GetUnsigned("rotate_files", 1, 1000, &o->rotate_files));
  if (o->sink == LogSink::kFile) {
    if (!r.Has("file")) {
      return ErrorAt(r.Has("sink") ? r.ValuePosition("sink") : r.position(),
                     "logging.file: required with sink = \"file\"; expected "
                     "the path of the log file");
    }
    if (o->file.empty()) {
      return r.Error("file", "must not be empty; expected a file path");
    }
    if (o->rotate_bytes != 0 && o->rotate_bytes < 4096) {
      return r.Error("rotate_bytes",
                     std::to_string(o->rotate_bytes) +
                         " is too small; expected 0 (no rotation) or at "
                         "least 4096");
    }
  } else {
    for (std::string_view k : {"file", "rotate_bytes", "rotate_files"}) {
      if (r.Has(k)) {
        return r.Error(k,
                       "only applies to sink = \"file\" (sink is "
                       "\"stderr\"); set sink = \"file\" or remove it");
      }
    }
  }
  SB_RETURN_IF_ERROR(r.GetString("pattern", &o->pattern));
  if (r.Has("pattern") && o->pattern.empty()) {
    return r.Error("pattern",
                   "must not be empty; remove it to use the "
                   "default pattern");
  }
  return Status::OK();
}

Status ParsePlugins(const TableReader& r, PluginsOptions* o) {
  SB_RETURN_IF_ERROR(r.CheckKeys(kPluginsKeys, Elsewhere("plugins")));
  std::vector<SourcePosition> pos;
  SB_RETURN_IF_ERROR(r.GetStringArray("dirs", &o->dirs, &pos));
  for (size_t i = 0; i < o->dirs.size(); ++i) {
    if (o->dirs[i].empty()) {
      return ErrorAt(pos[i], "plugins.dirs[" + std::to_string(i) +
                                 "]: must not be empty; expected a "
                                 "directory path");
    }
  }
  return Status::OK();
}

// ---- [metrics] -------------------------------------------------------------

Status ParseMetrics(const TableReader& r, MetricsOptions* o) {
  SB_RETURN_IF_ERROR(r.CheckKeys(kMetricsKeys, Elsewhere("metrics")));
  if (!r.Has("listen")) return Status::OK();
  HostPort listen;
  SB_RETURN_IF_ERROR(r.GetAddress("listen", &listen));
  o->listen = listen;
  o->listen_position = r.ValuePosition("listen");
  return Status::OK();
}

// ---- Plugin sections ------------------------------------------------------

namespace {

bool IsValidPluginName(const std::string& name) {
  return !name.empty() && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                  c == '.' || c == '-';
         });
}

}  // namespace

Status ParsePluginSection(const TableReader& r, const char* default_plugin,
                          PluginSection* s) {
  const bool classifier = r.name() == "classifier";
  s->table = r.name();
  s->present = r.present();
  s->position = r.position();
  s->plugin = default_plugin != nullptr ? default_plugin : "";
  if (classifier) {
    SB_RETURN_IF_ERROR(r.Require(
        "plugin", "the classifier plugin to load, e.g. \"bpf-qdisc\""));
    SB_RETURN_IF_ERROR(r.GetBool("required", &s->required));
    SB_RETURN_IF_ERROR(r.GetUnsigned("join_port", 0, 65535, &s->join_port));
  }
  SB_RETURN_IF_ERROR(r.GetString("plugin", &s->plugin));
  s->plugin_position =
      r.Has("plugin") ? r.ValuePosition("plugin") : r.position();
  if (!s->PluginIsPath() && !IsValidPluginName(s->plugin)) {
    return r.Error("plugin",
                   "'" + s->plugin +
                       "' is not a plugin name; expected a name "
                       "of A-Z a-z 0-9 _ . - (e.g. \"" +
                       std::string(default_plugin != nullptr ? default_plugin
                                                             : "bpf-qdisc") +
                       "\") or a path containing '/'");
  }
  return FlattenPluginTable(
      r, classifier ? kClassifierHostKeys : kPluginHostKeys, &s->entries);
}

}  // namespace sb::config_internal
