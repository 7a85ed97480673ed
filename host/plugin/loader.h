// host/plugin/loader.h — finding, loading and checking plugins (Boost.DLL).
//
// A plugin is chosen by name ("storage-rocksdb") or by path (anything with a
// '/'). A name is searched as `<dir>/<name>.so` in each search directory in
// order. The loader refuses, with a message naming the file, the expected
// and found versions and the known plugin names:
//   - a missing file, or one that is not a loadable shared object;
//   - a missing entry symbol (SB_PLUGIN_ENTRY_SYMBOL);
//   - a bad magic, an ABI major other than SB_ABI_MAJOR, or a descriptor /
//     vtable smaller than this host's ABI requires;
//   - the wrong kind.
//
// A PluginLibrary owns the loaded shared object. Every pointer taken from the
// plugin (descriptor, vtable, handles) is valid only while the PluginLibrary
// lives: the kind wrappers (storage.h, ...) hold a shared_ptr to it so the
// library outlives them. Thread safety: loading is thread-safe; a loaded
// PluginLibrary is immutable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/common/status.h"
#include "shardbearer/abi/common.h"

namespace boost::dll {
class shared_library;
}

namespace sb {

// Human name of a kind: "storage", "consensus", "transport", "classifier".
const char* KindName(uint32_t kind);

class PluginLibrary {
 public:
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& path() const { return path_; }
  const sb_plugin_info& info() const { return *info_; }
  std::string name() const { return info_->name; }
  std::string version() const { return info_->version; }
  uint32_t kind() const { return info_->kind; }
  // The kind's vtable. Caller casts to the kind's type (the loader checked
  // the kind and that vtable->struct_size covers this host's minimum).
  const void* vtable() const { return info_->vtable; }

 private:
  friend class PluginLoader;
  PluginLibrary() = default;
  std::string path_;
  std::unique_ptr<boost::dll::shared_library> lib_;
  const sb_plugin_info* info_ = nullptr;
};

class PluginLoader {
 public:
  // search_dirs: tried in order for plugin names. Empty: DefaultSearchDirs().
  explicit PluginLoader(std::vector<std::string> search_dirs = {});

  // The build tree's plugin folder (when running from a build) and the
  // installed plugin folder, in that order, plus $SHARDBEARER_PLUGIN_DIR
  // first when set.
  static std::vector<std::string> DefaultSearchDirs();

  const std::vector<std::string>& search_dirs() const { return dirs_; }

  // Load `name_or_path` and check it is an `expected_kind` plugin.
  StatusOr<std::shared_ptr<PluginLibrary>> Load(const std::string& name_or_path,
                                                uint32_t expected_kind) const;

  // Names ("storage-rocksdb", ...) of the plugins of `kind` found in the
  // search dirs (files `*.so` whose descriptor loads and has that kind).
  // kind 0: every plugin.
  std::vector<std::string> KnownPlugins(uint32_t kind = 0) const;

 private:
  std::vector<std::string> dirs_;
};

}  // namespace sb
