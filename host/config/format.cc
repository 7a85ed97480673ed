// FormatConfig(): the effective configuration written back as TOML.
#include <cctype>
#include <cstdio>
#include <string>

#include "host/config/config.h"

namespace sb {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;  // UTF-8 passes through (the input was valid UTF-8)
        }
    }
  }
  return out + "\"";
}

// A dotted plugin key: bare segments stay bare, others are quoted.
std::string Key(std::string_view dotted) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string_view seg = dotted.substr(start, dot == std::string_view::npos
                                                    ? std::string_view::npos
                                                    : dot - start);
    bool bare = !seg.empty();
    for (char c : seg) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' &&
          c != '-') {
        bare = false;
      }
    }
    if (!out.empty()) out += '.';
    out += bare ? std::string(seg) : Quote(seg);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string StringArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += Quote(items[i]);
  }
  return out + "]";
}

std::string PluginValue(const PluginConfigEntry& e) {
  switch (e.type) {
    case SB_CONFIG_INTEGER:
    case SB_CONFIG_FLOAT:
    case SB_CONFIG_BOOL:
      return e.value;
    case SB_CONFIG_ARRAY: {
      std::vector<std::string> items;
      size_t start = 0;
      while (!e.value.empty()) {
        size_t comma = e.value.find(',', start);
        items.push_back(e.value.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      return StringArray(items);
    }
    default:
      return Quote(e.value);
  }
}

class Writer {
 public:
  void Table(const char* name) {
    if (!out_.empty()) out_ += "\n";
    out_ += "[" + std::string(name) + "]\n";
  }
  void Raw(std::string_view key, const std::string& value) {
    out_ += std::string(key) + " = " + value + "\n";
  }
  void Str(std::string_view key, std::string_view v) { Raw(key, Quote(v)); }
  void Num(std::string_view key, uint64_t v) { Raw(key, std::to_string(v)); }
  void Bool(std::string_view key, bool v) { Raw(key, v ? "true" : "false"); }
  void Plugin(const PluginSection& s) {
    Table(s.table.c_str());
    Str("plugin", s.plugin);
    if (s.table == "classifier") {
      Bool("required", s.required);
      Num("join_port", s.join_port);
    }
    for (const PluginConfigEntry& e : s.entries)
      Raw(Key(e.key), PluginValue(e));
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string FormatConfig(const NodeConfig& c) {
  Writer w;
  w.Table("node");
  w.Str("id", c.node.id);
  w.Str("data_dir", c.node.data_dir);
  w.Str("listen_peer", c.node.listen_peer.ToString());
  w.Str("listen_client", c.node.listen_client.ToString());
  w.Str("advertise_peer", c.node.advertise_peer.ToString());
  w.Str("advertise_client", c.node.advertise_client.ToString());
  std::vector<std::string> seeds;
  for (const HostPort& s : c.node.seeds) seeds.push_back(s.ToString());
  w.Raw("seeds", StringArray(seeds));
  w.Bool("single_node", c.node.single_node);
  if (!c.node.client_tls_cert_file.empty()) {
    w.Str("client_tls_cert_file", c.node.client_tls_cert_file);
    w.Str("client_tls_key_file", c.node.client_tls_key_file);
    w.Str("client_tls_ca_file", c.node.client_tls_ca_file);
  }

  w.Table("cluster");
  w.Num("shards", c.cluster.shards);
  w.Num("replication_factor", c.cluster.replication_factor);
  w.Num("council_size", c.cluster.council_size);
  w.Num("bootstrap_expect", c.cluster.bootstrap_expect);
  w.Num("tick_ms", c.cluster.tick_ms);
  w.Num("failure_timeout_ms", c.cluster.failure_timeout_ms);
  w.Num("poll_interval_ms", c.cluster.poll_interval_ms);
  w.Num("request_timeout_ms", c.cluster.request_timeout_ms);
  w.Num("session_expiry_ms", c.cluster.session_expiry_ms);
  w.Num("max_sessions_per_shard", c.cluster.max_sessions_per_shard);

  w.Table("limits");
  w.Num("max_key_bytes", c.limits.max_key_bytes);
  w.Num("max_value_bytes", c.limits.max_value_bytes);
  w.Num("max_frame_bytes", c.limits.max_frame_bytes);
  w.Num("max_batch_ops", c.limits.max_batch_ops);

  w.Table("compaction");
  w.Num("log_entries", c.compaction.log_entries);
  w.Num("log_bytes", c.compaction.log_bytes);

  if (!c.layout.radiants.empty()) {
    w.Table("layout");
    std::string list = "[\n";
    for (const LayoutRadiant& r : c.layout.radiants) {
      list += "  { id = " + Quote(r.id) +
              ", order = " + std::to_string(r.order) +
              ", peer = " + Quote(r.peer.ToString()) +
              ", client = " + Quote(r.client.ToString()) + " },\n";
    }
    w.Raw("radiants", list + "]");
  }

  w.Table("logging");
  w.Str("level", LogLevelName(c.logging.level));
  w.Str("sink", c.logging.sink == LogSink::kFile ? "file" : "stderr");
  if (c.logging.sink == LogSink::kFile) {
    w.Str("file", c.logging.file);
    w.Num("rotate_bytes", c.logging.rotate_bytes);
    w.Num("rotate_files", c.logging.rotate_files);
  }
  w.Str("pattern",
        c.logging.pattern.empty() ? kDefaultLogPattern : c.logging.pattern);

  w.Table("plugins");
  w.Raw("dirs", StringArray(c.plugins.dirs));

  if (c.metrics.listen) {
    w.Table("metrics");
    w.Str("listen", c.metrics.listen->ToString());
  }

  w.Plugin(c.storage);
  w.Plugin(c.consensus);
  w.Plugin(c.transport);
  if (c.classifier) w.Plugin(*c.classifier);
  return w.Take();
}

}  // namespace sb
