#include "host/config/plugin_section.h"

#include <cctype>
#include <utility>

namespace sb {

std::string SourcePosition::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

PluginConfigEntry::PluginConfigEntry(std::string key, std::string value,
                                     uint32_t type, SourcePosition position)
    : key(std::move(key)),
      value(std::move(value)),
      type(type),
      position(std::move(position)) {}

struct PluginConfigAbi::Storage {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<sb_config_entry> entries;
  sb_config config{};
};

PluginConfigAbi::PluginConfigAbi() = default;
PluginConfigAbi::~PluginConfigAbi() = default;
PluginConfigAbi::PluginConfigAbi(PluginConfigAbi&&) noexcept = default;
PluginConfigAbi& PluginConfigAbi::operator=(PluginConfigAbi&&) noexcept =
    default;

PluginConfigAbi::PluginConfigAbi(const std::vector<PluginConfigEntry>& entries)
    : storage_(std::make_unique<Storage>()) {
  Storage& s = *storage_;
  // Fill the string vectors completely before taking c_str() pointers: a
  // vector that grows afterwards would move short (SSO) strings.
  s.keys.reserve(entries.size());
  s.values.reserve(entries.size());
  for (const PluginConfigEntry& e : entries) {
    s.keys.push_back(e.key);
    s.values.push_back(e.value);
  }
  s.entries.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    sb_config_entry ce{};
    ce.struct_size = sizeof(sb_config_entry);
    ce.type = entries[i].type;
    ce.key = s.keys[i].c_str();
    ce.value = s.values[i].c_str();
    s.entries.push_back(ce);
  }
  s.config.struct_size = sizeof(sb_config);
  s.config.entries = s.entries.empty() ? nullptr : s.entries.data();
  s.config.count = s.entries.size();
}

PluginConfigAbi::PluginConfigAbi(
    std::initializer_list<PluginConfigEntry> entries)
    : PluginConfigAbi(std::vector<PluginConfigEntry>(entries)) {}

const sb_config* PluginConfigAbi::get() const {
  static const sb_config kEmpty = {sizeof(sb_config), nullptr, 0};
  return storage_ ? &storage_->config : &kEmpty;
}

bool PluginSection::PluginIsPath() const {
  return plugin.find('/') != std::string::npos;
}

const PluginConfigEntry* PluginSection::Find(const std::string& key) const {
  for (const PluginConfigEntry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

PluginConfigAbi PluginSection::ToAbi() const {
  return PluginConfigAbi(entries);
}

namespace {

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
         c == '.';
}

// Match quality of `key` in `msg`: 2 quoted ('key', "key", `key`), 1 as a
// whole word (not inside a longer key-like token), 0 absent.
int MatchQuality(const std::string& msg, const std::string& key) {
  if (key.empty()) return 0;
  int best = 0;
  for (size_t at = msg.find(key); at != std::string::npos;
       at = msg.find(key, at + 1)) {
    size_t end = at + key.size();
    char before = at > 0 ? msg[at - 1] : '\0';
    char after = end < msg.size() ? msg[end] : '\0';
    bool quoted =
        (before == '\'' || before == '"' || before == '`') && after == before;
    if (quoted) return 2;
    bool word = (at == 0 || !IsKeyChar(before)) &&
                (end == msg.size() || !IsKeyChar(after) ||
                 // A period followed by a space or the end closes a
                 // sentence; it is not part of a dotted key.
                 (after == '.' &&
                  (end + 1 == msg.size() ||
                   std::isspace(static_cast<unsigned char>(msg[end + 1])))));
    if (word) best = 1;
  }
  return best;
}

}  // namespace

std::optional<SourcePosition> PluginSection::Locate(
    const std::string& plugin_message) const {
  const PluginConfigEntry* best = nullptr;
  int best_quality = 0;
  for (const PluginConfigEntry& e : entries) {
    int q = MatchQuality(plugin_message, e.key);
    if (q == 0) continue;
    if (q > best_quality ||
        (q == best_quality && e.key.size() > best->key.size())) {
      best = &e;
      best_quality = q;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->position;
}

Status PluginSection::AnnotatePluginError(const Status& status) const {
  if (status.ok()) return status;
  SourcePosition pos = Locate(status.message()).value_or(position);
  return Status(status.code(), pos.ToString() + ": [" + table + "] plugin '" +
                                   plugin + "': " + status.message());
}

}  // namespace sb
