// The Shardbearer target against in-process Thrift Kv servers on 127.0.0.1:
// request encoding, write ids, the mapping of every typed error to its kind,
// leader hints and connection failures.
#include "tools/bench/shardbearer_target.h"

#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TServerSocket.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "shardbearer/wire/Kv.h"

namespace sb::bench {
namespace {

namespace w = ::shardbearer::wire;
using apache::thrift::protocol::TBinaryProtocolFactory;
using apache::thrift::server::TThreadedServer;
using apache::thrift::transport::TFramedTransportFactory;
using apache::thrift::transport::TServerSocket;

// A Kv store in memory. Keys starting with "err-" fail with the error they
// name; "err-wrongleader" carries `leader_hint`.
class FakeKv : public w::KvIf {
 public:
  std::mutex mu;
  std::map<std::string, std::string> data;
  std::vector<w::WriteId> write_ids;
  std::string leader_hint;
  int requests = 0;

  void get(w::GetResult& out, const w::GetRequest& r) override {
    std::lock_guard<std::mutex> l(mu);
    ++requests;
    MaybeThrow(r.key);
    auto it = data.find(r.key);
    out.found = it != data.end();
    if (out.found) out.__set_value(it->second);
  }
  void put(w::PutResult& out, const w::PutRequest& r) override {
    std::lock_guard<std::mutex> l(mu);
    ++requests;
    MaybeThrow(r.key);
    write_ids.push_back(r.write_id);
    data[r.key] = r.value;
    out.applied_index = static_cast<int64_t>(write_ids.size());
  }
  void compare_and_set(w::CasResult& out, const w::CasRequest& r) override {
    std::lock_guard<std::mutex> l(mu);
    ++requests;
    MaybeThrow(r.key);
    write_ids.push_back(r.write_id);
    auto it = data.find(r.key);
    const bool match = r.__isset.expected
                           ? it != data.end() && it->second == r.expected
                           : it == data.end();
    out.succeeded = match;
    if (it != data.end()) out.__set_current(it->second);
    if (match && r.__isset.new_value) data[r.key] = r.new_value;
  }
  void append(w::AppendResult&, const w::AppendRequest&) override {}
  void remove(w::DeleteResult&, const w::DeleteRequest&) override {}
  void multi_get(w::MultiGetResult&, const w::MultiGetRequest&) override {}

 private:
  void MaybeThrow(const std::string& key) {
    if (key == "err-notready") {
      w::NotReady e;
      e.message = "starting";
      throw e;
    }
    if (key == "err-wrongleader") {
      w::WrongLeader e;
      e.message = "not the herald";
      e.leader_hint = leader_hint;
      throw e;
    }
    if (key == "err-wronggroup") throw w::WrongGroup();
    if (key == "err-timeout") throw w::Timeout();
    if (key == "err-toolarge") throw w::TooLarge();
    if (key == "err-invalid") throw w::InvalidArgument();
  }
};

class KvServer {
 public:
  KvServer() : handler_(std::make_shared<FakeKv>()) {
    socket_ = std::make_shared<TServerSocket>("127.0.0.1", 0);
    server_ = std::make_unique<TThreadedServer>(
        std::make_shared<w::KvProcessor>(handler_), socket_,
        std::make_shared<TFramedTransportFactory>(),
        std::make_shared<TBinaryProtocolFactory>());
    thread_ = std::thread([this] { server_->serve(); });
    // serve() binds; wait (at most 5 s) for the port it got.
    for (int i = 0; i < 500 && socket_->getPort() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~KvServer() {
    server_->stop();
    thread_.join();
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(socket_->getPort());
  }
  FakeKv& kv() { return *handler_; }

 private:
  std::shared_ptr<FakeKv> handler_;
  std::shared_ptr<TServerSocket> socket_;
  std::unique_ptr<TThreadedServer> server_;
  std::thread thread_;
};

std::unique_ptr<Target> TargetFor(std::vector<std::string> addresses) {
  ShardbearerTargetOptions o;
  o.addresses = std::move(addresses);
  o.connect_timeout_ms = 2000;
  o.request_timeout_ms = 5000;
  return MakeShardbearerTarget(o);
}

TEST(ShardbearerTargetTest, PutGetAndCasWithWriteIds) {
  KvServer server;
  ASSERT_NE(server.address(), "127.0.0.1:0");
  auto target = TargetFor({server.address()});
  auto a = target->Open(0);
  auto b = target->Open(1);
  ASSERT_TRUE(a->Put("k1", "v1").ok());
  ASSERT_TRUE(a->Put("k2", "v2").ok());
  bool found = false;
  std::string value;
  ASSERT_TRUE(a->Get("k1", &found, &value).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(value, "v1");
  ASSERT_TRUE(b->Get("absent", &found, &value).ok());
  EXPECT_FALSE(found);
  bool ok = false;
  ASSERT_TRUE(a->CompareAndSet("k1", std::string("v1"), "v1b", &ok).ok());
  EXPECT_TRUE(ok);
  ASSERT_TRUE(b->CompareAndSet("k1", std::string("v1"), "x", &ok).ok());
  EXPECT_FALSE(ok);
  ASSERT_TRUE(b->CompareAndSet("k3", std::nullopt, "v3", &ok).ok());
  EXPECT_TRUE(ok);

  std::lock_guard<std::mutex> l(server.kv().mu);
  EXPECT_EQ(server.kv().data["k1"], "v1b");
  EXPECT_EQ(server.kv().data["k3"], "v3");
  // Session a wrote three times (sequences 1..3), b twice (1..2), each
  // under its own non-zero client id.
  const auto& ids = server.kv().write_ids;
  ASSERT_EQ(ids.size(), 5u);
  const int64_t ca = ids[0].client_id, cb = ids[3].client_id;
  EXPECT_GT(ca, 0);
  EXPECT_GT(cb, 0);
  EXPECT_NE(ca, cb);
  EXPECT_EQ(ids[0].sequence, 1);
  EXPECT_EQ(ids[1].sequence, 2);
  EXPECT_EQ(ids[2].client_id, ca);
  EXPECT_EQ(ids[2].sequence, 3);
  EXPECT_EQ(ids[3].sequence, 1);
  EXPECT_EQ(ids[4].client_id, cb);
  EXPECT_EQ(ids[4].sequence, 2);
}

TEST(ShardbearerTargetTest, TypedErrorsMapToKinds) {
  KvServer server;
  auto target = TargetFor({server.address()});
  auto s = target->Open(0);
  bool found;
  std::string v;
  const std::pair<const char*, ErrorKind> cases[] = {
      {"err-notready", ErrorKind::kNotReady},
      {"err-wronggroup", ErrorKind::kWrongGroup},
      {"err-timeout", ErrorKind::kTimeout},
      {"err-toolarge", ErrorKind::kTooLarge},
      {"err-invalid", ErrorKind::kInvalidArgument},
  };
  for (const auto& [key, kind] : cases) {
    EXPECT_EQ(s->Get(key, &found, &v).kind, kind) << key;
    EXPECT_EQ(s->Put(key, "x").kind, kind) << key;
  }
  const Outcome o = s->Get("err-notready", &found, &v);
  EXPECT_EQ(o.message, "starting");
  // The connection survives typed errors.
  EXPECT_TRUE(s->Put("fine", "x").ok());
}

TEST(ShardbearerTargetTest, WrongLeaderHintRedirectsTheNextRequest) {
  KvServer follower, herald;
  follower.kv().leader_hint = herald.address();
  auto target = TargetFor({follower.address()});
  auto s = target->Open(0);
  bool found;
  std::string v;
  const Outcome o = s->Get("err-wrongleader", &found, &v);
  EXPECT_EQ(o.kind, ErrorKind::kWrongLeader);
  EXPECT_EQ(o.message, "not the herald");
  ASSERT_TRUE(s->Put("k", "v").ok());
  std::lock_guard<std::mutex> l(herald.kv().mu);
  EXPECT_EQ(herald.kv().data.count("k"), 1u);
}

TEST(ShardbearerTargetTest, RefusedConnectionIsCountedAndNextAddressTried) {
  KvServer server;
  // Port 1 on loopback: nothing listens there.
  auto target = TargetFor({"127.0.0.1:1", server.address()});
  auto s = target->Open(0);
  EXPECT_EQ(s->Put("k", "v").kind, ErrorKind::kConnection);
  EXPECT_TRUE(s->Put("k", "v").ok());
}

TEST(ShardbearerTargetTest, AddressListsAreValidated) {
  std::vector<std::string> out;
  EXPECT_EQ(ParseAddressList("127.0.0.1:7500,[::1]:7501", &out), "");
  EXPECT_EQ(out.size(), 2u);
  EXPECT_NE(ParseAddressList("127.0.0.1", &out), "");
  EXPECT_NE(ParseAddressList("127.0.0.1:0", &out), "");
  EXPECT_NE(ParseAddressList("127.0.0.1:99999", &out), "");
  EXPECT_NE(ParseAddressList("a:1,,b:2", &out), "");
  EXPECT_NE(ParseAddressList("", &out), "");
  EXPECT_NE(ParseAddressList("host:12x", &out), "");
}

}  // namespace
}  // namespace sb::bench
