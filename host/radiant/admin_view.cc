// host/radiant/admin_view.cc — see admin_view.h.
#include "host/radiant/admin_view.h"

#include <string>

namespace sb::radiant {

namespace wire = api::wire;

void FillLiveStatus(const OrderRuntime& runtime, wire::NodeStatus* status) {
  const bool herald = runtime.leader() == runtime.node_number();
  status->role = herald ? wire::NodeRole::HERALD : wire::NodeRole::RADIANT;
  status->order_id = static_cast<int64_t>(runtime.order_id());
  status->config_num = kStaticConfigNum;
}

api::ApiOr<wire::Configuration> QueryLayoutConfig(
    const Layout& layout, int64_t num,
    const std::function<uint64_t(uint64_t order)>& herald_of) {
  if (num >= 0 && num != kStaticConfigNum) {
    return api::ApiError::InvalidArgument(
        "configuration " + std::to_string(num) +
        " does not exist: this cluster runs a static layout, configuration " +
        std::to_string(kStaticConfigNum));
  }
  wire::Configuration c;
  c.num = kStaticConfigNum;
  c.shards = static_cast<int32_t>(layout.shards());
  c.shard_owner.reserve(layout.shards());
  for (uint32_t s = 0; s < layout.shards(); ++s) {
    c.shard_owner.push_back(static_cast<int64_t>(layout.OwnerOf(s)));
  }
  for (const LayoutOrder& o : layout.orders()) {
    wire::Order w;
    w.order_id = static_cast<int64_t>(o.id);
    for (uint64_t m : o.members) w.members.push_back(static_cast<int64_t>(m));
    w.herald = static_cast<int64_t>(herald_of ? herald_of(o.id) : 0);
    c.orders.push_back(std::move(w));
  }
  for (const LayoutMember& m : layout.members()) {
    wire::Radiant r;
    r.node_id = static_cast<int64_t>(m.node);
    r.client_address = m.client_address;
    r.peer_address = m.peer_address;
    r.node_name = m.name;
    c.radiants.push_back(std::move(r));
  }
  c.autonomy_paused = false;
  return c;
}

}  // namespace sb::radiant
