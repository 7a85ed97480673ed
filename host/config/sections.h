// host/config/sections.h — the schema's tables: which exist, which keys the
// host owns in each, and one parse function per table. Internal to
// host/config (config.cc drives them).
//
// Each Parse function first rejects keys not in its table's list, then fills
// its struct from the TableReader (an absent table leaves the defaults),
// then checks the rules among that table's own keys. Errors follow
// config.h: InvalidArgument "FILE:LINE:COLUMN: ...".
//
// Thread safety: pure functions over immutable data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "host/common/status.h"
#include "host/config/config.h"
#include "host/config/toml_reader.h"

namespace sb::config_internal {

struct TableSpec {
  std::string_view name;
  const std::vector<std::string_view>* keys;  // host-owned keys
  bool plugin_section;                        // other keys belong to the plugin
};

// Every table of the schema, in document order.
const std::vector<TableSpec>& SchemaTables();

// "it belongs in [cluster]" if a host table other than `except_table` owns
// `key`, else "".
std::string OwnerOfKey(std::string_view key, std::string_view except_table);

// `has_layout`: a [layout] names every radiant, so seeds may be empty.
Status ParseNode(const TableReader& r, bool has_layout, NodeOptions* o);
Status ParseCluster(const TableReader& r, ClusterOptions* o);
Status ParseLimits(const TableReader& r, LimitsOptions* o);
Status ParseLayout(const TableReader& r, LayoutOptions* o);
Status ParseCompaction(const TableReader& r, CompactionOptions* o);
Status ParseLogging(const TableReader& r, LoggingOptions* o);
Status ParsePlugins(const TableReader& r, PluginsOptions* o);
Status ParseMetrics(const TableReader& r, MetricsOptions* o);
// [storage], [consensus], [transport] (default_plugin set) and [classifier]
// (default_plugin null: `plugin` is required, `required` and `join_port`
// are read).
Status ParsePluginSection(const TableReader& r, const char* default_plugin,
                          PluginSection* s);

}  // namespace sb::config_internal
