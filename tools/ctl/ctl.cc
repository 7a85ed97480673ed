// tools/ctl/ctl.cc — see ctl.h.
#include "tools/ctl/ctl.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <ostream>
#include <sstream>

#include "shardbearer/connection.h"
#include "shardbearer/wire/Admin.h"
#include "tools/common/json_quote.h"

namespace sb::ctl {
namespace {

namespace w = ::shardbearer::wire;

struct Options {
  std::string address = kDefaultAddress;
  std::string tls_cert, tls_key, tls_ca;
  int timeout_ms = 10000;
  bool json = false;
  std::string command;
  std::vector<std::string> args;
};

// Parses a decimal integer in [min, max]; false on anything else.
bool ParseInt(const std::string& text, int64_t min, int64_t max, int64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0' || v < min || v > max) {
    return false;
  }
  *out = v;
  return true;
}

// Flags may come before or after the command. Returns "" or the problem.
std::string ParseArgs(const std::vector<std::string>& args, Options* o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string name = a, value;
    bool has_value = false;
    if (a.rfind("--", 0) == 0) {
      if (size_t eq = a.find('='); eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        has_value = true;
      }
    }
    auto take = [&](std::string* dst) -> std::string {
      if (!has_value) {
        if (i + 1 >= args.size()) return name + " needs a value";
        value = args[++i];
      }
      if (value.empty()) return name + " needs a non-empty value";
      *dst = value;
      return "";
    };
    std::string problem;
    if (name == "--address" || name == "-a") {
      problem = take(&o->address);
    } else if (name == "--tls-cert") {
      problem = take(&o->tls_cert);
    } else if (name == "--tls-key") {
      problem = take(&o->tls_key);
    } else if (name == "--tls-ca") {
      problem = take(&o->tls_ca);
    } else if (name == "--timeout-ms") {
      std::string t;
      problem = take(&t);
      int64_t v = 0;
      if (problem.empty() && !ParseInt(t, 1, 3600000, &v)) {
        problem = "--timeout-ms: '" + t +
                  "' is not a number of ms in "
                  "1..3600000";
      }
      o->timeout_ms = static_cast<int>(v);
    } else if (name == "--json") {
      if (has_value) problem = "--json takes no value";
      o->json = true;
    } else if (a == "--") {
      for (++i; i < args.size(); ++i) {
        (o->command.empty() ? o->command : o->args.emplace_back()) = args[i];
      }
    } else if (a.size() > 1 && a[0] == '-' &&
               !std::isdigit(static_cast<unsigned char>(a[1]))) {
      problem = "unknown flag '" + a + "'";
    } else if (o->command.empty()) {
      o->command = a;
    } else {
      o->args.push_back(a);
    }
    if (!problem.empty()) return problem;
  }
  if (o->command.empty()) return "no command given";
  const int tls_given =
      !o->tls_cert.empty() + !o->tls_key.empty() + !o->tls_ca.empty();
  if (tls_given != 0 && tls_given != 3) {
    return "TLS needs all of --tls-cert, --tls-key and --tls-ca";
  }
  return "";
}

std::string RoleName(w::NodeRole::type role) {
  auto it = w::_NodeRole_VALUES_TO_NAMES.find(role);
  return it == w::_NodeRole_VALUES_TO_NAMES.end()
             ? "UNKNOWN(" + std::to_string(static_cast<int>(role)) + ")"
             : it->second;
}

std::string Duration(int64_t ms) {
  if (ms < 0) ms = 0;
  char buf[64];
  const int64_t s = ms / 1000;
  std::snprintf(buf, sizeof buf,
                "%" PRId64 "d %02" PRId64 ":%02" PRId64 ":%02" PRId64
                ".%03" PRId64,
                s / 86400, (s / 3600) % 24, (s / 60) % 60, s % 60, ms % 1000);
  return buf;
}

// A tiny JSON object writer (keys in insertion order).
class Json {
 public:
  Json& Str(const std::string& k, const std::string& v) {
    return Raw(k, JsonString(v));
  }
  Json& Int(const std::string& k, int64_t v) {
    return Raw(k, std::to_string(v));
  }
  Json& Bool(const std::string& k, bool v) {
    return Raw(k, v ? "true" : "false");
  }
  Json& Raw(const std::string& k, const std::string& v) {
    out_ += (out_.empty() ? "{" : ",") + JsonString(k) + ":" + v;
    return *this;
  }
  std::string Done() const { return out_.empty() ? "{}" : out_ + "}"; }

 private:
  std::string out_;
};

template <typename T, typename F>
std::string JsonArray(const std::vector<T>& v, F f) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + f(v[i]);
  return out + "]";
}

std::string ClassifierJson(const w::ClassifierStatus& c) {
  return Json()
      .Str("plugin", c.plugin)
      .Bool("attached", c.attached)
      .Str("interface", c.interface_name)
      .Str("disabled_reason", c.disabled_reason)
      .Int("client_port", c.client_port)
      .Int("peer_port", c.peer_port)
      .Int("join_port", c.join_port)
      .Int("allowed", c.allowed)
      .Int("dropped", c.dropped)
      .Int("join_admitted", c.join_admitted)
      .Int("join_limited", c.join_limited)
      .Int("malformed", c.malformed)
      .Int("passed", c.passed)
      .Int("egress_peer_marked", c.egress_peer_marked)
      .Int("egress_client_marked", c.egress_client_marked)
      .Done();
}

std::string ResultJson(const w::AdminResult& r) {
  return Json()
      .Int("config_num", r.config_num)
      .Str("message", r.message)
      .Done();
}

// The outcome of one Admin call.
struct Outcome {
  int code = kExitOk;
  std::string text;   // printed on stdout on success
  std::string error;  // printed on stderr otherwise
};

// Calls `fn` and maps the typed errors of the Admin service.
Outcome Call(const std::function<std::string()>& fn,
             const std::string& address) {
  Outcome o;
  try {
    o.text = fn();
  } catch (const w::NotReady& e) {
    o.code = kExitServerError;
    o.error = "NotReady: " + e.message + " (retry after " +
              std::to_string(e.retry_after_ms) + " ms)";
  } catch (const w::WrongLeader& e) {
    o.code = kExitServerError;
    o.error = "WrongLeader: " + e.message +
              (e.leader_hint.empty() ? std::string()
                                     : " (leader: " + e.leader_hint + ")");
  } catch (const w::Timeout& e) {
    o.code = kExitServerError;
    o.error = "Timeout: " + e.message + " (the outcome is unknown)";
  } catch (const w::InvalidArgument& e) {
    o.code = kExitServerError;
    o.error = "InvalidArgument: " + e.message;
  } catch (const apache::thrift::TApplicationException& e) {
    o.code = kExitServerError;
    o.error = std::string("the node refused the call: ") + e.what();
  } catch (const std::exception& e) {
    o.code = kExitUnreachable;
    o.error = "connection to " + address + " failed: " + e.what();
  }
  return o;
}

// Subcommands: name, arguments, what they do.
struct Command {
  const char* name;
  const char* args;
  const char* help;
  size_t min_args, max_args;
};

const Command kCommands[] = {
    {"status", "", "this node's status, with the classifier's counters", 0, 0},
    {"config", "[NUM]", "configuration NUM (default: the latest)", 0, 1},
    {"init", "[CLUSTER_ID]", "form a new cluster with this node", 0, 1},
    {"join", "NODE_ID CLIENT_ADDR PEER_ADDR", "register a radiant", 3, 3},
    {"leave", "NODE_ID", "graceful leave of a radiant", 1, 1},
    {"move", "SHARD ORDER_ID", "assign a shard to an order", 2, 2},
    {"drain", "NODE_ID", "move a radiant's roles away, keep it as spare", 1, 1},
    {"remove", "NODE_ID", "forget a radiant that is gone for good", 1, 1},
    {"pause", "", "pause every autonomous action", 0, 0},
    {"resume", "", "resume autonomous actions", 0, 0},
};

}  // namespace

std::string JsonString(const std::string& s) { return tools::JsonQuote(s); }

std::string Usage() {
  std::ostringstream u;
  u << "usage: shardbearer-ctl [flags] COMMAND [ARGS]\n\nflags:\n"
    << "  --address HOST:PORT  the node's client port (default "
    << kDefaultAddress << ")\n"
    << "  --tls-cert FILE --tls-key FILE --tls-ca FILE\n"
    << "                       mutual TLS (all three, as the node's [api])\n"
    << "  --timeout-ms N       connect and call timeout (default 10000)\n"
    << "  --json               print the answer as JSON\n\ncommands:\n";
  for (const Command& c : kCommands) {
    std::string head = std::string(c.name) + (*c.args ? " " : "") + c.args;
    head.resize(std::max<size_t>(head.size() + 1, 36), ' ');
    u << "  " << head << c.help << "\n";
  }
  u << "\nexit codes: 0 ok, 1 the node answered an error, 2 usage error, "
       "3 node unreachable\n";
  return u.str();
}

std::string StatusText(const w::NodeStatus& s) {
  std::ostringstream o;
  o << "node          " << s.node_name << " (id " << s.node_id << ")\n"
    << "version       " << s.version << "\n"
    << "cluster       " << (s.cluster_id.empty() ? "-" : s.cluster_id) << "\n"
    << "role          " << RoleName(s.role) << "\n"
    << "order         " << s.order_id << "\n"
    << "config        " << s.config_num << "\n"
    << "client        " << s.client_address << "\n"
    << "peer          " << s.peer_address << "\n"
    << "uptime        " << Duration(s.uptime_ms) << "\n"
    << "autonomy      " << (s.autonomy_paused ? "paused" : "running") << "\n"
    << "plugins\n";
  for (const std::string& p : s.plugins) o << "  " << p << "\n";
  if (!s.__isset.classifier) {
    o << "classifier    not configured\n";
    return o.str();
  }
  const w::ClassifierStatus& c = s.classifier;
  o << "classifier    " << c.plugin << " on "
    << (c.interface_name.empty() ? "-" : c.interface_name) << ": "
    << (c.attached ? "attached" : "NOT attached") << "\n";
  if (!c.disabled_reason.empty()) {
    o << "  reason      " << c.disabled_reason << "\n";
  }
  o << "  ports       client " << c.client_port << ", peer " << c.peer_port
    << ", join "
    << (c.join_port == 0 ? std::string("none") : std::to_string(c.join_port))
    << "\n";
  if (c.attached) {
    o << "  ingress     allowed " << c.allowed << ", dropped " << c.dropped
      << ", malformed " << c.malformed << ", passed " << c.passed << "\n"
      << "  join        admitted " << c.join_admitted << ", limited "
      << c.join_limited << "\n"
      << "  egress      peer marked " << c.egress_peer_marked
      << ", client marked " << c.egress_client_marked << "\n";
  }
  return o.str();
}

std::string StatusJson(const w::NodeStatus& s) {
  Json j;
  j.Int("node_id", s.node_id)
      .Str("node_name", s.node_name)
      .Str("version", s.version)
      .Str("cluster_id", s.cluster_id)
      .Str("role", RoleName(s.role))
      .Int("order_id", s.order_id)
      .Int("config_num", s.config_num)
      .Str("client_address", s.client_address)
      .Str("peer_address", s.peer_address)
      .Int("uptime_ms", s.uptime_ms)
      .Bool("autonomy_paused", s.autonomy_paused)
      .Raw("plugins", JsonArray(s.plugins, JsonString))
      .Raw("classifier",
           s.__isset.classifier ? ClassifierJson(s.classifier) : "null");
  return j.Done();
}

std::string ConfigText(const w::Configuration& c) {
  std::ostringstream o;
  o << "configuration " << c.num << ", " << c.shards << " shards"
    << (c.autonomy_paused ? ", autonomy paused" : "") << "\n";
  o << "radiants\n";
  for (const w::Radiant& r : c.radiants) {
    o << "  " << r.node_id << " " << r.node_name << " client "
      << r.client_address << " peer " << r.peer_address << "\n";
  }
  o << "orders\n";
  for (const w::Order& ord : c.orders) {
    size_t owned = 0;
    for (int64_t owner : c.shard_owner) owned += owner == ord.order_id;
    o << "  " << ord.order_id << " herald " << ord.herald << " members";
    for (int64_t m : ord.members) o << " " << m;
    o << ", " << owned << " shards\n";
  }
  size_t unassigned = 0;
  for (int64_t owner : c.shard_owner) unassigned += owner == 0;
  o << "unassigned shards " << unassigned << "\n";
  o << "spares";
  for (int64_t s : c.spares) o << " " << s;
  o << "\n";
  return o.str();
}

std::string ConfigJson(const w::Configuration& c) {
  auto num = [](int64_t v) { return std::to_string(v); };
  return Json()
      .Int("num", c.num)
      .Int("shards", c.shards)
      .Raw("shard_owner", JsonArray(c.shard_owner, num))
      .Raw("orders", JsonArray(c.orders,
                               [&](const w::Order& o) {
                                 return Json()
                                     .Int("order_id", o.order_id)
                                     .Raw("members", JsonArray(o.members, num))
                                     .Int("herald", o.herald)
                                     .Done();
                               }))
      .Raw("radiants", JsonArray(c.radiants,
                                 [](const w::Radiant& r) {
                                   return Json()
                                       .Int("node_id", r.node_id)
                                       .Str("node_name", r.node_name)
                                       .Str("client_address", r.client_address)
                                       .Str("peer_address", r.peer_address)
                                       .Done();
                                 }))
      .Raw("spares", JsonArray(c.spares, num))
      .Bool("autonomy_paused", c.autonomy_paused)
      .Done();
}

int Run(const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h" || a == "help") {
      out << Usage();
      return kExitOk;
    }
  }
  Options o;
  if (std::string problem = ParseArgs(args, &o); !problem.empty()) {
    err << "shardbearer-ctl: " << problem << "\n\n" << Usage();
    return kExitUsage;
  }
  const Command* cmd = nullptr;
  for (const Command& c : kCommands) {
    if (o.command == c.name) cmd = &c;
  }
  auto usage_error = [&](const std::string& what) {
    err << "shardbearer-ctl: " << what << "\n\n" << Usage();
    return kExitUsage;
  };
  if (cmd == nullptr) return usage_error("unknown command '" + o.command + "'");
  if (o.args.size() < cmd->min_args || o.args.size() > cmd->max_args) {
    return usage_error(std::string("usage: shardbearer-ctl ") + cmd->name +
                       (*cmd->args ? " " : "") + cmd->args);
  }
  // Arguments are checked before anything is sent.
  std::vector<int64_t> nums;
  const std::string& c = o.command;
  if (c == "config" || c == "leave" || c == "drain" || c == "remove" ||
      c == "join" || c == "move") {
    size_t count = c == "move" ? 2 : c == "join" ? 1 : o.args.size();
    for (size_t i = 0; i < count; ++i) {
      int64_t v = 0;
      const int64_t max = c == "move" && i == 0 ? 65535 : INT64_MAX;
      if (!ParseInt(o.args[i], c == "config" ? -1 : 0, max, &v)) {
        return usage_error(c + ": '" + o.args[i] +
                           "' is not a valid number (expected " +
                           (c == "move" && i == 0 ? "a shard 0..65535"
                            : c == "config"       ? "a number >= -1"
                                                  : "a number >= 0") +
                           ")");
      }
      nums.push_back(v);
    }
  }

  auto tls = sb::client::LoadClientTls(o.tls_cert, o.tls_key, o.tls_ca);
  if (!tls.ok()) return usage_error(tls.error().message);
  sb::client::ConnectOptions co;
  co.address = o.address;
  co.connect_timeout_ms = o.timeout_ms;
  co.request_timeout_ms = o.timeout_ms;
  auto conn = sb::client::Connection::Open(co, tls.value());
  if (!conn.ok()) {
    if (conn.error().code == sb::client::ErrorCode::kInvalidArgument) {
      return usage_error("--address: " + conn.error().message);
    }
    err << "shardbearer-ctl: " << conn.error().message << "\n";
    return kExitUnreachable;
  }
  w::AdminClient admin(conn.value()->protocol());
  auto result = [&](const w::AdminResult& r) {
    return o.json ? ResultJson(r) + "\n"
                  : "ok: configuration " + std::to_string(r.config_num) +
                        (r.message.empty() ? "" : ": " + r.message) + "\n";
  };
  Outcome outcome = Call(
      [&]() -> std::string {
        w::AdminResult r;
        if (c == "status") {
          w::NodeStatus s;
          admin.status(s);
          return o.json ? StatusJson(s) + "\n" : StatusText(s);
        }
        if (c == "config") {
          w::Configuration cfg;
          admin.query_config(cfg, nums.empty() ? -1 : nums[0]);
          return o.json ? ConfigJson(cfg) + "\n" : ConfigText(cfg);
        }
        if (c == "init") {
          w::InitRequest req;
          if (!o.args.empty()) req.cluster_id = o.args[0];
          admin.init(r, req);
        } else if (c == "join") {
          w::JoinRequest req;
          req.node_id = nums[0];
          req.client_address = o.args[1];
          req.peer_address = o.args[2];
          admin.join(r, req);
        } else if (c == "move") {
          w::MoveRequest req;
          req.shard = static_cast<int32_t>(nums[0]);
          req.order_id = nums[1];
          admin.move(r, req);
        } else if (c == "pause") {
          admin.pause_autonomy(r);
        } else if (c == "resume") {
          admin.resume_autonomy(r);
        } else {
          w::NodeRequest req;
          req.node_id = nums[0];
          if (c == "leave") admin.leave(r, req);
          if (c == "drain") admin.drain(r, req);
          if (c == "remove") admin.remove_node(r, req);
        }
        return result(r);
      },
      o.address);
  if (outcome.code != kExitOk) {
    err << "shardbearer-ctl: " << outcome.error << "\n";
    return outcome.code;
  }
  out << outcome.text;
  return kExitOk;
}

}  // namespace sb::ctl
