#include "host/config/toml_reader.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>
#include <tuple>

namespace sb::config_internal {

SourcePosition PositionOf(const toml::source_region& region,
                          const std::string& file) {
  SourcePosition pos;
  pos.file = file;
  if (region.begin.line > 0) {
    pos.line = region.begin.line;
    pos.column = region.begin.column > 0 ? region.begin.column : 1;
  }
  return pos;
}

Status ErrorAt(const SourcePosition& pos, const std::string& message) {
  return Status::InvalidArgument(pos.ToString() + ": " + message);
}

const char* TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown value";
}

namespace {

// Levenshtein distance, case-insensitive (keys are short: O(n*m) is fine).
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Join(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::string_view s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

}  // namespace

std::string ClosestMatch(std::string_view word,
                         const std::vector<std::string_view>& candidates) {
  // Long words tolerate two edits ("replicaton_factr"), short ones one.
  size_t limit = word.size() <= 4 ? 1 : 2;
  std::string_view best;
  size_t best_distance = limit + 1;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return std::string(best);
}

TableReader::TableReader(const toml::table* table, std::string name,
                         std::string file)
    : table_(table), name_(std::move(name)), file_(std::move(file)) {}

SourcePosition TableReader::position() const {
  if (table_ == nullptr) return PositionOf(toml::source_region{}, file_);
  return PositionOf(table_->source(), file_);
}

const toml::node* TableReader::Find(std::string_view key) const {
  if (table_ == nullptr) return nullptr;
  return table_->get(key);
}

bool TableReader::Has(std::string_view key) const {
  return Find(key) != nullptr;
}

SourcePosition TableReader::KeyPosition(std::string_view key) const {
  if (table_ != nullptr) {
    auto it = table_->find(key);
    if (it != table_->end()) {
      SourcePosition pos = PositionOf(it->first.source(), file_);
      if (it->first.source().begin.line > 0) return pos;
      return PositionOf(it->second.source(), file_);
    }
  }
  return position();
}

SourcePosition TableReader::ValuePosition(std::string_view key) const {
  const toml::node* n = Find(key);
  if (n != nullptr && n->source().begin.line > 0) {
    return PositionOf(n->source(), file_);
  }
  return KeyPosition(key);
}

Status TableReader::Error(std::string_view key, const std::string& what) const {
  return ErrorAt(ValuePosition(key),
                 name_ + "." + std::string(key) + ": " + what);
}

Status TableReader::TypeError(std::string_view key,
                              const char* expected) const {
  return Error(key, std::string("expected ") + expected + ", found " +
                        TypeName(Find(key)->type()));
}

Status TableReader::Require(std::string_view key,
                            const std::string& what) const {
  if (Has(key)) return Status::OK();
  return ErrorAt(position(), "[" + name_ + "]: missing required key '" +
                                 std::string(key) + "' (" + what + ")");
}

Status TableReader::CheckKeys(
    const std::vector<std::string_view>& allowed,
    const std::function<std::string(std::string_view)>& elsewhere) const {
  if (table_ == nullptr) return Status::OK();
  for (const auto& [k, v] : *table_) {
    std::string_view key = k.str();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
      continue;
    }
    std::string msg =
        "unknown key '" + std::string(key) + "' in [" + name_ + "]";
    std::string near = ClosestMatch(key, allowed);
    std::string other = elsewhere ? elsewhere(key) : std::string();
    if (!near.empty()) {
      msg += "; did you mean '" + near + "'?";
    } else if (!other.empty()) {
      msg += "; " + other;
    } else {
      msg += "; expected one of: " + Join(allowed);
    }
    return ErrorAt(KeyPosition(key), msg);
  }
  return Status::OK();
}

Status TableReader::GetString(std::string_view key, std::string* out) const {
  const toml::node* n = Find(key);
  if (n == nullptr) return Status::OK();
  const auto* s = n->as_string();
  if (s == nullptr) return TypeError(key, "a string");
  if (s->get().find('\0') != std::string::npos) {
    return Error(key, "contains a NUL character");
  }
  *out = s->get();
  return Status::OK();
}

Status TableReader::GetBool(std::string_view key, bool* out) const {
  const toml::node* n = Find(key);
  if (n == nullptr) return Status::OK();
  const auto* b = n->as_boolean();
  if (b == nullptr) return TypeError(key, "a boolean (true or false)");
  *out = b->get();
  return Status::OK();
}

Status TableReader::GetInt(std::string_view key, int64_t min, int64_t max,
                           int64_t* out) const {
  const toml::node* n = Find(key);
  if (n == nullptr) return Status::OK();
  const auto* i = n->as_integer();
  if (i == nullptr) {
    return Error(key, "expected an integer in " + std::to_string(min) + ".." +
                          std::to_string(max) + ", found " +
                          TypeName(n->type()));
  }
  int64_t v = i->get();
  if (v < min || v > max) {
    return Error(key, std::to_string(v) + " is out of range; expected " +
                          std::to_string(min) + ".." + std::to_string(max));
  }
  *out = v;
  return Status::OK();
}

Status TableReader::GetStringArray(
    std::string_view key, std::vector<std::string>* out,
    std::vector<SourcePosition>* positions) const {
  const toml::node* n = Find(key);
  if (n == nullptr) return Status::OK();
  const auto* arr = n->as_array();
  if (arr == nullptr) return TypeError(key, "an array of strings");
  std::vector<std::string> values;
  std::vector<SourcePosition> where;
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = *arr->get(i);
    SourcePosition pos = PositionOf(e.source(), file_);
    const auto* s = e.as_string();
    if (s == nullptr) {
      return ErrorAt(pos,
                     name_ + "." + std::string(key) + "[" + std::to_string(i) +
                         "]: expected a string, found " + TypeName(e.type()));
    }
    if (s->get().find('\0') != std::string::npos) {
      return ErrorAt(pos, name_ + "." + std::string(key) + "[" +
                              std::to_string(i) +
                              "]: contains a NUL character");
    }
    values.push_back(s->get());
    where.push_back(pos);
  }
  *out = std::move(values);
  if (positions != nullptr) *positions = std::move(where);
  return Status::OK();
}

Status TableReader::GetAddress(std::string_view key, HostPort* out) const {
  std::string text;
  if (!Has(key)) return Status::OK();
  SB_RETURN_IF_ERROR(GetString(key, &text));
  StatusOr<HostPort> hp = HostPort::Parse(text);
  if (!hp.ok()) return Error(key, hp.status().message());
  *out = std::move(hp.value());
  return Status::OK();
}

// ---- Plugin sections ------------------------------------------------------

namespace {

struct Flattener {
  const std::string& file;
  const std::string& section;
  std::vector<PluginConfigEntry>* out;
  std::map<std::string, SourcePosition> seen;  // flattened key -> position

  Status Fail(const toml::source_region& where, const std::string& key,
              const std::string& what) const {
    return ErrorAt(PositionOf(where, file), section + "." + key + ": " + what);
  }

  // Renders a scalar as the ABI's text form; sets *type.
  Status Render(const toml::node& n, const std::string& key, uint32_t* type,
                std::string* text) const {
    switch (n.type()) {
      case toml::node_type::string:
        *type = SB_CONFIG_STRING;
        *text = n.as_string()->get();
        if (text->find('\0') != std::string::npos) {
          return Fail(n.source(), key, "contains a NUL character");
        }
        return Status::OK();
      case toml::node_type::integer:
        *type = SB_CONFIG_INTEGER;
        *text = std::to_string(n.as_integer()->get());
        return Status::OK();
      case toml::node_type::floating_point: {
        *type = SB_CONFIG_FLOAT;
        char buf[64];
        auto r =
            std::to_chars(buf, buf + sizeof buf, n.as_floating_point()->get());
        *text = std::string(buf, r.ptr);
        // Keep it a TOML float: "3" would read back as an integer.
        if (text->find_first_of(".ein") == std::string::npos) *text += ".0";
        return Status::OK();
      }
      case toml::node_type::boolean:
        *type = SB_CONFIG_BOOL;
        *text = n.as_boolean()->get() ? "true" : "false";
        return Status::OK();
      case toml::node_type::date:
      case toml::node_type::time:
      case toml::node_type::date_time: {
        // Dates and times reach the plugin as their TOML text.
        *type = SB_CONFIG_STRING;
        std::ostringstream os;
        if (const auto* d = n.as_date()) os << *d;
        if (const auto* t = n.as_time()) os << *t;
        if (const auto* dt = n.as_date_time()) os << *dt;
        *text = os.str();
        return Status::OK();
      }
      default:
        return Fail(n.source(), key,
                    std::string("cannot pass ") + TypeName(n.type()) +
                        " to a plugin here");
    }
  }

  Status Add(const toml::key& k, const std::string& key, uint32_t type,
             std::string value) {
    PluginConfigEntry e;
    e.key = key;
    e.type = type;
    e.value = std::move(value);
    e.position = PositionOf(k.source(), file);
    auto [it, inserted] = seen.emplace(key, e.position);
    if (!inserted) {
      return Fail(k.source(), key,
                  "defined twice (also at " + it->second.ToString() +
                      "); a quoted dotted key and a nested table name the "
                      "same plugin key");
    }
    out->push_back(std::move(e));
    return Status::OK();
  }

  Status Value(const toml::key& k, const std::string& key,
               const toml::node& n) {
    if (key.find('\0') != std::string::npos) {
      return Fail(k.source(), "<key>", "key contains a NUL character");
    }
    if (const auto* t = n.as_table()) return Table(*t, key + ".");
    if (const auto* arr = n.as_array()) {
      std::string joined;
      for (size_t i = 0; i < arr->size(); ++i) {
        const toml::node& e = *arr->get(i);
        if (e.is_array() || e.is_table()) {
          return Fail(e.source(), key,
                      "an array passed to a plugin may hold only strings, "
                      "numbers, booleans and dates, found " +
                          std::string(TypeName(e.type())));
        }
        uint32_t type = 0;
        std::string text;
        SB_RETURN_IF_ERROR(Render(e, key, &type, &text));
        if (text.find(',') != std::string::npos) {
          return Fail(e.source(), key,
                      "array element '" + text +
                          "' contains ','; plugin arrays are passed joined "
                          "by ',' so elements cannot contain one");
        }
        if (i > 0) joined += ',';
        joined += text;
      }
      return Add(k, key, SB_CONFIG_ARRAY, std::move(joined));
    }
    uint32_t type = 0;
    std::string text;
    SB_RETURN_IF_ERROR(Render(n, key, &type, &text));
    return Add(k, key, type, std::move(text));
  }

  Status Table(const toml::table& t, const std::string& prefix) {
    for (const auto& [k, v] : t) {
      SB_RETURN_IF_ERROR(Value(k, prefix + std::string(k.str()), v));
    }
    return Status::OK();
  }
};

}  // namespace

Status FlattenPluginTable(const TableReader& reader,
                          const std::vector<std::string_view>& host_keys,
                          std::vector<PluginConfigEntry>* out) {
  out->clear();
  if (!reader.present()) return Status::OK();
  Flattener f{reader.file(), reader.name(), out, {}};
  for (const auto& [k, v] : *reader.table()) {
    if (std::find(host_keys.begin(), host_keys.end(), k.str()) !=
        host_keys.end()) {
      continue;
    }
    SB_RETURN_IF_ERROR(f.Value(k, std::string(k.str()), v));
  }
  // toml++ keeps keys sorted; plugins and operators read them in file order.
  std::stable_sort(out->begin(), out->end(),
                   [](const PluginConfigEntry& a, const PluginConfigEntry& b) {
                     return std::tie(a.position.line, a.position.column) <
                            std::tie(b.position.line, b.position.column);
                   });
  return Status::OK();
}

}  // namespace sb::config_internal
