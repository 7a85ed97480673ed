// The public API server: C++ client round trips, limits and typed errors,
// the startup handlers, and bad input on the client port (garbage, truncated,
// oversized and slow frames, a non-call message, a connection flood), each
// closed with a log line while other clients keep being served.
#include "host/api/api_server.h"

#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSSLSocket.h>
#include <thrift/transport/TSocket.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "host/api/startup_handlers.h"
#include "shardbearer/client.h"
#include "shardbearer/wire/Admin.h"
#include "shardbearer/wire/Kv.h"
#include "tests/wire/memory_kv_handler.h"
#include "tests/wire/test_support.h"
#include "thrift/net/dial.h"

namespace sb::test {
namespace {

using std::chrono::milliseconds;
namespace tt = apache::thrift::transport;
namespace tp = apache::thrift::protocol;

// A generated Kv client speaking framed binary over `t`. Over a
// TMemoryBuffer it encodes requests (send_*) without sending them, or
// decodes replies already received (recv_*).
shardbearer::wire::KvClient KvOver(std::shared_ptr<tt::TTransport> t) {
  return shardbearer::wire::KvClient(std::make_shared<tp::TBinaryProtocol>(
      std::make_shared<tt::TFramedTransport>(std::move(t))));
}

// A client decoding the replies in `bytes` (which must outlive it).
shardbearer::wire::KvClient RepliesIn(std::string* bytes) {
  return KvOver(std::make_shared<tt::TMemoryBuffer>(
      reinterpret_cast<uint8_t*>(bytes->data()),
      static_cast<uint32_t>(bytes->size())));
}

// Framed requests: two puts of `key` (values "1" then "2", sequences 1 and
// 2 of `client`), then a get of it, to be written in one go.
std::string PutPutGet(const std::string& key, int64_t client) {
  auto requests = std::make_shared<tt::TMemoryBuffer>();
  auto writer = KvOver(requests);
  shardbearer::wire::PutRequest put;
  put.key = key;
  put.write_id.client_id = client;
  for (int i = 1; i <= 2; ++i) {
    put.value = std::to_string(i);
    put.write_id.sequence = i;
    writer.send_put(put);
  }
  shardbearer::wire::GetRequest get;
  get.key = key;
  writer.send_get(get);
  return requests->getBufferAsString();
}

// Answers get and put later, from its own thread (as an order's driver
// thread does): a get after `get_delay`, a put after `put_delay`, each in
// the order its time comes (so a later get may be answered before an
// earlier put). The other requests are answered synchronously. Optionally
// answers every put with `put_error` instead.
class DeferredKvHandler : public MemoryKvHandler {
 public:
  DeferredKvHandler(milliseconds get_delay, milliseconds put_delay)
      : get_delay_(get_delay), put_delay_(put_delay) {
    thread_ = std::thread([this] { Run(); });
  }
  ~DeferredKvHandler() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool GetAsync(const wire::GetRequest& r,
                Done<wire::GetResult>& done) override {
    Later(get_delay_, [this, r, done = std::move(done)] { done(Get(r)); });
    return true;
  }
  bool PutAsync(const wire::PutRequest& r,
                Done<wire::PutResult>& done) override {
    Later(put_delay_, [this, r, done = std::move(done)] {
      if (put_error.has_value()) return done(*put_error);
      done(Put(r));
    });
    return true;
  }
  // Requests answered so far (counted once the answer's callback
  // returned), waiting up to 2 s for at least `at_least`.
  int answered(int at_least = 0) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::seconds(2),
                 [&] { return answered_ >= at_least; });
    return answered_;
  }
  std::optional<api::ApiError> put_error;

 private:
  void Later(milliseconds delay, std::function<void()> fn) {
    std::lock_guard<std::mutex> l(mu_);
    queue_.emplace(std::chrono::steady_clock::now() + delay, std::move(fn));
    cv_.notify_all();
  }
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_ || !queue_.empty()) {
      if (queue_.empty()) {
        cv_.wait(l);
        continue;
      }
      auto first = queue_.begin();
      if (!stop_ && std::chrono::steady_clock::now() < first->first) {
        cv_.wait_until(l, first->first);
        continue;
      }
      std::function<void()> fn = std::move(first->second);
      queue_.erase(first);
      l.unlock();
      fn();
      l.lock();
      ++answered_;
      cv_.notify_all();
    }
  }
  const milliseconds get_delay_, put_delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>>
      queue_;
  bool stop_ = false;
  int answered_ = 0;
  std::thread thread_;
};

class ApiServerTest : public ::testing::Test {
 protected:
  void StartServer(api::ApiServerOptions o = {},
                   std::shared_ptr<MemoryKvHandler> kv = nullptr) {
    kv_ = kv ? std::move(kv) : std::make_shared<MemoryKvHandler>();
    api::NodeInfo info;
    info.node_id = 7;
    info.version = "0.1.0";
    info.client_address = "127.0.0.1:0";
    info.plugins = {"transport=transport-thrift 1.0.0"};
    admin_ = std::make_shared<api::StartupAdminHandler>(info);
    server_ = std::make_unique<api::ApiServer>(kv_, admin_);
    o.log = [this](int level, const std::string& m) {
      std::fprintf(stderr, "[api %d] %s\n", level, m.c_str());
      std::lock_guard<std::mutex> lock(mu_);
      logs_.push_back(m);
    };
    Status st = server_->Start(o);
    ASSERT_TRUE(st.ok()) << st.ToString();
    port_ = PortOf(server_->address());
  }
  // Stop the server (and its logging threads) before the log
  // members go away.
  void TearDown() override { server_.reset(); }
  bool Logged(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& l : logs_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  client::Client NewClient() {
    client::ClientOptions o;
    o.addresses = {"127.0.0.1:" + std::to_string(port_)};
    o.max_attempts = 2;
    return client::Client(o);
  }
  // The server still answers a well-formed client.
  void ExpectStillServing() {
    auto c = NewClient();
    auto r = c.Put("alive", "yes");
    ASSERT_TRUE(r.ok()) << r.error().message;
    auto g = c.Get("alive");
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(*g.value(), "yes");
  }

  std::shared_ptr<MemoryKvHandler> kv_;
  std::shared_ptr<api::StartupAdminHandler> admin_;
  std::unique_ptr<api::ApiServer> server_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> logs_;
};

TEST_F(ApiServerTest, ClientRoundTrip) {
  StartServer();
  auto c = NewClient();
  ASSERT_TRUE(c.Put("k1", std::string("v\0\xff", 3)).ok());
  auto g = c.Get("k1");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(g.value().has_value());
  EXPECT_EQ(*g.value(), std::string("v\0\xff", 3));
  EXPECT_FALSE(c.Get("missing").value().has_value());
  auto n = c.Append("k1", "++");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 5);
  auto cas = c.CompareAndSet("k1", std::string("wrong"), std::string("x"));
  ASSERT_TRUE(cas.ok());
  EXPECT_FALSE(cas.value().succeeded);
  cas = c.CompareAndSet("k1", std::string("v\0\xff++", 5), std::string("x"));
  ASSERT_TRUE(cas.ok());
  EXPECT_TRUE(cas.value().succeeded);
  cas = c.CompareAndSet("new", std::nullopt, std::string("created"));
  ASSERT_TRUE(cas.ok());
  EXPECT_TRUE(cas.value().succeeded);
  auto mg = c.MultiGet({"k1", "nope", "new"});
  ASSERT_TRUE(mg.ok());
  ASSERT_EQ(mg.value().size(), 3u);
  EXPECT_EQ(*mg.value()[0], "x");
  EXPECT_FALSE(mg.value()[1].has_value());
  EXPECT_EQ(*mg.value()[2], "created");
  auto d = c.Delete("k1");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d.value());
  EXPECT_FALSE(c.Delete("k1").value());
}

TEST_F(ApiServerTest, LimitsAnswerTypedErrors) {
  api::ApiServerOptions o;
  o.limits.max_key_bytes = 16;
  o.limits.max_value_bytes = 64;
  o.limits.max_batch_ops = 4;
  StartServer(o);
  auto c = NewClient();
  auto r = c.Put("", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, client::ErrorCode::kInvalidArgument);
  r = c.Put(std::string(17, 'k'), "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, client::ErrorCode::kTooLarge);
  r = c.Put("k", std::string(65, 'v'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, client::ErrorCode::kTooLarge);
  auto mg = c.MultiGet({"a", "b", "c", "d", "e"});
  ASSERT_FALSE(mg.ok());
  EXPECT_EQ(mg.error().code, client::ErrorCode::kTooLarge);
  EXPECT_TRUE(c.Put(std::string(16, 'k'), std::string(64, 'v')).ok());

  // The typed exception carries subject, size and limit.
  auto sock = std::make_shared<tt::TSocket>("127.0.0.1", port_);
  sock->open();
  auto raw = KvOver(sock);
  shardbearer::wire::PutRequest req;
  req.key = "k";
  req.value = std::string(100, 'v');
  req.write_id.client_id = 1;
  req.write_id.sequence = 1;
  shardbearer::wire::PutResult res;
  try {
    raw.put(res, req);
    FAIL() << "expected TooLarge";
  } catch (const shardbearer::wire::TooLarge& e) {
    EXPECT_EQ(e.subject, "value");
    EXPECT_EQ(e.size, 100);
    EXPECT_EQ(e.max_allowed, 64);
    EXPECT_EQ(e.code, shardbearer::wire::ErrorCode::TOO_LARGE);
  }
  req.value = "v";
  req.write_id.sequence = 0;
  EXPECT_THROW(raw.put(res, req), shardbearer::wire::InvalidArgument);
}

TEST_F(ApiServerTest, LimitsComeFromTheNodeConfig) {
  auto cfg = ParseConfig(
      "[node]\nid = \"n1\"\ndata_dir = \"/nonexistent\"\n"
      "single_node = true\nlisten_client = \"127.0.0.1:7511\"\n"
      "[limits]\nmax_key_bytes = 8\nmax_value_bytes = 32\n"
      "max_batch_ops = 2\nmax_frame_bytes = 131072\n",
      "test.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  api::ApiServerOptions o = api::ApiServerOptionsFromConfig(*cfg);
  EXPECT_EQ(o.listen_address, "127.0.0.1:7511");
  EXPECT_EQ(o.limits.max_key_bytes, 8u);
  EXPECT_EQ(o.limits.MaxFrameBytes(), 131072u);
  o.listen_address = "127.0.0.1:0";
  StartServer(o);
  auto c = NewClient();
  EXPECT_EQ(c.Put("123456789", "v").error().code, client::ErrorCode::kTooLarge);
  EXPECT_EQ(c.MultiGet({"a", "b", "c"}).error().code,
            client::ErrorCode::kTooLarge);
  EXPECT_TRUE(c.Put("12345678", std::string(32, 'v')).ok());
}

TEST_F(ApiServerTest, RetriedWriteAppliesOnce) {
  StartServer();
  auto sock = std::make_shared<tt::TSocket>("127.0.0.1", port_);
  sock->open();
  auto raw = KvOver(sock);
  shardbearer::wire::AppendRequest req;
  req.key = "log";
  req.value = "x";
  req.write_id.client_id = 42;
  req.write_id.sequence = 1;
  shardbearer::wire::AppendResult res;
  raw.append(res, req);
  raw.append(res, req);  // a retry of the same write
  EXPECT_EQ(res.new_size, 1);
}

TEST_F(ApiServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  // Three requests in one write, so the server reads them together: each is
  // answered, in order, from what it buffered.
  int fd = RawConnect(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(RawWrite(fd, PutPutGet("p", 7)));

  // Collect the three reply frames, then decode them in order.
  std::string replies;
  int frames = 0;
  auto end = std::chrono::steady_clock::now() + milliseconds(5000);
  while (frames < 3 && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    replies.append(buf, static_cast<size_t>(n));
    frames = 0;
    for (size_t off = 0; off + 4 <= replies.size(); ++frames) {
      auto b = [&](size_t i) { return uint32_t{uint8_t(replies[off + i])}; };
      off += 4 + ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3));
      if (off > replies.size()) break;
    }
  }
  ::close(fd);
  ASSERT_EQ(frames, 3);
  auto reader = RepliesIn(&replies);
  shardbearer::wire::PutResult pr;
  reader.recv_put(pr);
  reader.recv_put(pr);
  shardbearer::wire::GetResult gr;
  reader.recv_get(gr);
  EXPECT_TRUE(gr.found);
  EXPECT_EQ(gr.value, "2");
}

// Get and put are answered asynchronously (from the handler's thread, a
// put 60 ms later, a get 5 ms later): pipelined requests of one connection
// still get their answers in order, and each is dispatched only after the
// previous one was answered (the get sees the second put).
TEST_F(ApiServerTest, AsyncAnswersLeaveInRequestOrder) {
  auto kv =
      std::make_shared<DeferredKvHandler>(milliseconds(5), milliseconds(60));
  StartServer({}, kv);
  auto sock = std::make_shared<tt::TSocket>("127.0.0.1", port_);
  sock->setRecvTimeout(5000);
  sock->open();
  std::string bytes = PutPutGet("q", 9);
  sock->write(reinterpret_cast<const uint8_t*>(bytes.data()),
              static_cast<uint32_t>(bytes.size()));
  auto reader = KvOver(sock);
  shardbearer::wire::PutResult pr;
  reader.recv_put(pr);
  const int64_t first = pr.applied_index;
  reader.recv_put(pr);
  EXPECT_GT(pr.applied_index, first);
  shardbearer::wire::GetResult gr;
  reader.recv_get(gr);
  EXPECT_TRUE(gr.found);
  EXPECT_EQ(gr.value, "2");
  EXPECT_EQ(kv->answered(3), 3);
}

// An asynchronous answer maps errors to the typed IDL exceptions, as the
// synchronous path does; and validation still answers before the handler.
TEST_F(ApiServerTest, AsyncErrorsAreTypedExceptions) {
  auto kv =
      std::make_shared<DeferredKvHandler>(milliseconds(5), milliseconds(5));
  kv->put_error = api::ApiError::WrongLeader("not me", "127.0.0.1:1", 3);
  StartServer({}, kv);
  auto sock = std::make_shared<tt::TSocket>("127.0.0.1", port_);
  sock->setRecvTimeout(5000);
  sock->open();
  auto client = KvOver(sock);
  shardbearer::wire::PutRequest put;
  put.key = "k";
  put.value = "v";
  put.write_id.client_id = 1;
  put.write_id.sequence = 1;
  shardbearer::wire::PutResult pr;
  try {
    client.put(pr, put);
    ADD_FAILURE() << "no WrongLeader";
  } catch (const shardbearer::wire::WrongLeader& e) {
    EXPECT_EQ(e.leader_hint, "127.0.0.1:1");
    EXPECT_EQ(e.leader_node_id, 3);
  }
  put.key.clear();  // refused before the handler sees it
  EXPECT_THROW(client.put(pr, put), shardbearer::wire::InvalidArgument);
  EXPECT_EQ(kv->answered(1), 1);
  shardbearer::wire::GetRequest get;
  get.key = "absent";
  shardbearer::wire::GetResult gr;
  client.get(gr, get);
  EXPECT_FALSE(gr.found);
}

// A client that leaves while its request is in flight: the answer comes
// later and finds no connection; the request still took effect, and the
// server keeps serving.
TEST_F(ApiServerTest, AsyncRequestOutlivesItsConnection) {
  auto kv =
      std::make_shared<DeferredKvHandler>(milliseconds(200), milliseconds(200));
  StartServer({}, kv);
  shardbearer::wire::PutRequest put;
  put.key = "left";
  put.value = "behind";
  put.write_id.client_id = 4;
  put.write_id.sequence = 1;
  auto requests = std::make_shared<tt::TMemoryBuffer>();
  KvOver(requests).send_put(put);
  int fd = RawConnect(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(RawWrite(fd, requests->getBufferAsString()));
  ::close(fd);
  EXPECT_EQ(kv->answered(1), 1);
  ExpectStillServing();
  auto g = NewClient().Get("left");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g.value(), "behind");
}

// A client that does not read its answer (a 6 MB value: more than the
// server's socket takes at once, 4 MB at most on Linux's defaults) must not
// hold the thread that completes requests: the event loop finishes the
// answer as the client reads, and other clients are answered meanwhile; the
// slow client still gets its whole answer when it reads.
TEST_F(ApiServerTest, ClientNotReadingItsAnswerHoldsNoOneElse) {
  auto kv =
      std::make_shared<DeferredKvHandler>(milliseconds(1), milliseconds(1));
  api::ApiServerOptions o;
  o.limits.max_value_bytes = 8u << 20;
  StartServer(o, kv);
  const std::string big(6'000'000, 'b');
  ASSERT_TRUE(NewClient().Put("big", big).ok());

  int fd = RawConnect(port_, /*rcvbuf=*/4096);
  ASSERT_GE(fd, 0);
  auto requests = std::make_shared<tt::TMemoryBuffer>();
  shardbearer::wire::GetRequest get;
  get.key = "big";
  KvOver(requests).send_get(get);
  ASSERT_TRUE(RawWrite(fd, requests->getBufferAsString()));
  std::this_thread::sleep_for(milliseconds(200));  // answered, not read

  // The completing thread is free: another client is served at once (the
  // write timeout, 10 s, is what a blocked thread would wait).
  const auto start = std::chrono::steady_clock::now();
  auto c = NewClient();
  ASSERT_TRUE(c.Put("other", "x").ok());
  auto g = c.Get("other");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g.value(), "x");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));

  // The slow client reads its whole answer.
  std::string reply;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (reply.size() < 4 + big.size() &&
         std::chrono::steady_clock::now() < end) {
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  shardbearer::wire::GetResult gr;
  RepliesIn(&reply).recv_get(gr);
  EXPECT_TRUE(gr.found);
  EXPECT_EQ(gr.value.size(), big.size());
}

// A handler that blocks in its synchronous get of "slow" (as a get
// forwarded to another radiant waits for the hop) until released.
class BlockingKvHandler : public MemoryKvHandler {
 public:
  ApiOr<wire::GetResult> Get(const wire::GetRequest& r) override {
    if (r.key == "slow") {
      std::unique_lock<std::mutex> l(mu_);
      ++blocked_;
      cv_.notify_all();
      cv_.wait_for(l, std::chrono::seconds(10), [&] { return released_; });
    }
    return MemoryKvHandler::Get(r);
  }
  bool WaitBlocked(int n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(5),
                        [&] { return blocked_ >= n; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // Later gets of "slow" block again.
  void Hold() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int blocked_ = 0;
  bool released_ = false;
};

// Requests a handler leaves to its synchronous form run on worker threads:
// several blocked at once hold neither the event loop nor each other, and
// other clients (and other methods) are served meanwhile.
TEST_F(ApiServerTest, BlockingRequestsRunBesideTheEventLoop) {
  auto kv = std::make_shared<BlockingKvHandler>();
  StartServer({}, kv);
  std::vector<std::thread> slow;
  std::atomic<int> answered{0};
  for (int i = 0; i < 3; ++i) {
    slow.emplace_back([&] {
      auto c = NewClient();
      if (c.Get("slow").ok()) ++answered;
    });
  }
  ASSERT_TRUE(kv->WaitBlocked(3));
  ExpectStillServing();
  auto sock = std::make_shared<tt::TSocket>("127.0.0.1", port_);
  sock->setRecvTimeout(5000);
  auto trans = std::make_shared<tt::TFramedTransport>(sock);
  shardbearer::wire::AdminClient admin(
      std::make_shared<tp::TBinaryProtocol>(trans));
  trans->open();
  shardbearer::wire::NodeStatus st;
  admin.status(st);
  EXPECT_EQ(st.node_id, 7);
  EXPECT_EQ(answered.load(), 0);
  kv->Release();
  for (auto& t : slow) t.join();
  EXPECT_EQ(answered.load(), 3);

  // Now three workers wait idle. Five blocking requests arriving together
  // (back-to-back frames on five connections) still each get a thread: a
  // request never waits behind another one's blocking call.
  kv->Hold();
  auto requests = std::make_shared<tt::TMemoryBuffer>();
  shardbearer::wire::GetRequest get;
  get.key = "slow";
  KvOver(requests).send_get(get);
  const std::string frame = requests->getBufferAsString();
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) {
    fds.push_back(RawConnect(port_));
    ASSERT_GE(fds.back(), 0);
  }
  for (int fd : fds) ASSERT_TRUE(RawWrite(fd, frame));
  EXPECT_TRUE(kv->WaitBlocked(3 + 5));
  kv->Release();
  for (int fd : fds) ::close(fd);
}

TEST_F(ApiServerTest, OneConnectionCarriesMoreThanItsFrameLimit) {
  // Each request's message-size budget is its own frame: many requests on
  // one connection add up to far more than one frame may hold.
  api::ApiServerOptions o;
  o.limits.max_frame_bytes = 2048;
  StartServer(o);
  auto sock = std::make_shared<tt::TSocket>("127.0.0.1", port_);
  sock->open();
  auto raw = KvOver(sock);
  shardbearer::wire::PutRequest req;
  req.write_id.client_id = 9;
  shardbearer::wire::PutResult res;
  for (int i = 1; i <= 50; ++i) {
    req.key = "k" + std::to_string(i);
    req.value = std::string(1500, static_cast<char>('a' + i % 26));
    req.write_id.sequence = i;
    ASSERT_NO_THROW(raw.put(res, req)) << i;
  }
  shardbearer::wire::GetRequest g;
  g.key = "k50";
  shardbearer::wire::GetResult gr;
  raw.get(gr, g);
  EXPECT_EQ(gr.value, std::string(1500, static_cast<char>('a' + 50 % 26)));
}

TEST_F(ApiServerTest, StartupHandlersAnswerNotReadyAndStatus) {
  kv_ = nullptr;
  api::NodeInfo info;
  info.node_id = 9;
  info.node_name = "radiant-9";
  info.version = "0.1.0";
  info.cluster_id = "";
  auto server = std::make_unique<api::ApiServer>(
      std::make_shared<api::NotReadyKvHandler>("node is starting"),
      std::make_shared<api::StartupAdminHandler>(info));
  ASSERT_TRUE(server->Start({}).ok());
  int port = PortOf(server->address());
  auto sock = std::make_shared<tt::TSocket>("127.0.0.1", port);
  auto trans = std::make_shared<tt::TFramedTransport>(sock);
  auto proto = std::make_shared<tp::TBinaryProtocol>(trans);
  shardbearer::wire::KvClient kv(proto);
  shardbearer::wire::AdminClient admin(proto);
  trans->open();
  shardbearer::wire::GetRequest g;
  g.key = "k";
  shardbearer::wire::GetResult gr;
  try {
    kv.get(gr, g);
    FAIL() << "expected NotReady";
  } catch (const shardbearer::wire::NotReady& e) {
    EXPECT_EQ(e.message, "node is starting");
    EXPECT_GT(e.retry_after_ms, 0);
  }
  shardbearer::wire::NodeStatus st;
  admin.status(st);  // same connection: services share the port
  EXPECT_EQ(st.node_id, 9);
  EXPECT_EQ(st.node_name, "radiant-9");
  EXPECT_EQ(st.version, "0.1.0");
  EXPECT_EQ(st.role, shardbearer::wire::NodeRole::JOINING);
  shardbearer::wire::AdminResult ar;
  EXPECT_THROW(admin.pause_autonomy(ar), shardbearer::wire::NotReady);
  shardbearer::wire::NodeRequest nr;
  nr.node_id = 0;
  EXPECT_THROW(admin.drain(ar, nr), shardbearer::wire::InvalidArgument);
}

TEST_F(ApiServerTest, GarbageBytesCloseTheConnection) {
  StartServer();
  int fd = RawConnect(port_);
  ASSERT_GE(fd, 0);
  // An HTTP request read as a frame length is ~1.2 GB: refused unread.
  ASSERT_TRUE(RawWrite(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return Logged("frame too large"); }));
  // A small frame of random bytes: malformed request.
  fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, FrameHeader(12) + "\x01\x02garbage!!!"));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return Logged("malformed request"); }));
  ExpectStillServing();
}

TEST_F(ApiServerTest, TruncatedFrameIsDroppedWithALogLine) {
  StartServer();
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, FrameHeader(100) + std::string(10, 'x')));
  ::shutdown(fd, SHUT_WR);
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return Logged("inside a frame"); }));
  ExpectStillServing();
}

TEST_F(ApiServerTest, OversizedFrameIsRefusedBeforeReading) {
  api::ApiServerOptions o;
  o.limits.max_value_bytes = 1024;
  o.limits.max_key_bytes = 64;
  o.limits.max_batch_ops = 8;
  StartServer(o);
  uint32_t max = o.limits.MaxFrameBytes();
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, FrameHeader(max + 1)));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor(
      [&] { return Logged("max_frame_bytes=" + std::to_string(max)); }));
  ExpectStillServing();
}

TEST_F(ApiServerTest, SlowClientIsCutOffAtTheReadDeadline) {
  api::ApiServerOptions o;
  o.read_timeout_ms = 300;
  StartServer(o);
  int fd = RawConnect(port_);
  EXPECT_TRUE(TrickleUntilClosed(fd, FrameHeader(64) + "ab", "c"));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return Logged("read timeout"); }));
  ExpectStillServing();
}

TEST_F(ApiServerTest, IdleConnectionIsClosed) {
  api::ApiServerOptions o;
  o.idle_timeout_ms = 200;
  StartServer(o);
  int fd = RawConnect(port_);
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return Logged("idle timeout"); }));
}

TEST_F(ApiServerTest, ConnectionFloodIsBounded) {
  api::ApiServerOptions o;
  o.max_connections = 8;
  StartServer(o);
  // One well-behaved client connected before the flood keeps working.
  auto keeper = NewClient();
  ASSERT_TRUE(keeper.Put("before", "1").ok());
  long rss_before = RssBytes();
  std::vector<int> flood;
  for (int i = 0; i < 200; ++i) {
    int fd = RawConnect(port_);
    if (fd >= 0) flood.push_back(fd);
  }
  ASSERT_TRUE(WaitFor([&] { return server_->refused_connections() >= 150; }))
      << server_->refused_connections();
  EXPECT_LE(server_->open_connections(), 8);
  EXPECT_TRUE(Logged("max_connections=8"));
  EXPECT_TRUE(keeper.Put("during", "2").ok());
  // Loose bound: 200 refused connections must not cost memory per socket.
  EXPECT_LT(RssBytes() - rss_before, 64L << 20);
  for (int fd : flood) ::close(fd);
  ASSERT_TRUE(WaitFor([&] { return server_->open_connections() <= 1; }));
  ExpectStillServing();
}

TEST_F(ApiServerTest, ReplyMessageTypeIsRefused) {
  StartServer();
  // A well-formed T_REPLY message is not a call.
  auto buf = std::make_shared<tt::TMemoryBuffer>();
  tp::TBinaryProtocol p(buf);
  p.writeMessageBegin("get", tp::T_REPLY, 1);
  p.writeStructBegin("x");
  p.writeFieldStop();
  p.writeStructEnd();
  p.writeMessageEnd();
  std::string body = buf->getBufferAsString();
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, FrameHeader(body.size()) + body));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return Logged("is not a call"); }));
  ExpectStillServing();
}

TEST_F(ApiServerTest, MutualTlsRefusesClientsWithoutACertificate) {
  char tmpl[] = "/tmp/sb-api-tls-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_TRUE(MakeTestCertificates(dir));
  api::ApiServerOptions o;
  o.tls = {dir + "/node.pem", dir + "/node.key", dir + "/ca.pem"};
  StartServer(o);

  auto status_over = [&](const sb::wire::TlsFiles& files) {
    std::string why;
    auto ctx = sb::wire::TlsContext::Create(files, /*server=*/false, &why);
    EXPECT_NE(ctx, nullptr) << why;
    auto sock = ctx->factory().createSocket("127.0.0.1", port_);
    sock->setRecvTimeout(5000);
    auto trans = std::make_shared<tt::TFramedTransport>(sock);
    shardbearer::wire::AdminClient admin(
        std::make_shared<tp::TBinaryProtocol>(trans));
    shardbearer::wire::NodeStatus st;
    try {
      trans->open();
      admin.status(st);
      return st.node_id;
    } catch (const std::exception&) {
      return int64_t{-1};
    }
  };
  // A client with a certificate from the cluster CA is served.
  EXPECT_EQ(
      status_over({dir + "/node.pem", dir + "/node.key", dir + "/ca.pem"}), 7);
  // One whose certificate another CA signed is refused.
  EXPECT_EQ(
      status_over({dir + "/rogue.pem", dir + "/rogue.key", dir + "/ca.pem"}),
      -1);
  // The C++ client with the node certificate works; without TLS it is
  // refused.
  client::ClientOptions co;
  co.addresses = {"127.0.0.1:" + std::to_string(port_)};
  co.max_attempts = 2;
  co.tls_cert_file = dir + "/node.pem";
  co.tls_key_file = dir + "/node.key";
  co.tls_ca_file = dir + "/ca.pem";
  client::Client tls_client(co);
  EXPECT_TRUE(tls_client.Put("over-tls", "v").ok());
  co.tls_cert_file = dir + "/missing.pem";
  auto bad = client::Client(co).Get("k");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, client::ErrorCode::kInvalidArgument);
  auto c = NewClient();
  EXPECT_FALSE(c.Get("k").ok());
  EXPECT_TRUE(WaitFor([&] { return Logged("closing connection from"); }));
  server_.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sb::test
