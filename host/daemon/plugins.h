// host/daemon/plugins.h — the plugins a node's configuration names.
//
// Resolves every plugin section ([storage], [consensus], [transport],
// [classifier]) to a loaded, checked PluginLibrary, and lets each plugin
// validate its own section. Plugin-side errors come back annotated with the
// FILE:LINE:COLUMN of the key they name. Used by `--check-config` and at
// start-up, so both refuse the same things.
//
// Thread safety: none needed; called once from main().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/common/status.h"
#include "host/config/config.h"
#include "host/plugin/loader.h"

namespace sb {

// Plugin search order: $SHARDBEARER_PLUGIN_DIR, [plugins] dirs, then the
// loader's defaults (beside the binary's build tree, the build tree, the
// install folder).
std::vector<std::string> PluginSearchDirs(const NodeConfig& config);

struct LoadedPlugin {
  const PluginSection* section = nullptr;  // points into the NodeConfig
  uint32_t kind = 0;
  std::shared_ptr<PluginLibrary> library;
};

// Every configured plugin section, in start-up order: storage, consensus,
// transport, classifier (when present).
std::vector<std::pair<const PluginSection*, uint32_t>> PluginSections(
    const NodeConfig& config);

// Loads the plugin of one section and has it check its section.
StatusOr<LoadedPlugin> LoadAndCheck(const PluginLoader& loader,
                                    const PluginSection& section,
                                    uint32_t kind);

}  // namespace sb
