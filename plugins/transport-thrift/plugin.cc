// plugins/transport-thrift/plugin.cc — the entry symbol and the C vtable
// over ThriftTransport. No exception crosses the ABI: every entry point
// catches and reports SB_INTERNAL.
#include <csignal>
#include <exception>

#include "plugins/transport-thrift/thrift_transport.h"
#include "shardbearer/abi/transport.h"

struct sb_transport {
  sb::transport_thrift::ThriftTransport* impl;
};

namespace {

using sb::transport_thrift::ThriftTransport;

#define SB_GUARD(st, body)                                                    \
  try {                                                                       \
    body                                                                      \
  } catch (const std::exception& e) {                                         \
    return sb_status_set(st, SB_INTERNAL, "transport-thrift: %s", e.what());  \
  } catch (...) {                                                             \
    return sb_status_set(st, SB_INTERNAL, "transport-thrift: unknown error"); \
  }

sb_code CheckConfig(const sb_config* cfg, sb_status* st){
    SB_GUARD(st,
             {
               sb::transport_thrift::Options o;
               return sb::transport_thrift::ParseOptions(cfg, &o, st);
             })}

sb_code Create(const sb_transport_create_args* args, sb_transport** out,
               sb_status* st){SB_GUARD(st,
                                       {
                                         // A peer closing mid-write must be an
                                         // error return, not a signal.
                                         std::signal(SIGPIPE, SIG_IGN);
                                         ThriftTransport* impl = nullptr;
                                         sb_code c = ThriftTransport::Create(
                                             args, &impl, st);
                                         if (c != SB_OK) return c;
                                         *out = new sb_transport{impl};
                                         return SB_OK;
                                       })}

sb_code Listen(sb_transport* t,
               sb_status* st){SB_GUARD(st, { return t->impl->Listen(st); })}

sb_code
    LocalAddress(sb_transport* t, sb_bytes_sink sink, void* ctx, sb_status* st){
        SB_GUARD(st, { return t->impl->LocalAddress(sink, ctx, st); })}

sb_code AddPeer(sb_transport* t, uint64_t id, const char* addr, sb_status* st){
    SB_GUARD(st, { return t->impl->AddPeer(id, addr, st); })}

sb_code
    UpdatePeer(sb_transport* t, uint64_t id, const char* addr, sb_status* st){
        SB_GUARD(st, { return t->impl->UpdatePeer(id, addr, st); })}

sb_code RemovePeer(sb_transport* t, uint64_t id, sb_status* st){
    SB_GUARD(st, { return t->impl->RemovePeer(id, st); })}

sb_code Send(sb_transport* t, uint64_t to, sb_bytes msg, sb_status* st) {
  SB_GUARD(st, { return t->impl->Send(to, msg, st); })
}

void Stats(sb_transport* t, sb_transport_stats* out) {
  if (t != nullptr && out != nullptr) t->impl->FillStats(out);
}

void Shutdown(sb_transport* t) {
  if (t == nullptr) return;
  try {
    t->impl->Shutdown();
  } catch (...) {
  }
}

void Destroy(sb_transport* t) {
  if (t == nullptr) return;
  try {
    delete t->impl;
  } catch (...) {
  }
  delete t;
}

const sb_transport_vtable kVtable = {
    sizeof(sb_transport_vtable),
    CheckConfig,
    Create,
    Listen,
    LocalAddress,
    AddPeer,
    UpdatePeer,
    RemovePeer,
    Send,
    Stats,
    Shutdown,
    Destroy,
};

const sb_plugin_info kInfo = {
    sizeof(sb_plugin_info),
    SB_PLUGIN_MAGIC,
    SB_ABI_MAJOR,
    SB_ABI_MINOR,
    SB_KIND_TRANSPORT,
    "transport-thrift",
    "1.0.0",
    "Thrift framed/binary peer transport with batching, backoff and mutual "
    "TLS",
    &kVtable,
};

}  // namespace

extern "C" SB_PLUGIN_EXPORT const sb_plugin_info* shardbearer_plugin_entry(
    void) {
  return &kInfo;
}
