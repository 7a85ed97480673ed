// host/config/plugin_section.h — a plugin's section of the node config.
//
// The tables [storage], [consensus], [transport] and [classifier] each name
// a plugin (host key `plugin`; [classifier] also has `required` and
// `join_port`). Every other
// key in the table belongs to the plugin: the host keeps it verbatim, with
// its TOML type and its position in the file, and hands it to the plugin as
// an sb_config (shardbearer/abi/common.h). Nested tables are flattened to
// dotted keys ("tls.ca_file"); an array becomes one SB_CONFIG_ARRAY entry
// whose elements are rendered as text and joined by ','.
//
// The plugin validates its own keys. When it rejects one, its message names
// the key ("unknown key 'sync_wal'"); AnnotatePluginError() finds that key in
// the section and prefixes its FILE:LINE:COLUMN, so plugin-side errors point
// into the file just like the host's own.
//
// Thread safety: PluginSection and PluginConfigAbi are values; const methods
// may be called concurrently, anything else needs external synchronisation.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/common/status.h"
#include "shardbearer/abi/common.h"

namespace sb {

// A place in a config file, printed "FILE:LINE:COLUMN" (1-based).
struct SourcePosition {
  std::string file;
  uint32_t line = 1;
  uint32_t column = 1;

  std::string ToString() const;
};

// One plugin-owned key of a plugin section. This is the host's only
// type for a config entry: the config module fills it from TOML, and code
// that builds a section by hand (tests, tools, the consensus driver's
// groups) writes {key, value} or {key, value, SB_CONFIG_*}.
struct PluginConfigEntry {
  PluginConfigEntry() = default;
  PluginConfigEntry(std::string key, std::string value,
                    uint32_t type = SB_CONFIG_STRING,
                    SourcePosition position = {});

  std::string key;                   // dotted path inside the section
  std::string value;                 // rendered text (see the header comment)
  uint32_t type = SB_CONFIG_STRING;  // SB_CONFIG_*
  // Of the key in its file; FILE:1:1 with an empty file name for an entry
  // built by hand.
  SourcePosition position;
};

// Owns an sb_config built from a list of entries (a PluginSection's, or one
// written by hand): the one way the host builds an sb_config. It and every
// pointer inside it stay valid as long as this object lives (moving it is
// fine: the storage is on the heap and does not move).
//
// Code that builds a section by hand writes, for example,
//   PluginConfigAbi cfg{{"max_frame_bytes", "65536"},
//                       {"sync", "true", SB_CONFIG_BOOL}};
//   vt->check_config(cfg.get(), &st);
class PluginConfigAbi {
 public:
  PluginConfigAbi();  // an empty sb_config
  explicit PluginConfigAbi(const std::vector<PluginConfigEntry>& entries);
  PluginConfigAbi(std::initializer_list<PluginConfigEntry> entries);
  ~PluginConfigAbi();
  PluginConfigAbi(PluginConfigAbi&&) noexcept;
  PluginConfigAbi& operator=(PluginConfigAbi&&) noexcept;
  PluginConfigAbi(const PluginConfigAbi&) = delete;
  PluginConfigAbi& operator=(const PluginConfigAbi&) = delete;

  // Borrowed by the plugin for the duration of the call it is passed to.
  const sb_config* get() const;

 private:
  struct Storage;
  std::unique_ptr<Storage> storage_;
};

struct PluginSection {
  std::string table;   // "storage", "consensus", "transport", "classifier"
  std::string plugin;  // a plugin name, or a path when it contains '/'
  // Classifier only: refuse to start if the plugin cannot be loaded or
  // attached (e.g. missing CAP_BPF). Other sections: always false.
  bool required = false;
  // Classifier only: the port unknown sources may reach at the join rate
  // (0 = no join path). Never the node's client, peer or metrics port.
  uint16_t join_port = 0;
  // Whether the table appears in the file (absent: every value is default).
  bool present = false;
  SourcePosition position;                 // of the table header, or FILE:1:1
  SourcePosition plugin_position;          // of `plugin`, or of the table
  std::vector<PluginConfigEntry> entries;  // plugin-owned keys, file order

  // True if `plugin` is a path rather than a name.
  bool PluginIsPath() const;
  // The entry with exactly this dotted key, or nullptr.
  const PluginConfigEntry* Find(const std::string& key) const;
  // The sb_config to pass to the plugin's create/open function.
  PluginConfigAbi ToAbi() const;

  // The position of the section key that `plugin_message` names, if any: a
  // key quoted as 'key', "key" or `key` wins over one that only appears as
  // a whole word; among several, the longest key wins ("tls.ca_file" over
  // "tls").
  std::optional<SourcePosition> Locate(const std::string& plugin_message) const;

  // `status` with "FILE:LINE:COLUMN: [table] plugin 'name': " prefixed to its
  // message, the position being Locate()'s, or the table's when the message
  // names no key of the section. OK stays OK.
  Status AnnotatePluginError(const Status& status) const;
};

}  // namespace sb
