// host/transport/transport.cc — see transport.h.
#include "host/transport/transport.h"

#include "host/plugin/loader.h"

namespace sb {

namespace {

StatusOr<const sb_transport_vtable*> Vtable(
    const std::shared_ptr<PluginLibrary>& library) {
  if (!library || library->kind() != SB_KIND_TRANSPORT) {
    return Status::InvalidArgument("not a transport plugin");
  }
  return static_cast<const sb_transport_vtable*>(library->vtable());
}

}  // namespace

Status Transport::CheckConfig(const std::shared_ptr<PluginLibrary>& library,
                              const sb_config& config) {
  auto vt = Vtable(library);
  if (!vt.ok()) return vt.status();
  if (!SB_HAS_FIELD(*vt, check_config) || (*vt)->check_config == nullptr) {
    return Status::InvalidArgument("transport plugin '" + library->path() +
                                   "' has no check_config");
  }
  sb_status st{};
  sb_code c = (*vt)->check_config(&config, &st);
  return c == SB_OK ? Status::OK() : Status::FromAbi(c, st);
}

StatusOr<std::unique_ptr<Transport>> Transport::Create(
    std::shared_ptr<PluginLibrary> library, const TransportOptions& options,
    DeliverFn deliver) {
  auto vt = Vtable(library);
  if (!vt.ok()) return vt.status();
  std::shared_ptr<const void> keep = library;
  return Create(*vt, std::move(keep), options, std::move(deliver));
}

StatusOr<std::unique_ptr<Transport>> Transport::Create(
    const sb_transport_vtable* vt, std::shared_ptr<const void> keepalive,
    const TransportOptions& options, DeliverFn deliver) {
  if (vt == nullptr || !SB_HAS_FIELD(vt, destroy)) {
    return Status::InvalidArgument(
        "transport vtable is missing or older than this host requires");
  }
  std::unique_ptr<Transport> t(new Transport());
  t->keepalive_ = std::move(keepalive);
  t->vt_ = vt;
  t->deliver_ = std::make_unique<DeliverFn>(std::move(deliver));
  sb_transport_create_args args{};
  args.struct_size = sizeof args;
  args.host = options.host;
  args.config = options.config;
  args.local_node_id = options.local_node_id;
  args.cluster_id = options.cluster_id.c_str();
  args.listen_address = options.listen_address.c_str();
  args.deliver = &Transport::Deliver;
  args.deliver_ctx = t->deliver_.get();
  sb_status st{};
  sb_code c = vt->create(&args, &t->t_, &st);
  if (c != SB_OK) return Status::FromAbi(c, st);
  return t;
}

Transport::~Transport() {
  if (t_ != nullptr) {
    vt_->shutdown(t_);
    vt_->destroy(t_);
  }
}

void Transport::Deliver(void* ctx, uint64_t from, const uint8_t* data,
                        size_t len) {
  (*static_cast<DeliverFn*>(ctx))(
      from, std::string_view(reinterpret_cast<const char*>(data), len));
}

Status Transport::Listen() {
  sb_status st{};
  sb_code c = vt_->listen(t_, &st);
  return c == SB_OK ? Status::OK() : Status::FromAbi(c, st);
}

StatusOr<std::string> Transport::LocalAddress() const {
  std::string out;
  sb_status st{};
  sb_code c = vt_->local_address(
      t_,
      [](void* ctx, const uint8_t* d, size_t n) {
        static_cast<std::string*>(ctx)->assign(reinterpret_cast<const char*>(d),
                                               n);
      },
      &out, &st);
  if (c != SB_OK) return Status::FromAbi(c, st);
  return out;
}

Status Transport::AddPeer(uint64_t id, const std::string& address) {
  sb_status st{};
  sb_code c = vt_->add_peer(t_, id, address.c_str(), &st);
  return c == SB_OK ? Status::OK() : Status::FromAbi(c, st);
}

Status Transport::UpdatePeer(uint64_t id, const std::string& address) {
  sb_status st{};
  sb_code c = vt_->update_peer(t_, id, address.c_str(), &st);
  return c == SB_OK ? Status::OK() : Status::FromAbi(c, st);
}

Status Transport::RemovePeer(uint64_t id) {
  sb_status st{};
  sb_code c = vt_->remove_peer(t_, id, &st);
  return c == SB_OK ? Status::OK() : Status::FromAbi(c, st);
}

Status Transport::Send(uint64_t to, std::string_view msg) {
  sb_status st{};
  sb_code c = vt_->send(
      t_, to,
      sb_bytes{reinterpret_cast<const uint8_t*>(msg.data()), msg.size()}, &st);
  return c == SB_OK ? Status::OK() : Status::FromAbi(c, st);
}

sb_transport_stats Transport::Stats() const {
  sb_transport_stats s{};
  s.struct_size = sizeof s;
  vt_->stats(t_, &s);
  return s;
}

void Transport::Shutdown() { vt_->shutdown(t_); }

}  // namespace sb
