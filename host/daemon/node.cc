#include "host/daemon/node.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "host/api/startup_handlers.h"
#include "host/common/node_number.h"
#include "host/metrics/node_metrics.h"
#include "host/radiant/admin_view.h"
#include "host/radiant/kv_handler.h"
#include "host/transport/peer_message.h"

namespace sb {

namespace {

constexpr char kNodeKeyspace[] = "node";
constexpr char kIdKey[] = "id";
constexpr char kStartsKey[] = "starts";
constexpr char kLayoutKey[] = "layout";

std::string EncodeU64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return s;
}

bool DecodeU64(const std::string& s, uint64_t* v) {
  if (s.size() != 8) return false;
  *v = 0;
  for (unsigned char c : s) *v = (*v << 8) | c;
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<Node>> Node::Start(const NodeConfig& config) {
  std::unique_ptr<Node> node(new Node(config));
  node->layout_ = radiant::Layout::FromConfig(config);
  SB_RETURN_IF_ERROR(node->LockDataDir());

  PluginLoader loader(PluginSearchDirs(config));
  for (const auto& [section, kind] : PluginSections(config)) {
    // The classifier has its own start-up rules (ClassifierManager).
    if (kind == SB_KIND_CLASSIFIER) continue;
    auto loaded = LoadAndCheck(loader, *section, kind);
    if (!loaded.ok()) return loaded.status();
    spdlog::info("loaded {} plugin {} {} (ABI {}.{}) from {}", KindName(kind),
                 loaded->library->name(), loaded->library->version(),
                 loaded->library->info().abi_major,
                 loaded->library->info().abi_minor, loaded->library->path());
    node->plugins_.push_back(std::move(loaded).value());
  }
  SB_RETURN_IF_ERROR(node->OpenStorage(node->plugins_.front()));
  SB_RETURN_IF_ERROR(node->RecordIdentity());
  SB_RETURN_IF_ERROR(node->StartClassifier(loader));
  SB_RETURN_IF_ERROR(node->StartOrders());
  SB_RETURN_IF_ERROR(node->StartApiServer());
  SB_RETURN_IF_ERROR(node->StartMetrics());
  return node;
}

Node::~Node() {
  // Reverse order of start: no Kv call may reach the runtime once it stops,
  // and the runtime's driver writes to storage until it is joined.
  metrics_.reset();  // reads the classifier
  if (api_) api_->Stop();
  api_.reset();
  // No delivery reaches the runtime once the transport's threads stopped;
  // the runtime's driver may still call Send, which then fails harmlessly.
  deliver_to_.store(nullptr);
  if (transport_) transport_->Shutdown();
  if (orders_) orders_->Stop();
  orders_.reset();
  forwarder_.reset();
  transport_.reset();
  transport_services_.reset();
  consensus_services_.reset();
  classifier_.reset();  // detaches its filters
  classifier_services_.reset();
  storage_.reset();
  storage_services_.reset();
  if (lock_fd_ >= 0) close(lock_fd_);
}

Status Node::LockDataDir() {
  std::error_code ec;
  std::filesystem::create_directories(config_.node.data_dir, ec);
  if (ec) {
    return Status::IOError("cannot create data_dir '" + config_.node.data_dir +
                           "': " + ec.message());
  }
  const std::string path = config_.node.data_dir + "/LOCK";
  lock_fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    return Status::IOError("cannot open '" + path + "': " + strerror(errno));
  }
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    return err == EWOULDBLOCK
               ? Status::Unavailable("data_dir '" + config_.node.data_dir +
                                     "' is in use by another shardbearerd")
               : Status::IOError("cannot lock '" + path +
                                 "': " + strerror(err));
  }
  return Status::OK();
}

Status Node::OpenStorage(const LoadedPlugin& plugin) {
  storage_services_ =
      std::make_unique<PluginHostServices>(plugin.library->name());
  PluginConfigAbi cfg = plugin.section->ToAbi();
  auto st = Storage::Open(plugin.library, *storage_services_->table(),
                          config_.node.data_dir + "/storage", *cfg.get());
  if (!st.ok()) return plugin.section->AnnotatePluginError(st.status());
  storage_ = std::make_unique<Storage>(std::move(st).value());
  return Status::OK();
}

Status Node::RecordIdentity() {
  auto ks = storage_->Keyspace(kNodeKeyspace);
  if (!ks.ok()) return ks.status();
  std::string id;
  Status st = storage_->Get(*ks, kIdKey, &id);
  if (st.ok() && id != config_.node.id) {
    return Status::InvalidArgument(
        "data_dir '" + config_.node.data_dir + "' belongs to node '" + id +
        "', but the configuration says node id '" + config_.node.id +
        "'; use that node's configuration or a new data_dir");
  }
  if (!st.ok() && !st.IsNotFound()) return st;

  std::string raw;
  st = storage_->Get(*ks, kStartsKey, &raw);
  if (st.ok() && !DecodeU64(raw, &starts_)) {
    return Status::Corruption("node record 'starts' has " +
                              std::to_string(raw.size()) +
                              " bytes, expected 8");
  }
  if (!st.ok() && !st.IsNotFound()) return st;
  ++starts_;

  // A data directory holds the shards of one layout: another layout would
  // give the stored data to other orders without moving it.
  const std::string digest = layout_.empty() ? "" : layout_.Digest();
  std::string recorded;
  st = storage_->Get(*ks, kLayoutKey, &recorded);
  if (!st.ok() && !st.IsNotFound()) return st;
  if (st.ok() && !digest.empty() && recorded != digest) {
    return Status::InvalidArgument(
        "data_dir '" + config_.node.data_dir + "' holds data of layout " +
        recorded + ", but the configuration's layout is " + digest +
        " (shards, orders or their members changed); a static layout cannot "
        "change under existing data: restore the previous [layout] and "
        "[cluster] shards, or start with an empty data_dir");
  }

  auto batch = storage_->NewBatch();
  if (!batch.ok()) return batch.status();
  SB_RETURN_IF_ERROR(batch->Put(*ks, kIdKey, config_.node.id));
  SB_RETURN_IF_ERROR(batch->Put(*ks, kStartsKey, EncodeU64(starts_)));
  if (!digest.empty() && recorded.empty()) {
    SB_RETURN_IF_ERROR(batch->Put(*ks, kLayoutKey, digest));
  }
  return storage_->Write(*batch, /*sync=*/true);
}

Status Node::StartClassifier(const PluginLoader& loader) {
  if (!config_.classifier) return Status::OK();
  const PluginSection& section = *config_.classifier;
  classifier_services_ = std::make_unique<PluginHostServices>(section.plugin);
  ClassifierPorts ports;
  ports.client = config_.node.listen_client.port;
  ports.peer = config_.node.listen_peer.port;
  // [classifier] join_port (0: none). Nothing listens there yet: joining
  // arrives with the council; until then the admitted SYNs meet a RST.
  ports.join = section.join_port;
  auto manager = ClassifierManager::Start(loader, section,
                                          classifier_services_->table(), ports);
  if (!manager.ok()) return manager.status();
  classifier_ = std::move(manager).value();
  if (!classifier_->enabled()) {
    spdlog::warn("running without the classifier: {}",
                 classifier_->disabled_reason());
    return Status::OK();
  }
  // The layout is the membership: every other radiant may reach the
  // protected ports (its peer and client hosts).
  const uint64_t self = NodeNumber(config_.node.id);
  for (const radiant::LayoutMember& m : layout_.members()) {
    if (m.node == self) continue;
    for (const std::string& address : {m.peer_address, m.client_address}) {
      Status st = classifier_->OnMemberJoined(address);
      if (!st.ok()) {
        spdlog::warn(
            "classifier: radiant {} ({}) not added to the allowlist: {}; list "
            "its network in [classifier] allowed_cidrs",
            m.name, address, st.ToString());
      }
    }
  }
  return Status::OK();
}

const LoadedPlugin* Node::Plugin(uint32_t kind) const {
  for (const auto& p : plugins_) {
    if (p.kind == kind) return &p;
  }
  return nullptr;
}

Status Node::StartOrders() {
  if (layout_.empty()) {
    spdlog::info(
        "no [layout] and not single_node: Kv answers NotReady (this version "
        "forms clusters from a static layout only)");
    return Status::OK();
  }
  const LoadedPlugin* consensus = Plugin(SB_KIND_CONSENSUS);
  const LoadedPlugin* transport = Plugin(SB_KIND_TRANSPORT);
  if (consensus == nullptr || transport == nullptr) {
    return Status::Internal("consensus or transport plugin not loaded");
  }
  const uint64_t self = NodeNumber(config_.node.id);
  const radiant::LayoutMember* me = layout_.Member(self);
  const radiant::LayoutOrder* order =
      me == nullptr ? nullptr : layout_.Order(me->order);
  if (order == nullptr) {
    return Status::Internal("node " + config_.node.id +
                            " is not in its own layout");
  }
  std::vector<uint64_t> peers;
  for (uint64_t m : order->members) {
    if (m != self) peers.push_back(m);
  }

  radiant::OrderRuntimeOptions o;
  o.node_number = self;
  o.order_id = order->id;
  o.members = order->members;
  o.owned_shards = layout_.ShardsOf(order->id);
  o.cluster = config_.cluster;
  o.compaction = config_.compaction;
  o.max_value_bytes = config_.limits.max_value_bytes;
  o.consensus_config = consensus->section->entries;
  if (!peers.empty()) {
    SB_RETURN_IF_ERROR(StartTransport(*transport, peers));
    o.send = [t = transport_.get()](uint64_t to, uint64_t group,
                                    std::string_view message) {
      // A full queue or an unknown peer loses the message; consensus
      // retransmits what matters (the transport counts the drops).
      Status st = t->Send(to, EncodeConsensusMessage(group, message));
      if (!st.ok() && st.code() != Code::kBusy) {
        spdlog::debug("consensus message to node {} not sent: {}", to,
                      st.ToString());
      }
    };
  }
  if (layout_.members().size() > 1) {
    // Other radiants (of this order or others) serve what this one does
    // not: requests go to them one hop.
    radiant::ForwarderOptions fo;
    fo.self = self;
    fo.request_timeout_ms = config_.cluster.request_timeout_ms;
    fo.tls = {config_.node.client_tls_cert_file,
              config_.node.client_tls_key_file,
              config_.node.client_tls_ca_file};
    forwarder_ = std::make_unique<radiant::Forwarder>(&layout_, fo);
  }
  consensus_services_ =
      std::make_unique<PluginHostServices>(consensus->library->name());
  auto rt = radiant::OrderRuntime::Start(o, storage_.get(), consensus->library,
                                         consensus_services_->table());
  if (!rt.ok()) {
    return consensus->section->AnnotatePluginError(
        rt.status().Annotate("order " + std::to_string(order->id)));
  }
  orders_ = std::move(rt).value();
  deliver_to_.store(orders_.get());
  spdlog::info(
      "order {} of {}: shards {}..{} of {}, {} member(s), consensus "
      "'{}'",
      order->id, layout_.orders().size(), order->first_shard,
      order->end_shard - 1, layout_.shards(), order->members.size(),
      consensus->library->name());
  return Status::OK();
}

Status Node::StartTransport(const LoadedPlugin& plugin,
                            const std::vector<uint64_t>& peers) {
  transport_services_ =
      std::make_unique<PluginHostServices>(plugin.library->name());
  PluginConfigAbi cfg = plugin.section->ToAbi();
  TransportOptions to;
  to.local_node_id = NodeNumber(config_.node.id);
  to.cluster_id = layout_.ClusterId();
  to.listen_address = config_.node.listen_peer.ToString();
  to.host = transport_services_->table();
  to.config = cfg.get();
  const uint32_t max_message = config_.limits.max_frame_bytes;
  auto t = Transport::Create(
      plugin.library, to,
      [this, max_message](uint64_t from, std::string_view bytes) {
        // Transport thread: decode, hand over, return.
        auto m = DecodePeerMessage(bytes, max_message);
        if (!m.ok()) {
          spdlog::warn(
              "node {} sent a message that does not decode ({} "
              "bytes): {}",
              from, bytes.size(), m.status().ToString());
          return;
        }
        if (m->kind != PeerMessage::Kind::kConsensus) {
          spdlog::warn(
              "node {} sent a {} message, which this version does "
              "not handle; dropped",
              from, m->other);
          return;
        }
        if (radiant::OrderRuntime* rt = deliver_to_.load()) {
          rt->Deliver(from, m->group, m->payload);
        }
      });
  if (!t.ok()) return plugin.section->AnnotatePluginError(t.status());
  transport_ = std::move(t).value();
  for (uint64_t peer : peers) {
    const radiant::LayoutMember* m = layout_.Member(peer);
    Status st = transport_->AddPeer(peer, m->peer_address);
    if (!st.ok()) {
      return st.Annotate("peer " + m->name + " at " + m->peer_address);
    }
  }
  Status st = transport_->Listen();
  if (!st.ok()) {
    return st.Annotate("peer transport on " +
                       config_.node.listen_peer.ToString());
  }
  spdlog::info("peer transport '{}' on {}, {} peer(s)", plugin.library->name(),
               config_.node.listen_peer.ToString(), peers.size());
  return Status::OK();
}

Status Node::StartApiServer() {
  api::NodeInfo info;
  info.node_id = NodeNumber(config_.node.id);
  info.node_name = config_.node.id;
  info.version = SB_VERSION;
  info.client_address = config_.node.advertise_client.ToString();
  info.peer_address = config_.node.advertise_peer.ToString();
  for (const auto& p : plugins_) {
    info.plugins.push_back(std::string(KindName(p.kind)) + "=" +
                           p.library->name() + " " + p.library->version());
  }
  if (config_.classifier) {
    info.plugins.push_back("classifier=" + config_.classifier->plugin);
  }
  if (classifier_) {
    const ClassifierManager* c = classifier_.get();
    info.classifier_status =
        [c]() -> std::optional<api::wire::ClassifierStatus> {
      const ClassifierReport r = c->Report();
      api::wire::ClassifierStatus s;
      s.plugin = r.plugin;
      s.attached = r.attached;
      s.interface_name = r.interface;
      s.disabled_reason = r.disabled_reason;
      s.allowed = static_cast<int64_t>(r.counters.allowed);
      s.dropped = static_cast<int64_t>(r.counters.dropped);
      s.join_admitted = static_cast<int64_t>(r.counters.join_admitted);
      s.join_limited = static_cast<int64_t>(r.counters.join_limited);
      s.malformed = static_cast<int64_t>(r.counters.malformed);
      s.passed = static_cast<int64_t>(r.counters.passed);
      s.egress_peer_marked =
          static_cast<int64_t>(r.counters.egress_peer_marked);
      s.egress_client_marked =
          static_cast<int64_t>(r.counters.egress_client_marked);
      s.client_port = r.ports.client;
      s.peer_port = r.ports.peer;
      s.join_port = r.ports.join;
      return s;
    };
  }
  std::shared_ptr<api::KvHandler> kv;
  if (orders_) {
    radiant::KvHandlerOptions ko;
    ko.request_timeout_ms = config_.cluster.request_timeout_ms;
    ko.max_value_bytes = config_.limits.max_value_bytes;
    ko.tick_ms = config_.cluster.tick_ms;
    ko.address_of = [this](uint64_t node) {
      const radiant::LayoutMember* m = layout_.Member(node);
      return m == nullptr ? std::string() : m->client_address;
    };
    ko.layout = &layout_;
    ko.forwarder = forwarder_.get();
    kv =
        std::make_shared<radiant::OrderKvHandler>(orders_.get(), std::move(ko));
    info.cluster_id = layout_.ClusterId();
    info.live_status = [rt = orders_.get()](api::wire::NodeStatus* s) {
      radiant::FillLiveStatus(*rt, s);
    };
    info.query_config = [this](int64_t num) {
      return radiant::QueryLayoutConfig(layout_, num, [this](uint64_t order) {
        if (order == orders_->order_id()) return orders_->leader();
        return forwarder_ ? forwarder_->HeraldOf(order) : 0;
      });
    };
    info.changes_unavailable =
        "runs a static layout ([layout] or single_node): changing it needs "
        "the council, which this version does not have";
  } else {
    kv = std::make_shared<api::NotReadyKvHandler>(
        "this radiant does not serve data: it has no [layout] and is not "
        "single_node");
  }
  api_ = std::make_unique<api::ApiServer>(
      std::move(kv),
      std::make_shared<api::StartupAdminHandler>(std::move(info)));
  Status st = api_->Start(api::ApiServerOptionsFromConfig(config_));
  if (!st.ok()) {
    api_.reset();
    return st.Annotate("client API on " +
                       config_.node.listen_client.ToString());
  }
  spdlog::info("serving Kv and Admin on {}", api_->address());
  return Status::OK();
}

Status Node::StartMetrics() {
  if (!config_.metrics.listen) return Status::OK();
  metrics::NodeIdentity id;
  id.node = config_.node.id;
  id.version = SB_VERSION;
  id.starts = starts_;
  id.started = std::chrono::steady_clock::now();
  for (const auto& p : plugins_) {
    id.plugins.push_back(
        {KindName(p.kind), p.library->name(), p.library->version()});
  }
  metrics::AddNodeMetrics(&metrics_registry_, std::move(id));
  if (classifier_) {
    metrics::AddClassifierMetrics(&metrics_registry_, classifier_.get());
  }
  auto server = metrics::MetricsServer::Start(
      *config_.metrics.listen, [this] { return metrics_registry_.Render(); });
  if (!server.ok()) return server.status();
  metrics_ = std::move(server).value();
  spdlog::info("serving metrics on {} (GET /metrics)",
               config_.metrics.listen->ToString());
  return Status::OK();
}

std::string Node::Report() const {
  std::ostringstream out;
  out << "radiant '" << config_.node.id << "' (start #" << starts_ << ")\n"
      << "  data_dir       " << config_.node.data_dir << "\n"
      << "  listen_peer    " << config_.node.listen_peer.ToString() << "\n"
      << "  listen_client  " << config_.node.listen_client.ToString()
      << (api_ ? " (serving Kv and Admin)" : "") << "\n"
      << "  metrics        "
      << (metrics_ ? config_.metrics.listen->ToString() + "/metrics"
                   : std::string("off"))
      << "\n"
      << "  order          "
      << (orders_ ? std::to_string(orders_->order_id()) + " of " +
                        std::to_string(layout_.orders().size()) + " (" +
                        std::to_string(
                            layout_.ShardsOf(orders_->order_id()).size()) +
                        " of " + std::to_string(layout_.shards()) + " shards)"
                  : std::string("none (Kv answers NotReady)"))
      << "\n"
      << "  node number    " << NodeNumber(config_.node.id) << "\n"
      << "  plugins:\n";
  for (const auto& p : plugins_) {
    const auto& info = p.library->info();
    out << "    " << KindName(p.kind) << ": " << info.name << " "
        << info.version << " (ABI " << info.abi_major << "." << info.abi_minor
        << ") " << p.library->path() << "\n";
  }
  out << "  storage durable: " << (storage_->durable() ? "yes" : "no") << "\n";
  if (classifier_) {
    out << "  classifier: " << config_.classifier->plugin << " "
        << (classifier_->enabled()
                ? "attached"
                : "off (" + classifier_->disabled_reason() + ")")
        << "\n";
  }
  return out.str();
}

}  // namespace sb
