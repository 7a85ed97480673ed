// tests/wire/transport_node.h — one transport-thrift instance under test,
// with the messages it received. Thread safety: Received() and Count() may
// be called while transport threads deliver.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "host/config/plugin_section.h"
#include "host/plugin/loader.h"
#include "host/transport/transport.h"
#include "tests/wire/test_support.h"

namespace sb::test {

inline std::shared_ptr<PluginLibrary> TransportThriftPlugin() {
  PluginLoader loader({SB_PLUGIN_BUILD_DIR});
  auto lib = loader.Load("transport-thrift", SB_KIND_TRANSPORT);
  EXPECT_TRUE(lib.ok()) << lib.status().ToString();
  return lib.ok() ? *lib : nullptr;
}

struct TransportNode {
  LogCapture log;
  std::unique_ptr<Transport> transport;
  std::string address;
  std::mutex mu;
  std::vector<std::pair<uint64_t, std::string>> received;

  // Creates with `cfg` as the [transport] section and (when listen is set)
  // starts listening on 127.0.0.1.
  Status Start(uint64_t id, const std::vector<PluginConfigEntry>& cfg,
               std::string cluster = "test-cluster",
               std::string listen = "127.0.0.1:0") {
    PluginConfigAbi abi(cfg);
    TransportOptions o;
    o.local_node_id = id;
    o.cluster_id = std::move(cluster);
    o.listen_address = std::move(listen);
    o.host = log.services();
    o.config = abi.get();
    auto t = Transport::Create(TransportThriftPlugin(), o,
                               [this](uint64_t from, std::string_view m) {
                                 std::lock_guard<std::mutex> lock(mu);
                                 received.emplace_back(from, std::string(m));
                               });
    if (!t.ok()) return t.status();
    transport = std::move(*t);
    if (o.listen_address.empty()) return Status::OK();
    SB_RETURN_IF_ERROR(transport->Listen());
    auto a = transport->LocalAddress();
    if (!a.ok()) return a.status();
    address = *a;
    return Status::OK();
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return received.size();
  }
  std::vector<std::pair<uint64_t, std::string>> Received() {
    std::lock_guard<std::mutex> lock(mu);
    return received;
  }
};

}  // namespace sb::test
