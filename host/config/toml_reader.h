// host/config/toml_reader.h — typed, position-aware reads from a toml++
// table. Internal to host/config: the rest of the host sees only config.h.
//
// TableReader wraps one table of the file ("node", "cluster", ...) and turns
// every problem into Status::InvalidArgument "FILE:LINE:COLUMN: <table>.<key>:
// what is wrong; what is expected", where the position is that of the value
// (type and range errors), of the key (unknown keys) or of the table
// (missing keys; FILE:1:1 when the table is absent from the file).
//
// Thread safety: a TableReader only reads its table; no shared state.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/status.h"
#include "host/config/address.h"
#include "host/config/plugin_section.h"

namespace sb::config_internal {

// toml++ region -> SourcePosition in `file` (FILE:1:1 for an unknown one).
SourcePosition PositionOf(const toml::source_region& region,
                          const std::string& file);

// InvalidArgument "POS: message".
Status ErrorAt(const SourcePosition& pos, const std::string& message);

// "a string", "an integer", ... for messages.
const char* TypeName(toml::node_type type);

// The candidate closest to `word` if it is a plausible typo of it (edit
// distance at most 1 for short words, 2 otherwise), else "".
std::string ClosestMatch(std::string_view word,
                         const std::vector<std::string_view>& candidates);

class TableReader {
 public:
  // `table` may be null (the table is absent: every getter leaves its
  // output untouched). `name` is the table's dotted name ("node").
  TableReader(const toml::table* table, std::string name, std::string file);

  bool present() const { return table_ != nullptr; }
  const toml::table* table() const { return table_; }
  const std::string& name() const { return name_; }
  const std::string& file() const { return file_; }

  SourcePosition position() const;
  SourcePosition KeyPosition(std::string_view key) const;
  SourcePosition ValuePosition(std::string_view key) const;
  bool Has(std::string_view key) const;

  // InvalidArgument at the value of `key` (or the table): "name.key: what".
  Status Error(std::string_view key, const std::string& what) const;

  // Every key of the table must be in `allowed`. For an unknown key the
  // message suggests a near miss, or `elsewhere(key)` (e.g. "it belongs in
  // [cluster]") when that returns non-empty, or lists the allowed keys.
  Status CheckKeys(
      const std::vector<std::string_view>& allowed,
      const std::function<std::string(std::string_view)>& elsewhere) const;

  // Getters: absent key -> OK, output untouched. Wrong type -> error.
  Status GetString(std::string_view key, std::string* out) const;
  Status GetBool(std::string_view key, bool* out) const;
  Status GetInt(std::string_view key, int64_t min, int64_t max,
                int64_t* out) const;
  template <typename T>
  Status GetUnsigned(std::string_view key, int64_t min, int64_t max,
                     T* out) const {
    int64_t v = 0;
    if (!Has(key)) return Status::OK();
    SB_RETURN_IF_ERROR(GetInt(key, min, max, &v));
    *out = static_cast<T>(v);
    return Status::OK();
  }
  // An array of strings; `positions` (optional) receives each element's.
  Status GetStringArray(std::string_view key, std::vector<std::string>* out,
                        std::vector<SourcePosition>* positions) const;
  Status GetAddress(std::string_view key, HostPort* out) const;
  // Missing required key: error at the table's position.
  Status Require(std::string_view key, const std::string& what) const;

 private:
  const toml::node* Find(std::string_view key) const;
  Status TypeError(std::string_view key, const char* expected) const;

  const toml::table* table_;
  std::string name_;
  std::string file_;
};

// Flattens the plugin-owned keys of plugin table `reader` (every key not in
// `host_keys`) into `out`, in file order: nested tables become dotted keys,
// arrays one SB_CONFIG_ARRAY entry joined by ','. Errors: values the ABI
// cannot carry (NUL in a string, ',' inside an array element, arrays of
// arrays or tables) and dotted keys that collide after flattening.
Status FlattenPluginTable(const TableReader& reader,
                          const std::vector<std::string_view>& host_keys,
                          std::vector<PluginConfigEntry>* out);

}  // namespace sb::config_internal
