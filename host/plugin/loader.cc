#include "host/plugin/loader.h"

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace sb {

namespace fs = std::filesystem;

const char* KindName(uint32_t kind) {
  switch (kind) {
    case SB_KIND_STORAGE:
      return "storage";
    case SB_KIND_CONSENSUS:
      return "consensus";
    case SB_KIND_TRANSPORT:
      return "transport";
    case SB_KIND_CLASSIFIER:
      return "classifier";
  }
  return "unknown";
}

namespace {

std::string KindLabel(uint32_t kind) {
  return std::string(KindName(kind)) + " (" + std::to_string(kind) + ")";
}

std::string Join(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// Opens `path` and reads its descriptor, checking everything that does not
// depend on the expected kind. On success `lib` holds the library.
Status OpenAndDescribe(const std::string& path,
                       std::unique_ptr<boost::dll::shared_library>* lib,
                       const sb_plugin_info** info) {
  auto l = std::make_unique<boost::dll::shared_library>();
  boost::system::error_code ec;
  // rtld_local: plugins must not see each other's symbols; rtld_now: fail
  // here on an unresolved symbol, not in the middle of a request.
  l->load(path, ec,
          boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now);
  if (ec) {
    return Status::InvalidArgument(
        "plugin '" + path +
        "' is not a loadable shared object: " + ec.message());
  }
  if (!l->has(SB_PLUGIN_ENTRY_SYMBOL)) {
    return Status::InvalidArgument(
        "plugin '" + path +
        "' has no entry symbol '" SB_PLUGIN_ENTRY_SYMBOL
        "': not a shardbearer plugin (expected ABI " +
        std::to_string(SB_ABI_MAJOR) + "." + std::to_string(SB_ABI_MINOR) +
        ")");
  }
  auto entry = l->get<const sb_plugin_info*()>(SB_PLUGIN_ENTRY_SYMBOL);
  const sb_plugin_info* d = entry();
  const std::string expected = "expected ABI " + std::to_string(SB_ABI_MAJOR) +
                               "." + std::to_string(SB_ABI_MINOR);
  if (d == nullptr) {
    return Status::InvalidArgument("plugin '" + path +
                                   "': entry symbol returned no descriptor (" +
                                   expected + ")");
  }
  // The magic and the first fields are at fixed offsets in every ABI major,
  // so they are safe to read before anything else.
  if (d->struct_size < offsetof(sb_plugin_info, kind) ||
      d->magic != SB_PLUGIN_MAGIC) {
    return Status::InvalidArgument("plugin '" + path +
                                   "': bad descriptor magic (" + expected +
                                   "): not a shardbearer plugin or corrupt");
  }
  const std::string found = "found ABI " + std::to_string(d->abi_major) + "." +
                            std::to_string(d->abi_minor);
  if (d->abi_major != SB_ABI_MAJOR) {
    return Status::InvalidArgument(
        "plugin '" + path + "': ABI major mismatch (" + expected + ", " +
        found + "); rebuild the plugin against this host");
  }
  if (!SB_HAS_FIELD(d, vtable) || d->name == nullptr || d->version == nullptr ||
      d->vtable == nullptr) {
    return Status::InvalidArgument("plugin '" + path +
                                   "': incomplete descriptor (" + expected +
                                   ", " + found + ")");
  }
  // Every vtable starts with its own struct_size; the kind wrappers check
  // it covers the members they use.
  if (*static_cast<const uint32_t*>(d->vtable) < sizeof(uint32_t)) {
    return Status::InvalidArgument("plugin '" + path + "': empty vtable");
  }
  *lib = std::move(l);
  *info = d;
  return Status::OK();
}

bool HasSuffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

PluginLibrary::~PluginLibrary() = default;

PluginLoader::PluginLoader(std::vector<std::string> search_dirs)
    : dirs_(search_dirs.empty() ? DefaultSearchDirs()
                                : std::move(search_dirs)) {}

std::vector<std::string> PluginLoader::DefaultSearchDirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("SHARDBEARER_PLUGIN_DIR");
      env != nullptr && *env != '\0') {
    dirs.emplace_back(env);
  }
  // Next to the running binary's build tree, then the install location.
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path beside = exe.parent_path().parent_path() / "plugins";
    if (fs::is_directory(beside, ec)) dirs.push_back(beside.string());
  }
  dirs.emplace_back(SB_PLUGIN_BUILD_DIR);
  dirs.emplace_back(SB_PLUGIN_INSTALL_DIR);
  // Drop duplicates, keeping the first occurrence.
  std::vector<std::string> unique;
  for (auto& d : dirs) {
    if (std::find(unique.begin(), unique.end(), d) == unique.end()) {
      unique.push_back(d);
    }
  }
  return unique;
}

StatusOr<std::shared_ptr<PluginLibrary>> PluginLoader::Load(
    const std::string& name_or_path, uint32_t expected_kind) const {
  if (name_or_path.empty()) {
    return Status::InvalidArgument(
        "empty " + std::string(KindName(expected_kind)) +
        " plugin name; known " + KindName(expected_kind) +
        " plugins: " + Join(KnownPlugins(expected_kind)));
  }
  std::string path;
  std::error_code ec;
  if (name_or_path.find('/') != std::string::npos) {
    path = name_or_path;
    if (!fs::exists(path, ec)) {
      return Status::NotFound("plugin file '" + path +
                              "' does not exist; known " +
                              KindName(expected_kind) +
                              " plugins: " + Join(KnownPlugins(expected_kind)) +
                              " (in " + Join(dirs_) + ")");
    }
  } else {
    std::vector<std::string> tried;
    for (const auto& dir : dirs_) {
      fs::path candidate = fs::path(dir) / (name_or_path + ".so");
      tried.push_back(candidate.string());
      if (fs::exists(candidate, ec)) {
        path = candidate.string();
        break;
      }
    }
    if (path.empty()) {
      return Status::NotFound("no " + std::string(KindName(expected_kind)) +
                              " plugin named '" + name_or_path +
                              "' (looked for " + Join(tried) + "); known " +
                              KindName(expected_kind) +
                              " plugins: " + Join(KnownPlugins(expected_kind)));
    }
  }

  std::unique_ptr<boost::dll::shared_library> lib;
  const sb_plugin_info* info = nullptr;
  Status st = OpenAndDescribe(path, &lib, &info);
  if (!st.ok()) return st;
  if (info->kind != expected_kind) {
    return Status::InvalidArgument(
        "plugin '" + path + "' (" + info->name + " " + info->version +
        ") is a " + KindLabel(info->kind) + " plugin, expected a " +
        KindLabel(expected_kind) + " plugin; known " + KindName(expected_kind) +
        " plugins: " + Join(KnownPlugins(expected_kind)));
  }
  auto out = std::shared_ptr<PluginLibrary>(new PluginLibrary());
  out->path_ = path;
  out->lib_ = std::move(lib);
  out->info_ = info;
  return out;
}

std::vector<std::string> PluginLoader::KnownPlugins(uint32_t kind) const {
  std::vector<std::string> names;
  for (const auto& dir : dirs_) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const std::string file = it->path().filename().string();
      if (!HasSuffix(file, ".so")) continue;
      std::unique_ptr<boost::dll::shared_library> lib;
      const sb_plugin_info* info = nullptr;
      if (!OpenAndDescribe(it->path().string(), &lib, &info).ok()) continue;
      if (kind != 0 && info->kind != kind) continue;
      std::string name = file.substr(0, file.size() - 3);
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        names.push_back(name);
      }
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace sb
