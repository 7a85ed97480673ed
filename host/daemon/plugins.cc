#include "host/daemon/plugins.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "host/classifier/classifier.h"
#include "host/consensus/consensus.h"
#include "host/plugin/storage.h"
#include "host/transport/transport.h"

namespace sb {

std::vector<std::string> PluginSearchDirs(const NodeConfig& config) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("SHARDBEARER_PLUGIN_DIR");
      env != nullptr && *env != '\0') {
    dirs.emplace_back(env);
  }
  for (const auto& d : config.plugins.dirs) dirs.push_back(d);
  for (auto& d : PluginLoader::DefaultSearchDirs()) {
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  }
  return dirs;
}

std::vector<std::pair<const PluginSection*, uint32_t>> PluginSections(
    const NodeConfig& config) {
  std::vector<std::pair<const PluginSection*, uint32_t>> out = {
      {&config.storage, SB_KIND_STORAGE},
      {&config.consensus, SB_KIND_CONSENSUS},
      {&config.transport, SB_KIND_TRANSPORT},
  };
  if (config.classifier)
    out.emplace_back(&*config.classifier, SB_KIND_CLASSIFIER);
  return out;
}

namespace {

// Asks the plugin to validate its section, through the kind's wrapper.
Status CheckSection(const std::shared_ptr<PluginLibrary>& lib, uint32_t kind,
                    const sb_config& cfg) {
  switch (kind) {
    case SB_KIND_STORAGE:
      return Storage::CheckConfig(lib, cfg);
    case SB_KIND_CONSENSUS:
      return ConsensusInstance::CheckConfig(*lib, cfg);
    case SB_KIND_TRANSPORT:
      return Transport::CheckConfig(lib, cfg);
    case SB_KIND_CLASSIFIER:
      return Classifier::CheckConfig(lib, cfg);
    default:
      return Status::Internal("no config check for plugin kind " +
                              std::to_string(kind));
  }
}

}  // namespace

StatusOr<LoadedPlugin> LoadAndCheck(const PluginLoader& loader,
                                    const PluginSection& section,
                                    uint32_t kind) {
  auto lib = loader.Load(section.plugin, kind);
  if (!lib.ok()) {
    return Status(lib.status().code(),
                  section.plugin_position.ToString() + ": [" + section.table +
                      "] plugin: " + lib.status().message());
  }
  PluginConfigAbi cfg = section.ToAbi();
  Status st = CheckSection(*lib, kind, *cfg.get());
  if (!st.ok()) return section.AnnotatePluginError(st);
  LoadedPlugin out;
  out.section = &section;
  out.kind = kind;
  out.library = std::move(lib).value();
  return out;
}

}  // namespace sb
