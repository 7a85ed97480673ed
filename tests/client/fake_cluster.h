// tests/client/fake_cluster.h — in-process fake radiants for the C++
// client's routing tests.
//
// Each FakeNode is a real sb::api::ApiServer on 127.0.0.1 (ephemeral port)
// with a FakeKv and a FakeAdmin handler. FakeKv records every Kv request it
// receives (method, keys, write id) and answers what the test's script says
// (an ApiError), or serves from a MemoryKvHandler shared by every node of
// the cluster, so data written through one node is read through another.
// FakeAdmin answers query_config from a ConfigSource shared by the cluster
// (NotReady while it holds none) and counts the queries. A script may also
// hold a request until Release() (a server that never answers in time).
//
// Thread safety: handlers are called from server threads; every member
// takes its own mutex. FakeCluster is driven from the test's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "host/api/api_server.h"
#include "tests/wire/memory_kv_handler.h"

namespace sb::test {

// One Kv request as a fake node saw it.
struct Seen {
  std::string method;  // "get", "put", "append", "remove", "cas", "multi_get"
  std::vector<std::string> keys;
  wire::WriteId write_id;  // zero for reads
};

// What a script answers: nullopt serves the request, kHold blocks it until
// Release(), an ApiError is returned as is.
struct Answer {
  bool hold = false;
  std::optional<api::ApiError> error;
  static Answer Serve() { return {}; }
  static Answer Hold() { return {true, std::nullopt}; }
  static Answer Fail(api::ApiError e) { return {false, std::move(e)}; }
};
using Script = std::function<Answer(const Seen&)>;

class FakeKv : public api::KvHandler {
 public:
  explicit FakeKv(std::shared_ptr<MemoryKvHandler> store)
      : store_(std::move(store)) {}

  void SetScript(Script s) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(s);
  }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  int Count(const std::string& method) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& s : seen_) n += s.method == method;
    return n;
  }
  int Total() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(seen_.size());
  }
  // Lets held requests go (they then answer Timeout).
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

  ApiOr<wire::GetResult> Get(const wire::GetRequest& r) override {
    return Handle<wire::GetResult>({"get", {r.key}, {}},
                                   [&] { return store_->Get(r); });
  }
  ApiOr<wire::PutResult> Put(const wire::PutRequest& r) override {
    return Handle<wire::PutResult>({"put", {r.key}, r.write_id},
                                   [&] { return store_->Put(r); });
  }
  ApiOr<wire::AppendResult> Append(const wire::AppendRequest& r) override {
    return Handle<wire::AppendResult>({"append", {r.key}, r.write_id},
                                      [&] { return store_->Append(r); });
  }
  ApiOr<wire::DeleteResult> Delete(const wire::DeleteRequest& r) override {
    return Handle<wire::DeleteResult>({"remove", {r.key}, r.write_id},
                                      [&] { return store_->Delete(r); });
  }
  ApiOr<wire::CasResult> CompareAndSet(const wire::CasRequest& r) override {
    return Handle<wire::CasResult>({"cas", {r.key}, r.write_id},
                                   [&] { return store_->CompareAndSet(r); });
  }
  ApiOr<wire::MultiGetResult> MultiGet(
      const wire::MultiGetRequest& r) override {
    return Handle<wire::MultiGetResult>({"multi_get", r.keys, {}},
                                        [&] { return store_->MultiGet(r); });
  }

 private:
  template <typename T, typename Serve>
  ApiOr<T> Handle(Seen s, Serve serve) {
    Answer a;
    {
      std::unique_lock<std::mutex> lock(mu_);
      seen_.push_back(s);
      if (script_) a = script_(s);
      if (a.hold) {
        // Bounded: a test that forgets Release() still ends.
        cv_.wait_for(lock, std::chrono::seconds(30), [&] { return released_; });
        return api::ApiError::Timeout("held request released");
      }
    }
    if (a.error) return *a.error;
    return serve();
  }

  std::shared_ptr<MemoryKvHandler> store_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  Script script_;
  std::vector<Seen> seen_;
};

// The cluster's configuration as every fake node answers it.
class ConfigSource {
 public:
  void Set(std::optional<wire::Configuration> c) {
    std::lock_guard<std::mutex> lock(mu_);
    config_ = std::move(c);
  }
  std::optional<wire::Configuration> Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return config_;
  }

 private:
  std::mutex mu_;
  std::optional<wire::Configuration> config_;
};

class FakeAdmin : public api::AdminHandler {
 public:
  FakeAdmin(int64_t node_id, std::shared_ptr<ConfigSource> source)
      : node_id_(node_id), source_(std::move(source)) {}
  int queries() {
    std::lock_guard<std::mutex> lock(mu_);
    return queries_;
  }

  ApiOr<wire::NodeStatus> Status() override {
    wire::NodeStatus s;
    s.node_id = node_id_;
    return s;
  }
  ApiOr<wire::Configuration> QueryConfig(int64_t) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++queries_;
    }
    auto c = source_->Get();
    if (!c) return api::ApiError::NotReady("no configuration", 1000);
    return *c;
  }
  ApiOr<wire::AdminResult> Init(const wire::InitRequest&) override {
    return No();
  }
  ApiOr<wire::AdminResult> Join(const wire::JoinRequest&) override {
    return No();
  }
  ApiOr<wire::AdminResult> Leave(const wire::NodeRequest&) override {
    return No();
  }
  ApiOr<wire::AdminResult> Move(const wire::MoveRequest&) override {
    return No();
  }
  ApiOr<wire::AdminResult> Drain(const wire::NodeRequest&) override {
    return No();
  }
  ApiOr<wire::AdminResult> RemoveNode(const wire::NodeRequest&) override {
    return No();
  }
  ApiOr<wire::AdminResult> PauseAutonomy() override { return No(); }
  ApiOr<wire::AdminResult> ResumeAutonomy() override { return No(); }

 private:
  static api::ApiError No() { return api::ApiError::NotReady("fake node"); }

  int64_t node_id_;
  std::shared_ptr<ConfigSource> source_;
  std::mutex mu_;
  int queries_ = 0;
};

struct FakeNode {
  int64_t id = 0;
  std::shared_ptr<FakeKv> kv;
  std::shared_ptr<FakeAdmin> admin;
  std::unique_ptr<api::ApiServer> server;
  std::string address;
  // Stops listening: the address then refuses connections.
  void Down() {
    kv->Release();
    server.reset();
  }
};

class FakeCluster {
 public:
  // Starts nodes with ids 1..n. False (and *why) when a server fails.
  bool Start(int n, std::string* why) {
    for (int i = 1; i <= n; ++i) {
      auto node = std::make_unique<FakeNode>();
      node->id = i;
      node->kv = std::make_shared<FakeKv>(store_);
      node->admin = std::make_shared<FakeAdmin>(i, source_);
      node->server = std::make_unique<api::ApiServer>(node->kv, node->admin);
      api::ApiServerOptions o;
      o.listen_address = "127.0.0.1:0";
      o.log = [](int, const std::string&) {};
      Status st = node->server->Start(o);
      if (!st.ok()) {
        *why = st.ToString();
        return false;
      }
      node->address = node->server->address();
      nodes_.push_back(std::move(node));
    }
    return true;
  }
  ~FakeCluster() {
    for (auto& n : nodes_) n->kv->Release();
    nodes_.clear();
  }

  FakeNode& node(int64_t id) { return *nodes_.at(static_cast<size_t>(id - 1)); }
  std::shared_ptr<ConfigSource> source() { return source_; }
  std::shared_ptr<MemoryKvHandler> store() { return store_; }
  int TotalQueries() {
    int n = 0;
    for (auto& node : nodes_) n += node->admin->queries();
    return n;
  }

  struct OrderSpec {
    int64_t id;
    std::vector<int64_t> members;
    int64_t herald;
  };
  // A configuration listing every node as a radiant.
  wire::Configuration MakeConfig(int64_t num, int32_t shards,
                                 std::vector<int64_t> owners,
                                 const std::vector<OrderSpec>& orders) {
    wire::Configuration c;
    c.num = num;
    c.shards = shards;
    c.shard_owner = std::move(owners);
    for (const auto& o : orders) {
      wire::Order w;
      w.order_id = o.id;
      w.members = o.members;
      w.herald = o.herald;
      c.orders.push_back(w);
    }
    for (auto& n : nodes_) {
      wire::Radiant r;
      r.node_id = n->id;
      r.client_address = n->address;
      c.radiants.push_back(r);
    }
    return c;
  }

 private:
  std::shared_ptr<MemoryKvHandler> store_ = std::make_shared<MemoryKvHandler>();
  std::shared_ptr<ConfigSource> source_ = std::make_shared<ConfigSource>();
  std::vector<std::unique_ptr<FakeNode>> nodes_;
};

}  // namespace sb::test
