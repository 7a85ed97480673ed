// host/api/startup_handlers.cc — see startup_handlers.h.
#include "host/api/startup_handlers.h"

namespace sb::api {

StartupAdminHandler::StartupAdminHandler(NodeInfo info)
    : info_(std::move(info)), started_(std::chrono::steady_clock::now()) {}

ApiError StartupAdminHandler::NotYet(const char* what) const {
  return ApiError::NotReady(std::string(what) + ": node " +
                                std::to_string(info_.node_id) + " " +
                                info_.changes_unavailable,
                            1000);
}

ApiOr<wire::NodeStatus> StartupAdminHandler::Status() {
  wire::NodeStatus s;
  s.node_id = static_cast<int64_t>(info_.node_id);
  s.version = info_.version;
  s.cluster_id = info_.cluster_id;
  s.client_address = info_.client_address;
  s.peer_address = info_.peer_address;
  s.role = wire::NodeRole::JOINING;
  s.order_id = 0;
  s.config_num = 0;
  s.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started_)
                    .count();
  s.autonomy_paused = false;
  s.plugins = info_.plugins;
  s.node_name = info_.node_name;
  if (info_.live_status) info_.live_status(&s);
  if (info_.classifier_status) {
    if (std::optional<wire::ClassifierStatus> c = info_.classifier_status()) {
      s.__set_classifier(*c);
    }
  }
  return s;
}

ApiOr<wire::Configuration> StartupAdminHandler::QueryConfig(int64_t num) {
  if (info_.query_config) return info_.query_config(num);
  return NotYet("query_config");
}
ApiOr<wire::AdminResult> StartupAdminHandler::Init(const wire::InitRequest&) {
  return NotYet("init");
}
ApiOr<wire::AdminResult> StartupAdminHandler::Join(const wire::JoinRequest&) {
  return NotYet("join");
}
ApiOr<wire::AdminResult> StartupAdminHandler::Leave(const wire::NodeRequest&) {
  return NotYet("leave");
}
ApiOr<wire::AdminResult> StartupAdminHandler::Move(const wire::MoveRequest&) {
  return NotYet("move");
}
ApiOr<wire::AdminResult> StartupAdminHandler::Drain(const wire::NodeRequest&) {
  return NotYet("drain");
}
ApiOr<wire::AdminResult> StartupAdminHandler::RemoveNode(
    const wire::NodeRequest&) {
  return NotYet("remove_node");
}
ApiOr<wire::AdminResult> StartupAdminHandler::PauseAutonomy() {
  return NotYet("pause_autonomy");
}
ApiOr<wire::AdminResult> StartupAdminHandler::ResumeAutonomy() {
  return NotYet("resume_autonomy");
}

}  // namespace sb::api
