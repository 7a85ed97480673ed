// host/api/api_server.cc — see api_server.h.
#include "host/api/api_server.h"

#include <spdlog/spdlog.h>
#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "shardbearer/wire/Admin.h"
#include "shardbearer/wire/Kv.h"

namespace sb::api {

namespace {

using apache::thrift::TConfiguration;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TMessageType;
using apache::thrift::transport::TMemoryBuffer;

// A read-only view of one request frame, kept for a connection's life and
// re-pointed at each frame. TMemoryBuffer::resetBuffer(ptr, n, OBSERVE)
// would re-point it too, but builds a temporary buffer, and with it a
// fresh TConfiguration, on every call; this allocates nothing.
class FrameView : public TMemoryBuffer {
 public:
  // `config` bounds the largest frame the connection accepts.
  explicit FrameView(std::shared_ptr<TConfiguration> config)
      : TMemoryBuffer(nullptr, 0, OBSERVE, std::move(config)) {}

  // Reads `frame` (which must outlive the reads) from its first byte. The
  // message-size budget, which every string and container length read is
  // checked against, becomes the frame's size.
  void Observe(std::string& frame) {
    TMemoryBuffer view(reinterpret_cast<uint8_t*>(frame.data()),
                       static_cast<uint32_t>(frame.size()), OBSERVE,
                       configuration_);
    swap(view);
    resetConsumedMessageSize();  // back to the configured maximum, then
    resetConsumedMessageSize(static_cast<long>(frame.size()));  // shrunk
  }
};

// Throws the IDL exception that matches e.
[[noreturn]] void Throw(const ApiError& e) {
  switch (e.kind) {
    case ApiError::Kind::kWrongGroup: {
      wire::WrongGroup x;
      x.message = e.message;
      x.shard = e.shard;
      x.config_num = e.config_num;
      throw x;
    }
    case ApiError::Kind::kWrongLeader: {
      wire::WrongLeader x;
      x.message = e.message;
      x.leader_hint = e.leader_hint;
      x.leader_node_id = e.leader_node_id;
      throw x;
    }
    case ApiError::Kind::kTimeout: {
      wire::Timeout x;
      x.message = e.message;
      throw x;
    }
    case ApiError::Kind::kTooLarge: {
      wire::TooLarge x;
      x.message = e.message;
      x.subject = e.subject;
      x.size = e.size;
      x.max_allowed = e.max_allowed;
      throw x;
    }
    case ApiError::Kind::kNotReady: {
      wire::NotReady x;
      x.message = e.message;
      x.retry_after_ms = e.retry_after_ms;
      throw x;
    }
    case ApiError::Kind::kInvalidArgument:
      break;
  }
  wire::InvalidArgument x;
  x.message = e.message;
  throw x;
}

template <typename T>
void Answer(T* out, ApiOr<T> r) {
  if (!r.ok()) Throw(r.error());
  *out = std::move(r.value());
}

// Validates request fields against the limits; throws the typed errors.
class Validator {
 public:
  explicit Validator(const ApiLimits& l) : l_(l) {}
  void Key(const std::string& k) const {
    if (k.empty()) Throw(ApiError::InvalidArgument("empty key"));
    if (k.size() > l_.max_key_bytes) {
      Throw(ApiError::TooLarge("key", k.size(), l_.max_key_bytes));
    }
  }
  void Value(const std::string& v) const {
    if (v.size() > l_.max_value_bytes) {
      Throw(ApiError::TooLarge("value", v.size(), l_.max_value_bytes));
    }
  }
  void Write(const wire::WriteId& id) const {
    if (id.client_id == 0 || id.sequence <= 0) {
      Throw(ApiError::InvalidArgument(
          "write_id needs a non-zero client_id and a sequence >= 1"));
    }
  }

 private:
  const ApiLimits& l_;
};

class KvService : public wire::KvIf {
 public:
  KvService(std::shared_ptr<KvHandler> h, const ApiLimits& l)
      : h_(std::move(h)), v_(l), l_(l) {}
  void get(wire::GetResult& out, const wire::GetRequest& r) override {
    v_.Key(r.key);
    Answer(&out, h_->Get(r));
  }
  void put(wire::PutResult& out, const wire::PutRequest& r) override {
    v_.Key(r.key);
    v_.Value(r.value);
    v_.Write(r.write_id);
    Answer(&out, h_->Put(r));
  }
  void append(wire::AppendResult& out, const wire::AppendRequest& r) override {
    v_.Key(r.key);
    v_.Value(r.value);
    v_.Write(r.write_id);
    Answer(&out, h_->Append(r));
  }
  void remove(wire::DeleteResult& out, const wire::DeleteRequest& r) override {
    v_.Key(r.key);
    v_.Write(r.write_id);
    Answer(&out, h_->Delete(r));
  }
  void compare_and_set(wire::CasResult& out,
                       const wire::CasRequest& r) override {
    v_.Key(r.key);
    if (r.__isset.expected) v_.Value(r.expected);
    if (r.__isset.new_value) v_.Value(r.new_value);
    v_.Write(r.write_id);
    Answer(&out, h_->CompareAndSet(r));
  }
  void multi_get(wire::MultiGetResult& out,
                 const wire::MultiGetRequest& r) override {
    if (r.keys.empty())
      Throw(ApiError::InvalidArgument("multi_get of no keys"));
    if (r.keys.size() > l_.max_batch_ops) {
      Throw(ApiError::TooLarge("batch", r.keys.size(), l_.max_batch_ops));
    }
    for (const auto& k : r.keys) v_.Key(k);
    Answer(&out, h_->MultiGet(r));
    if (out.results.size() != r.keys.size()) {
      Throw(ApiError::Timeout(
          "internal: handler answered " + std::to_string(out.results.size()) +
          " results for " + std::to_string(r.keys.size()) + " keys"));
    }
  }

 private:
  std::shared_ptr<KvHandler> h_;
  Validator v_;
  const ApiLimits& l_;
};

class AdminService : public wire::AdminIf {
 public:
  explicit AdminService(std::shared_ptr<AdminHandler> h) : h_(std::move(h)) {}
  void status(wire::NodeStatus& out) override { Answer(&out, h_->Status()); }
  void query_config(wire::Configuration& out, int64_t num) override {
    Answer(&out, h_->QueryConfig(num));
  }
  void init(wire::AdminResult& out, const wire::InitRequest& r) override {
    Answer(&out, h_->Init(r));
  }
  void join(wire::AdminResult& out, const wire::JoinRequest& r) override {
    NodeId(r.node_id);
    Answer(&out, h_->Join(r));
  }
  void leave(wire::AdminResult& out, const wire::NodeRequest& r) override {
    NodeId(r.node_id);
    Answer(&out, h_->Leave(r));
  }
  void move(wire::AdminResult& out, const wire::MoveRequest& r) override {
    if (r.shard < 0 || r.order_id <= 0) {
      Throw(ApiError::InvalidArgument("move needs shard >= 0, order_id > 0"));
    }
    Answer(&out, h_->Move(r));
  }
  void drain(wire::AdminResult& out, const wire::NodeRequest& r) override {
    NodeId(r.node_id);
    Answer(&out, h_->Drain(r));
  }
  void remove_node(wire::AdminResult& out,
                   const wire::NodeRequest& r) override {
    NodeId(r.node_id);
    Answer(&out, h_->RemoveNode(r));
  }
  void pause_autonomy(wire::AdminResult& out) override {
    Answer(&out, h_->PauseAutonomy());
  }
  void resume_autonomy(wire::AdminResult& out) override {
    Answer(&out, h_->ResumeAutonomy());
  }

 private:
  static void NodeId(int64_t id) {
    if (id <= 0) Throw(ApiError::InvalidArgument("node_id must be > 0"));
  }
  std::shared_ptr<AdminHandler> h_;
};

// ---- Asynchronous get and put ---------------------------------------------
//
// On plaintext connections a get or put is handed to KvHandler::GetAsync /
// PutAsync and the connection's thread goes back to reading: the answer is
// written by whichever thread completes it (the order's driver thread), so
// the connection thread does not sleep twice per request (once for the
// request, once for the answer). At most one request of a connection is in
// flight: the next frame is dispatched only after the previous answer was
// written, so answers leave in request order. (TLS connections keep the
// synchronous path: one TLS session must not be read and written by two
// threads at once.)

}  // namespace

// Finishes answers a client did not take at once (its socket buffer was
// full), one at a time on its own thread, so the thread that completed the
// request (an order's driver) never waits for a client. A client that
// stops reading holds back only the other slow answers, each at most the
// write timeout.
class SlowWriter {
 public:
  SlowWriter() : thread_([this] { Run(); }) {}
  ~SlowWriter() { Stop(); }
  // False once stopped: the caller finishes the write itself.
  bool Push(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return false;
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
  }
  // Finishes what is queued, then stops. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      l.unlock();
      task();
      l.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

namespace {

// What a connection shares with the completions of its requests.
struct AsyncState {
  std::mutex mu;
  std::condition_variable cv;
  sb::wire::FramedConnection* conn = nullptr;  // null once Serve returned
  bool busy = false;                           // a request is in flight
  std::function<void(int, const std::string&)> log;
  std::shared_ptr<SlowWriter> slow;
};

// Longest a connection waits for its request in flight before it gives up
// on the connection (the order answers every request within its request
// timeout; this only covers a stalled driver).
constexpr auto kAsyncWait = std::chrono::seconds(60);

// Runs `fn`, turning the IDL exceptions it throws into `res`'s exception
// fields, as the generated processor does.
template <typename Result, typename Fn>
void Capture(Result* res, Fn&& fn) {
  try {
    fn();
  } catch (wire::WrongGroup& x) {
    res->wrong_group = std::move(x);
    res->__isset.wrong_group = true;
  } catch (wire::WrongLeader& x) {
    res->wrong_leader = std::move(x);
    res->__isset.wrong_leader = true;
  } catch (wire::Timeout& x) {
    res->timeout = std::move(x);
    res->__isset.timeout = true;
  } catch (wire::TooLarge& x) {
    res->too_large = std::move(x);
    res->__isset.too_large = true;
  } catch (wire::NotReady& x) {
    res->not_ready = std::move(x);
    res->__isset.not_ready = true;
  } catch (wire::InvalidArgument& x) {
    res->invalid_argument = std::move(x);
    res->__isset.invalid_argument = true;
  }
}

// Marks the connection free (state->mu held).
void Settle(AsyncState* state) {
  state->busy = false;
  state->cv.notify_all();
}

// An answer could not be written: logged, and the reader closes the
// connection (state->mu held, state->conn set).
void ReplyFailed(AsyncState* state, const std::string& why) {
  state->log(3, "api: reply to " + state->conn->peer() + " failed: " + why);
  state->conn->Interrupt();
}

// Writes the rest of an answer, from byte `offset` on (SlowWriter).
void FinishReply(const std::shared_ptr<AsyncState>& state,
                 const std::shared_ptr<TMemoryBuffer>& buf, size_t offset) {
  std::lock_guard<std::mutex> l(state->mu);
  if (state->conn != nullptr) {
    std::string why;
    uint8_t* data = nullptr;
    uint32_t len = 0;
    buf->getBuffer(&data, &len);
    if (!state->conn->FinishFrame(data, len, offset, &why)) {
      ReplyFailed(state.get(), why);
    }
  }
  Settle(state.get());
}

// Writes one encoded answer (null: none could be encoded; the connection
// closes) as far as the socket takes it at once; the SlowWriter finishes
// the rest.
void WriteReply(const std::shared_ptr<AsyncState>& state,
                std::shared_ptr<TMemoryBuffer> buf) {
  std::unique_lock<std::mutex> l(state->mu);
  if (state->conn == nullptr) return Settle(state.get());
  if (buf == nullptr) {
    state->conn->Interrupt();
    return Settle(state.get());
  }
  std::string why;
  uint8_t* data = nullptr;
  uint32_t len = 0;
  buf->getBuffer(&data, &len);
  const long n = state->conn->TryWriteFrame(data, len, &why);
  if (n < 0) {
    ReplyFailed(state.get(), why);
    return Settle(state.get());
  }
  if (static_cast<size_t>(n) == size_t{len} + 4) return Settle(state.get());
  l.unlock();
  // Still busy: the connection dispatches nothing before this is written.
  auto finish = [state, buf, n] {
    FinishReply(state, buf, static_cast<size_t>(n));
  };
  if (!state->slow->Push(finish)) finish();
}

// Encodes the reply message for `result` (or, with `error`, a
// TApplicationException) and writes it, on the completing thread. (Handing
// answers to a writer thread instead was measured slower: one more
// hand-off, and that thread is preempted by every client it wakes.)
template <typename Result>
void SendReply(const std::shared_ptr<AsyncState>& state, const char* method,
               int32_t seqid, const Result& result, const char* error) {
  auto buf = std::make_shared<TMemoryBuffer>();
  TBinaryProtocol proto(buf);
  try {
    if (error != nullptr) {
      apache::thrift::TApplicationException x(error);
      proto.writeMessageBegin(method, apache::thrift::protocol::T_EXCEPTION,
                              seqid);
      x.write(&proto);
    } else {
      proto.writeMessageBegin(method, apache::thrift::protocol::T_REPLY, seqid);
      result.write(&proto);
    }
    proto.writeMessageEnd();
  } catch (const std::exception& e) {
    buf.reset();
    state->log(3, std::string("api: encoding a reply: ") + e.what());
  }
  WriteReply(state, std::move(buf));
}

// Decodes the arguments of `method` from `in`, validates them and starts
// the handler's asynchronous form; the completion writes the reply.
template <typename Args, typename Result, typename Reply, typename Start,
          typename Validate>
void Dispatch(const std::shared_ptr<AsyncState>& state, const char* method,
              int32_t seqid, TBinaryProtocol* in, Validate&& validate,
              Start&& start) {
  Args args;
  args.read(in);
  in->readMessageEnd();
  in->getTransport()->readEnd();
  Result invalid;
  bool valid = false;
  Capture(&invalid, [&] {
    validate(args.request);
    valid = true;
  });
  {
    std::lock_guard<std::mutex> l(state->mu);
    state->busy = true;
  }
  if (!valid) return SendReply(state, method, seqid, invalid, nullptr);
  start(args.request, [state, method, seqid](ApiOr<Reply> r) {
    Result res;
    const char* error = nullptr;
    try {
      Capture(&res, [&] {
        Answer(&res.success, std::move(r));
        res.__isset.success = true;
      });
    } catch (const std::exception&) {
      error = "internal error answering the request";
    }
    SendReply(state, method, seqid, res, error);
  });
}

const std::set<std::string>& AdminMethods() {
  static const std::set<std::string> m = {
      "status",         "query_config",   "init",  "join",
      "leave",          "move",           "drain", "remove_node",
      "pause_autonomy", "resume_autonomy"};
  return m;
}

}  // namespace

ApiServerOptions ApiServerOptionsFromConfig(const NodeConfig& config) {
  ApiServerOptions o;
  o.listen_address = config.node.listen_client.ToString();
  o.limits = ApiLimits::FromConfig(config.limits);
  o.tls.cert_file = config.node.client_tls_cert_file;
  o.tls.key_file = config.node.client_tls_key_file;
  o.tls.ca_file = config.node.client_tls_ca_file;
  return o;
}

ApiServer::ApiServer(std::shared_ptr<KvHandler> kv,
                     std::shared_ptr<AdminHandler> admin)
    : kv_(std::move(kv)), admin_(std::move(admin)) {}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start(const ApiServerOptions& options) {
  // A client closing while we write (TLS writes use write(2), not
  // send(MSG_NOSIGNAL)) must be an error return, not a process-killing
  // signal. Process-wide, as every server in the process wants it.
  std::signal(SIGPIPE, SIG_IGN);
  options_ = options;
  if (!options_.log) {
    options_.log = [](int level, const std::string& m) {
      spdlog::log(static_cast<spdlog::level::level_enum>(level), "{}", m);
    };
  }
  slow_ = std::make_shared<SlowWriter>();
  kv_processor_ = std::make_shared<wire::KvProcessor>(
      std::make_shared<KvService>(kv_, options_.limits));
  admin_processor_ = std::make_shared<wire::AdminProcessor>(
      std::make_shared<AdminService>(admin_));
  sb::wire::ServerOptions so;
  so.listen_address = options_.listen_address;
  so.max_connections = options_.max_connections;
  so.limits.max_frame_bytes = options_.limits.MaxFrameBytes();
  so.limits.idle_timeout_ms = options_.idle_timeout_ms;
  so.limits.read_timeout_ms = options_.read_timeout_ms;
  so.limits.write_timeout_ms = options_.read_timeout_ms;
  so.name = "api";
  so.log = options_.log;
  if (options_.tls.enabled()) {
    std::string why;
    so.tls = sb::wire::TlsContext::Create(options_.tls, true, &why);
    if (!so.tls) return Status::InvalidArgument("api: " + why);
  }
  std::string why;
  if (!server_.Start(
          so, [this](sb::wire::FramedConnection& c) { Serve(c); }, &why)) {
    return Status::IOError("api: " + why);
  }
  return Status::OK();
}

void ApiServer::Stop() {
  // Connections first: each waits for its request in flight, whose answer
  // the slow writer may still be writing.
  server_.Stop();
  if (slow_) slow_->Stop();
}

void ApiServer::Serve(sb::wire::FramedConnection& conn) {
  std::string frame, why;
  // Requests answered asynchronously (see AsyncState). Before this returns
  // (and the connection is destroyed), the one in flight is waited for,
  // and later completions find no connection.
  auto async = std::make_shared<AsyncState>();
  async->conn = &conn;
  async->log = options_.log;
  async->slow = slow_;
  const bool async_kv = !options_.tls.enabled();
  auto settled = [&] {
    std::unique_lock<std::mutex> l(async->mu);
    return async->cv.wait_for(l, kAsyncWait, [&] { return !async->busy; });
  };
  struct Detach {
    std::shared_ptr<AsyncState> s;
    std::function<bool()> settled;
    ~Detach() {
      settled();
      std::lock_guard<std::mutex> l(s->mu);
      s->conn = nullptr;
    }
  } detach{async, settled};
  // Request and reply buffers and their protocols live as long as the
  // connection: a request allocates none of them.
  auto in = std::make_shared<FrameView>(
      sb::wire::BoundedConfig(conn.limits().max_frame_bytes));
  auto peek_proto = std::make_shared<TBinaryProtocol>(in);
  peek_proto->setStrict(true, true);
  auto in_proto = std::make_shared<TBinaryProtocol>(in);
  auto out = std::make_shared<TMemoryBuffer>();
  auto out_proto = std::make_shared<TBinaryProtocol>(out);
  for (;;) {
    sb::wire::ReadResult r = conn.ReadFrame(&frame, &why);
    if (r == sb::wire::ReadResult::kClosed) return;
    if (!settled()) {
      options_.log(3, "api: closing connection from " + conn.peer() +
                          ": no answer to its request in flight");
      return;
    }
    if (r != sb::wire::ReadResult::kOk) {
      // Idle clients and our own shutdown are routine; the rest is bad input.
      bool routine = r == sb::wire::ReadResult::kIdle || conn.interrupted();
      options_.log(routine ? 1 : 3,
                   "api: closing connection from " + conn.peer() + ": " +
                       sb::wire::ReadResultName(r) + " (" + why + ")");
      return;
    }
    // Step 1: check the encoding, then peek the method name to pick the service
    // (names are unique).
    std::string name;
    TMessageType type;
    int32_t seqid;
    bool ok = true;
    if (!sb::wire::CheckBinaryMessage(
            reinterpret_cast<const uint8_t*>(frame.data()), frame.size(),
            &why)) {
      options_.log(3, "api: closing connection from " + conn.peer() +
                          ": malformed request (" + why + ")");
      return;
    }
    try {
      in->Observe(frame);
      peek_proto->readMessageBegin(name, type, seqid);
      if (type != apache::thrift::protocol::T_CALL &&
          type != apache::thrift::protocol::T_ONEWAY) {
        throw std::runtime_error("message type " + std::to_string(type) +
                                 " is not a call");
      }
      // Step 2: rewind and let the generated processor decode and answer.
      // (Observe again: the message-size budget counts consumed bytes.)
      in->Observe(frame);
      if (async_kv && type == apache::thrift::protocol::T_CALL &&
          (name == "get" || name == "put")) {
        // Get and put answer later, from the completing thread.
        Validator v(options_.limits);
        in_proto->readMessageBegin(name, type, seqid);
        if (name == "get") {
          Dispatch<wire::Kv_get_args, wire::Kv_get_result, wire::GetResult>(
              async, "get", seqid, in_proto.get(),
              [&](const wire::GetRequest& q) { v.Key(q.key); },
              [&](const wire::GetRequest& q,
                  KvHandler::Done<wire::GetResult> d) {
                kv_->GetAsync(q, std::move(d));
              });
        } else {
          Dispatch<wire::Kv_put_args, wire::Kv_put_result, wire::PutResult>(
              async, "put", seqid, in_proto.get(),
              [&](const wire::PutRequest& q) {
                v.Key(q.key);
                v.Value(q.value);
                v.Write(q.write_id);
              },
              [&](const wire::PutRequest& q,
                  KvHandler::Done<wire::PutResult> d) {
                kv_->PutAsync(q, std::move(d));
              });
        }
        continue;
      }
      auto& processor =
          AdminMethods().count(name) ? admin_processor_ : kv_processor_;
      out->resetBuffer();
      ok = processor->process(in_proto, out_proto, nullptr);
    } catch (const std::exception& e) {
      options_.log(3, "api: closing connection from " + conn.peer() +
                          ": malformed request (" + e.what() + ")");
      return;
    }
    if (!ok) {
      options_.log(3, "api: closing connection from " + conn.peer() +
                          ": request could not be processed");
      return;
    }
    // Step 3: one reply frame (none for oneway calls), written straight
    // from the output buffer.
    uint8_t* reply = nullptr;
    uint32_t reply_len = 0;
    out->getBuffer(&reply, &reply_len);
    if (reply_len != 0 && !conn.WriteFrame(reply, reply_len, &why)) {
      options_.log(3, "api: reply to " + conn.peer() + " failed: " + why);
      return;
    }
  }
}

}  // namespace sb::api
