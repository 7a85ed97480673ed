// host/radiant/admin_view.h — what Admin answers about a radiant that runs
// an order: its live status fields and the cluster configuration of its
// static layout (configuration number kStaticConfigNum).
//
// Thread safety: pure functions over their arguments; the herald lookup
// must be safe to call from the calling thread.
#pragma once

#include <cstdint>
#include <functional>

#include "host/api/handlers.h"
#include "host/radiant/layout.h"
#include "host/radiant/order_runtime.h"

namespace sb::radiant {

// role (HERALD when this node leads its order, else RADIANT), order_id and
// config_num of `status`.
void FillLiveStatus(const OrderRuntime& runtime, api::wire::NodeStatus* status);

// Admin.query_config(num) on a static layout: num < 0 or kStaticConfigNum
// answer the layout, any other number InvalidArgument. `herald_of(order)`
// is the node number of the order's herald as far as this node knows (0:
// unknown).
api::ApiOr<api::wire::Configuration> QueryLayoutConfig(
    const Layout& layout, int64_t num,
    const std::function<uint64_t(uint64_t order)>& herald_of);

}  // namespace sb::radiant
