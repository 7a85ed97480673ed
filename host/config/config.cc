// The loader for the schema in config.h: parse the text, check that the
// root holds only known tables, run each table's parse function
// (sections.cc), then the rules that tie tables together.
#include "host/config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "host/common/node_number.h"
#include "host/config/sections.h"
#include "host/config/toml_reader.h"

namespace sb {

using config_internal::ClosestMatch;
using config_internal::ErrorAt;
using config_internal::OwnerOfKey;
using config_internal::ParseCluster;
using config_internal::ParseCompaction;
using config_internal::ParseLayout;
using config_internal::ParseLimits;
using config_internal::ParseLogging;
using config_internal::ParseNode;
using config_internal::ParsePlugins;
using config_internal::ParsePluginSection;
using config_internal::PositionOf;
using config_internal::SchemaTables;
using config_internal::TableReader;
using config_internal::TableSpec;
using config_internal::TypeName;

namespace {

// ---- Root -----------------------------------------------------------------

Status CheckRoot(const toml::table& root, const std::string& file) {
  std::vector<std::string_view> names;
  for (const TableSpec& t : SchemaTables()) names.push_back(t.name);
  for (const auto& [k, v] : root) {
    std::string_view key = k.str();
    SourcePosition pos = PositionOf(k.source(), file);
    const std::vector<TableSpec>& tables = SchemaTables();
    auto it = std::find_if(tables.begin(), tables.end(),
                           [&](const TableSpec& t) { return t.name == key; });
    if (it != tables.end()) {
      if (!v.is_table()) {
        return ErrorAt(pos, "'" + std::string(key) + "' must be a table ([" +
                                std::string(key) + "]), found " +
                                TypeName(v.type()));
      }
      continue;
    }
    // A key before the first [table] header lands in the root.
    if (!v.is_table()) {
      std::string owner = OwnerOfKey(key, "");
      return ErrorAt(pos, "key '" + std::string(key) +
                              "' is outside any table; " +
                              (owner.empty() ? "expected a [table] header "
                                               "such as [node] before it"
                                             : owner));
    }
    std::string msg = "unknown table [" + std::string(key) + "]";
    std::string near = ClosestMatch(key, names);
    if (!near.empty()) {
      msg += "; did you mean [" + near + "]?";
    } else {
      msg += "; expected one of:";
      for (std::string_view n : names) msg += " [" + std::string(n) + "]";
    }
    return ErrorAt(pos, msg);
  }
  return Status::OK();
}

// ---- Rules across tables --------------------------------------------------

// A static layout: no single_node; this node is one of its radiants, at the
// addresses it advertises; every order has replication_factor radiants;
// there are no more orders than shards; node numbers do not collide.
Status CheckLayout(const TableReader& layout, const TableReader& cluster,
                   const NodeConfig& c) {
  const std::vector<LayoutRadiant>& rads = c.layout.radiants;
  if (rads.empty()) return Status::OK();
  if (c.node.single_node) {
    return ErrorAt(c.layout.position,
                   "[layout] contradicts node.single_node = true (a single "
                   "node is its own layout); remove one of them");
  }
  const LayoutRadiant* self = nullptr;
  std::map<uint64_t, std::vector<const LayoutRadiant*>> orders;
  std::map<uint64_t, const LayoutRadiant*> numbers;
  for (const LayoutRadiant& r : rads) {
    if (r.id == c.node.id) self = &r;
    orders[r.order].push_back(&r);
    auto [it, inserted] = numbers.emplace(NodeNumber(r.id), &r);
    if (!inserted) {
      return ErrorAt(r.position, "layout: node ids '" + r.id + "' and '" +
                                     it->second->id +
                                     "' hash to the same node number; "
                                     "rename one of them");
    }
  }
  if (self == nullptr) {
    return layout.Error("radiants", "this node (node.id = '" + c.node.id +
                                        "') is not one of the radiants; every "
                                        "node of the cluster carries the same "
                                        "layout, including itself");
  }
  if (self->peer.Normalized() != c.node.advertise_peer.Normalized() ||
      self->client.Normalized() != c.node.advertise_client.Normalized()) {
    return ErrorAt(
        self->position,
        "layout: this node's entry says peer " + self->peer.ToString() +
            " and client " + self->client.ToString() +
            ", but [node] advertises peer " + c.node.advertise_peer.ToString() +
            " and client " + c.node.advertise_client.ToString() +
            "; expected the same addresses");
  }
  for (const auto& [id, members] : orders) {
    if (members.size() != c.cluster.replication_factor) {
      return ErrorAt(members.front()->position,
                     "layout: order " + std::to_string(id) + " has " +
                         std::to_string(members.size()) +
                         " radiants, but cluster.replication_factor is " +
                         std::to_string(c.cluster.replication_factor) +
                         "; expected every order to have that many");
    }
  }
  if (orders.size() > c.cluster.shards) {
    return cluster.Error("shards", std::to_string(c.cluster.shards) +
                                       " shards cannot cover the layout's " +
                                       std::to_string(orders.size()) +
                                       " orders; expected at least one shard "
                                       "per order");
  }
  return Status::OK();
}

// single_node makes the node a cluster of one: an order of one radiant,
// formed by this node alone. Unset values follow; contrary ones are errors.
Status CheckCrossTableRules(const TableReader& node, const TableReader& cluster,
                            NodeConfig* c) {
  if (!c->node.single_node) return Status::OK();
  for (auto [key, value] :
       {std::pair{"replication_factor", &c->cluster.replication_factor},
        std::pair{"bootstrap_expect", &c->cluster.bootstrap_expect}}) {
    if (!cluster.Has(key)) {
      *value = 1;
    } else if (*value != 1) {
      return cluster.Error(key,
                           std::to_string(*value) +
                               " contradicts node.single_node = true (at " +
                               node.ValuePosition("single_node").ToString() +
                               "); expected 1, or remove the key");
    }
  }
  return Status::OK();
}

// The classifier's join port must be a port of its own: the ABI refuses a
// join port equal to a protected port, and a join port equal to the metrics
// port would open the metrics endpoint to strangers at the join rate. The
// metrics endpoint must not share a port with the node's listeners.
Status CheckPorts(const TableReader& classifier, NodeConfig* c) {
  const uint16_t client = c->node.listen_client.port;
  const uint16_t peer = c->node.listen_peer.port;
  if (c->metrics.listen) {
    const uint16_t m = c->metrics.listen->port;
    if (m == client || m == peer) {
      return ErrorAt(c->metrics.listen_position,
                     "metrics.listen: port " + std::to_string(m) +
                         " is the node's " +
                         (m == client ? "listen_client" : "listen_peer") +
                         " port; expected a port of its own (e.g. 9500)");
    }
  }
  if (!c->classifier || c->classifier->join_port == 0) return Status::OK();
  const uint16_t j = c->classifier->join_port;
  std::string clash;
  if (j == client) clash = "the node's listen_client port";
  if (j == peer) clash = "the node's listen_peer port";
  if (c->metrics.listen && j == c->metrics.listen->port) {
    clash = "the metrics.listen port";
  }
  if (clash.empty()) return Status::OK();
  return classifier.Error("join_port",
                          std::to_string(j) + " is " + clash +
                              " (protected, allowlist only); expected a "
                              "port of its own, or 0 for no join path");
}

const toml::table* SubTable(const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  return n != nullptr ? n->as_table() : nullptr;
}

}  // namespace

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kCritical:
      return "critical";
  }
  return "info";
}

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  for (LogLevel l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo,
                     LogLevel::kWarn, LogLevel::kError, LogLevel::kCritical}) {
    if (name == LogLevelName(l)) return l;
  }
  return std::nullopt;
}

StatusOr<NodeConfig> ParseConfig(std::string_view text,
                                 const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return ErrorAt(PositionOf(e.source(), source_name),
                   "TOML syntax error: " + std::string(e.description()));
  }
  SB_RETURN_IF_ERROR(CheckRoot(root, source_name));

  auto reader = [&](std::string_view name) {
    return TableReader(SubTable(root, name), std::string(name), source_name);
  };
  NodeConfig c;
  c.source = source_name;
  const TableReader node = reader("node");
  const TableReader cluster = reader("cluster");
  const TableReader layout = reader("layout");
  SB_RETURN_IF_ERROR(ParseLayout(layout, &c.layout));
  SB_RETURN_IF_ERROR(ParseNode(node, !c.layout.radiants.empty(), &c.node));
  SB_RETURN_IF_ERROR(ParseCluster(cluster, &c.cluster));
  SB_RETURN_IF_ERROR(ParseLimits(reader("limits"), &c.limits));
  SB_RETURN_IF_ERROR(ParseCompaction(reader("compaction"), &c.compaction));
  SB_RETURN_IF_ERROR(ParseLogging(reader("logging"), &c.logging));
  SB_RETURN_IF_ERROR(ParsePlugins(reader("plugins"), &c.plugins));
  SB_RETURN_IF_ERROR(ParseMetrics(reader("metrics"), &c.metrics));
  SB_RETURN_IF_ERROR(
      ParsePluginSection(reader("storage"), kDefaultStoragePlugin, &c.storage));
  SB_RETURN_IF_ERROR(ParsePluginSection(reader("consensus"),
                                        kDefaultConsensusPlugin, &c.consensus));
  SB_RETURN_IF_ERROR(ParsePluginSection(reader("transport"),
                                        kDefaultTransportPlugin, &c.transport));
  const TableReader classifier = reader("classifier");
  if (classifier.present()) {
    c.classifier.emplace();
    SB_RETURN_IF_ERROR(ParsePluginSection(classifier, nullptr, &*c.classifier));
  }
  SB_RETURN_IF_ERROR(CheckCrossTableRules(node, cluster, &c));
  SB_RETURN_IF_ERROR(CheckLayout(layout, cluster, c));
  SB_RETURN_IF_ERROR(CheckPorts(classifier, &c));
  return c;
}

StatusOr<NodeConfig> LoadConfigFile(const std::string& path) {
  constexpr off_t kMaxConfigBytes = 4 << 20;
  auto io_error = [&](const std::string& what) {
    return Status::IOError("cannot read config file '" + path + "': " + what);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error(std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error(std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return io_error("not a regular file");
  }
  if (st.st_size > kMaxConfigBytes) {
    ::close(fd);
    return io_error("larger than 4 MiB");
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return io_error(std::strerror(err));
    }
    if (n == 0) break;  // truncated while reading: parse what is there
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(done);
  return ParseConfig(text, path);
}

}  // namespace sb
