#include "host/classifier/classifier_manager.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <string_view>

namespace sb {
namespace {

// Canonical "addr/len" of an address when it is a host prefix, else "".
std::string CanonicalHost(std::string_view text, int* family) {
  std::string host(text);
  uint8_t buf[16];
  char out[INET6_ADDRSTRLEN] = {};
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    inet_ntop(AF_INET, buf, out, sizeof out);
    *family = 4;
    return std::string(out) + "/32";
  }
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; their
    // packets arrive as IPv4, so allow the IPv4 address.
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                        0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(buf, kMapped, sizeof kMapped) == 0) {
      inet_ntop(AF_INET, buf + 12, out, sizeof out);
      *family = 4;
      return std::string(out) + "/32";
    }
    inet_ntop(AF_INET6, buf, out, sizeof out);
    *family = 6;
    return std::string(out) + "/128";
  }
  return "";
}

// Host prefixes ("a/32", "b/128", bare addresses) among the section's
// allowed_cidrs, canonicalised. Wider prefixes are not members' own entries
// and are ignored here.
std::set<std::string> StaticHostPrefixes(const PluginSection& section) {
  std::set<std::string> out;
  const PluginConfigEntry* e = section.Find("allowed_cidrs");
  if (e == nullptr) return out;
  std::string_view v = e->value;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::string_view len;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      len = item.substr(slash + 1);
      item = item.substr(0, slash);
    }
    int family = 0;
    std::string canon = CanonicalHost(item, &family);
    if (!canon.empty() && (len.empty() || (family == 4 && len == "32") ||
                           (family == 6 && len == "128"))) {
      out.insert(canon);
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

StatusOr<std::string> ClassifierManager::HostPrefix(
    const std::string& address) {
  std::string_view host = address;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("member address '" + address +
                                     "': missing ']'");
    }
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.find(':');
             colon != std::string_view::npos && colon == host.rfind(':')) {
    host = host.substr(0, colon);  // "a.b.c.d:port" or "name:port"
  }
  int family = 0;
  std::string canon = CanonicalHost(host, &family);
  if (canon.empty()) {
    return Status::InvalidArgument("member address '" + address +
                                   "' is not an IP address");
  }
  return canon;
}

StatusOr<std::unique_ptr<ClassifierManager>> ClassifierManager::Start(
    const PluginLoader& loader, const PluginSection& section,
    const sb_host_services* host, const ClassifierPorts& ports) {
  auto lib = loader.Load(section.plugin, SB_KIND_CLASSIFIER);
  if (!lib.ok()) {
    return Describe(StartFailed(section, lib.status(), true), section, ports);
  }
  return Start(std::move(lib).value(), section, host, ports);
}

StatusOr<std::unique_ptr<ClassifierManager>> ClassifierManager::Start(
    std::shared_ptr<PluginLibrary> lib, const PluginSection& section,
    const sb_host_services* host, const ClassifierPorts& ports) {
  PluginConfigAbi cfg = section.ToAbi();
  return Describe(
      StartCreated(Classifier::Create(std::move(lib), host, *cfg.get()),
                   section, ports),
      section, ports);
}

StatusOr<std::unique_ptr<ClassifierManager>> ClassifierManager::StartWithVtable(
    std::shared_ptr<const void> keepalive, const sb_classifier_vtable* vtable,
    const PluginSection& section, const sb_host_services* host,
    const ClassifierPorts& ports) {
  PluginConfigAbi cfg = section.ToAbi();
  return Describe(StartCreated(Classifier::CreateFromVtable(
                                   std::move(keepalive), vtable, section.plugin,
                                   host, *cfg.get()),
                               section, ports),
                  section, ports);
}

StatusOr<std::unique_ptr<ClassifierManager>> ClassifierManager::Describe(
    StatusOr<std::unique_ptr<ClassifierManager>> started,
    const PluginSection& section, const ClassifierPorts& ports) {
  if (!started.ok()) return started;
  ClassifierManager& m = **started;
  m.plugin_ = section.plugin;
  if (const PluginConfigEntry* e = section.Find("interface")) {
    m.interface_ = e->value;
  }
  m.ports_ = ports;
  return started;
}

StatusOr<std::unique_ptr<ClassifierManager>> ClassifierManager::StartCreated(
    StatusOr<std::unique_ptr<Classifier>> created, const PluginSection& section,
    const ClassifierPorts& ports) {
  if (!created.ok()) {
    return StartFailed(section, created.status(),
                       created.status().code() == Code::kPermissionDenied);
  }
  std::unique_ptr<Classifier> c = std::move(created).value();
  Status s = c->SetPorts(ports.client, ports.peer);
  if (s.ok()) s = c->SetJoinPort(ports.join);
  if (s.ok()) s = c->Attach("");
  if (!s.ok()) {
    c.reset();  // releases whatever was loaded or half attached
    return StartFailed(section, s, s.code() == Code::kPermissionDenied);
  }
  spdlog::info(
      "classifier {}: protecting client port {} and peer port {}, join "
      "port {}",
      section.plugin, ports.client, ports.peer, ports.join);
  std::unique_ptr<ClassifierManager> m(new ClassifierManager());
  m->static_prefixes_ = StaticHostPrefixes(section);
  m->classifier_ = std::move(c);
  return m;
}

StatusOr<std::unique_ptr<ClassifierManager>> ClassifierManager::StartFailed(
    const PluginSection& section, const Status& s, bool privilege_or_load) {
  if (!privilege_or_load) return section.AnnotatePluginError(s);
  if (section.required) {
    spdlog::error(
        "classifier {}: {}; [classifier] required = true, so the node "
        "cannot start",
        section.plugin, s.message());
    return Status(s.code(),
                  "classifier '" + section.plugin +
                      "' is required (required = true): " + s.message());
  }
  spdlog::warn(
      "classifier {}: {}; running WITHOUT the classifier (set required = "
      "true to refuse to start instead)",
      section.plugin, s.message());
  std::unique_ptr<ClassifierManager> m(new ClassifierManager());
  m->disabled_reason_ = s.message();
  return m;
}

ClassifierManager::~ClassifierManager() = default;

bool ClassifierManager::enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return classifier_ != nullptr;
}

std::string ClassifierManager::disabled_reason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return disabled_reason_;
}

Status ClassifierManager::OnMemberJoined(const std::string& address) {
  auto prefix = HostPrefix(address);
  if (!prefix.ok()) return prefix.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (classifier_ == nullptr) return Status::OK();
  int& count = members_[*prefix];
  if (count == 0) {
    Status s = classifier_->AllowCidr(*prefix);
    if (!s.ok()) {
      members_.erase(*prefix);
      return s.Annotate("allowing member " + address);
    }
  }
  ++count;
  return Status::OK();
}

Status ClassifierManager::OnMemberRemoved(const std::string& address) {
  auto prefix = HostPrefix(address);
  if (!prefix.ok()) return prefix.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (classifier_ == nullptr) return Status::OK();
  auto it = members_.find(*prefix);
  if (it == members_.end()) {
    return Status::NotFound("member " + address + " is not on the allowlist");
  }
  if (--it->second > 0) return Status::OK();
  members_.erase(it);
  // A host prefix the operator listed in allowed_cidrs stays.
  if (static_prefixes_.count(*prefix) != 0) return Status::OK();
  Status s = classifier_->RemoveCidr(*prefix);
  if (s.IsNotFound()) return Status::OK();  // already gone: same outcome
  return s.ok() ? s : s.Annotate("removing member " + address);
}

StatusOr<ClassifierCounters> ClassifierManager::Counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (classifier_ == nullptr) {
    return Status::Unavailable("classifier not running: " + disabled_reason_);
  }
  return classifier_->Counters();
}

ClassifierReport ClassifierManager::Report() const {
  ClassifierReport r;
  r.plugin = plugin_;
  r.interface = interface_;
  r.ports = ports_;
  std::lock_guard<std::mutex> lock(mu_);
  if (classifier_ == nullptr) {
    r.disabled_reason = disabled_reason_;
    return r;
  }
  r.attached = true;
  auto c = classifier_->Counters();
  if (!c.ok()) {
    r.disabled_reason = "counters unreadable: " + c.status().message();
    return r;
  }
  r.counters = *c;
  return r;
}

}  // namespace sb
