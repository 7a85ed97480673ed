// host/api/startup_handlers.h — the Admin handler of a node without a
// council: status answers this node's identity, the classifier's live
// counters (NodeInfo::classifier_status) and, when the node runs an order,
// its live role, order and configuration number (NodeInfo::live_status);
// query_config answers the provider's configuration (a static layout) or
// NotReady; every mutating call answers NotReady with the reason the node
// gives (none of them has a body before the council exists). Also the Kv
// handler of a node that serves no data: every call NotReady.
//
// Thread safety: immutable after construction; the providers must be safe
// to call concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "host/api/handlers.h"

namespace sb::api {

// What a node knows about itself at start.
struct NodeInfo {
  uint64_t node_id = 0;
  std::string node_name;  // [node] id
  std::string version;
  std::string cluster_id;
  std::string client_address;
  std::string peer_address;
  std::vector<std::string> plugins;  // "kind=name version"
  // Fills the live fields of status (role, order_id, config_num); unset:
  // JOINING, 0, 0.
  std::function<void(wire::NodeStatus*)> live_status;
  // Answers query_config; unset: NotReady.
  std::function<ApiOr<wire::Configuration>(int64_t num)> query_config;
  // Why mutating Admin calls cannot be served, in their NotReady answer.
  std::string changes_unavailable = "has not joined a cluster yet";
  // Read on every status call: the classifier's state and counters, or
  // nullopt when the node has no [classifier]. Unset: no classifier.
  std::function<std::optional<wire::ClassifierStatus>()> classifier_status;
};

class NotReadyKvHandler : public KvHandler {
 public:
  explicit NotReadyKvHandler(std::string reason) : reason_(std::move(reason)) {}
  ApiOr<wire::GetResult> Get(const wire::GetRequest&) override { return E(); }
  ApiOr<wire::PutResult> Put(const wire::PutRequest&) override { return E(); }
  ApiOr<wire::AppendResult> Append(const wire::AppendRequest&) override {
    return E();
  }
  ApiOr<wire::DeleteResult> Delete(const wire::DeleteRequest&) override {
    return E();
  }
  ApiOr<wire::CasResult> CompareAndSet(const wire::CasRequest&) override {
    return E();
  }
  ApiOr<wire::MultiGetResult> MultiGet(const wire::MultiGetRequest&) override {
    return E();
  }

 private:
  ApiError E() const { return ApiError::NotReady(reason_, 1000); }
  std::string reason_;
};

class StartupAdminHandler : public AdminHandler {
 public:
  explicit StartupAdminHandler(NodeInfo info);
  ApiOr<wire::NodeStatus> Status() override;
  ApiOr<wire::Configuration> QueryConfig(int64_t num) override;
  ApiOr<wire::AdminResult> Init(const wire::InitRequest& r) override;
  ApiOr<wire::AdminResult> Join(const wire::JoinRequest& r) override;
  ApiOr<wire::AdminResult> Leave(const wire::NodeRequest& r) override;
  ApiOr<wire::AdminResult> Move(const wire::MoveRequest& r) override;
  ApiOr<wire::AdminResult> Drain(const wire::NodeRequest& r) override;
  ApiOr<wire::AdminResult> RemoveNode(const wire::NodeRequest& r) override;
  ApiOr<wire::AdminResult> PauseAutonomy() override;
  ApiOr<wire::AdminResult> ResumeAutonomy() override;

 private:
  ApiError NotYet(const char* what) const;
  NodeInfo info_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace sb::api
