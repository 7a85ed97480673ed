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
#include <list>
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
  void Observe(uint8_t* frame, size_t len) {
    TMemoryBuffer view(frame, static_cast<uint32_t>(len), OBSERVE,
                       configuration_);
    swap(view);
    resetConsumedMessageSize();  // back to the configured maximum, then
    resetConsumedMessageSize(static_cast<long>(len));  // shrunk
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

}  // namespace

// ---- Plaintext connections: the event loop --------------------------------
//
// Plaintext connections are read by the EventServer's loop thread, which
// must not block. Get and put go to KvHandler::GetAsync / PutAsync when the
// handler can answer them without blocking (the order's driver thread then
// encodes and writes the answer). Every other request (and a get or put the
// handler leaves to the synchronous path, such as one forwarded to another
// radiant) runs on a worker thread. Either way the EventServer keeps one
// request per connection in flight, so answers leave in request order.
// (TLS connections keep a thread each: one TLS session must not be read and
// written by two threads at once.)

// Threads for the requests that may block, created as they are needed (at
// most `max_threads`, one per open connection is all that can be busy) and
// ended after a minute without work.
class Workers {
 public:
  explicit Workers(int max_threads) : max_(max_threads) {}
  ~Workers() { Stop(); }

  void Post(std::function<void()> task) {
    std::list<std::thread> finished;
    {
      std::lock_guard<std::mutex> l(mu_);
      finished.swap(finished_);
      tasks_.push_back(std::move(task));
      // A waiting thread counts as free until it has woken and taken a
      // task: a new thread is needed when the queued tasks outnumber them
      // (several posted at once must not queue behind one blocking call).
      if (tasks_.size() <= static_cast<size_t>(idle_) ||
          static_cast<int>(threads_.size()) >= max_) {
        cv_.notify_one();
      } else {
        threads_.emplace_back();
        auto self = std::prev(threads_.end());
        try {
          *self = std::thread([this, self] { Run(self); });
        } catch (...) {
          // No thread for it: the task is not run, the caller learns why.
          threads_.erase(self);
          tasks_.pop_back();
          throw;
        }
      }
    }
    for (std::thread& t : finished) t.join();
  }

  // Finishes the queued tasks, then joins every thread. Idempotent.
  void Stop() {
    std::list<std::thread> all;
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
      all.swap(threads_);
      all.splice(all.end(), finished_);
    }
    cv_.notify_all();
    for (std::thread& t : all) t.join();
  }

 private:
  void Run(std::list<std::thread>::iterator self) {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      ++idle_;
      const bool woken = cv_.wait_for(l, std::chrono::minutes(1),
                                      [&] { return stop_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty()) {
        if (stop_) return;
        if (!woken) {
          // Idle for a minute: leave; the next Post joins this thread.
          finished_.splice(finished_.end(), threads_, self);
          return;
        }
        continue;
      }
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      l.unlock();
      task();
      task = nullptr;
      l.lock();
    }
  }

  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::list<std::thread> threads_, finished_;
  int idle_ = 0;
  bool stop_ = false;
};

namespace {

using sb::wire::EventConnection;

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

// An encoding buffer a thread keeps for its replies (Reply copies what the
// socket does not take, so it is free again at once). One that grew past
// 1 MiB for a large answer is let go after it.
struct ReplyBuffer {
  std::shared_ptr<TMemoryBuffer> buf = std::make_shared<TMemoryBuffer>();
  std::shared_ptr<TBinaryProtocol> proto =
      std::make_shared<TBinaryProtocol>(buf);

  static ReplyBuffer& Mine() {
    if (!mine) mine = std::make_unique<ReplyBuffer>();
    mine->buf->resetBuffer();
    return *mine;
  }
  // Writes the buffered reply to conn.
  void Send(const std::shared_ptr<EventConnection>& conn) {
    uint8_t* data = nullptr;
    uint32_t len = 0;
    buf->getBuffer(&data, &len);
    if (len == 0) {
      conn->NoReply();  // a oneway call
    } else {
      conn->Reply(data, len);
    }
    if (len > (1u << 20)) mine.reset();
  }
  static thread_local std::unique_ptr<ReplyBuffer> mine;
};
thread_local std::unique_ptr<ReplyBuffer> ReplyBuffer::mine;

// Encodes the reply message for `result` (or, with `error`, a
// TApplicationException) and writes it, on the calling thread.
template <typename Result>
void SendReply(const std::shared_ptr<EventConnection>& conn, const char* method,
               int32_t seqid, const Result& result, const char* error) {
  ReplyBuffer& out = ReplyBuffer::Mine();
  try {
    if (error != nullptr) {
      apache::thrift::TApplicationException x(error);
      out.proto->writeMessageBegin(
          method, apache::thrift::protocol::T_EXCEPTION, seqid);
      x.write(out.proto.get());
    } else {
      out.proto->writeMessageBegin(method, apache::thrift::protocol::T_REPLY,
                                   seqid);
      result.write(out.proto.get());
    }
    out.proto->writeMessageEnd();
  } catch (const std::exception& e) {
    return conn->Close(3, std::string("encoding a reply failed: ") + e.what());
  }
  out.Send(conn);
}

// Decodes the arguments of `method` from `in` and validates them; then
// starts the handler's asynchronous form or, when it leaves the request to
// the synchronous one, runs that on a worker. The reply is written by the
// thread that completes the request.
template <typename Args, typename Result, typename Reply, typename Validate,
          typename Start, typename Sync>
void Dispatch(const std::shared_ptr<EventConnection>& conn, const char* method,
              int32_t seqid, TBinaryProtocol* in, Workers* workers,
              Validate&& validate, Start&& start, Sync&& sync) {
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
  if (!valid) return SendReply(conn, method, seqid, invalid, nullptr);
  KvHandler::Done<Reply> done = [conn, method, seqid](ApiOr<Reply> r) {
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
    SendReply(conn, method, seqid, res, error);
  };
  if (start(args.request, done)) return;
  workers->Post([request = std::move(args.request), done = std::move(done),
                 sync = std::forward<Sync>(sync)] { done(sync(request)); });
}

const std::set<std::string>& AdminMethods() {
  static const std::set<std::string> m = {
      "status",         "query_config",   "init",  "join",
      "leave",          "move",           "drain", "remove_node",
      "pause_autonomy", "resume_autonomy"};
  return m;
}

// Checks a request frame's encoding and reads its message header from `in`
// (which then points at the frame's start again). False + *why when the
// frame is malformed or not a call.
bool PeekCall(uint8_t* frame, size_t len, FrameView* in, TBinaryProtocol* peek,
              std::string* name, TMessageType* type, int32_t* seqid,
              std::string* why) {
  if (!sb::wire::CheckBinaryMessage(frame, len, why)) return false;
  try {
    in->Observe(frame, len);
    peek->readMessageBegin(*name, *type, *seqid);
  } catch (const std::exception& e) {
    *why = e.what();
    return false;
  }
  if (*type != apache::thrift::protocol::T_CALL &&
      *type != apache::thrift::protocol::T_ONEWAY) {
    *why = "message type " + std::to_string(*type) + " is not a call";
    return false;
  }
  // Rewind (the message-size budget counts consumed bytes).
  in->Observe(frame, len);
  return true;
}

}  // namespace

// The loop thread's decoding state: one request is decoded at a time.
struct ApiServer::Decoder {
  explicit Decoder(uint32_t max_frame_bytes)
      : in(std::make_shared<FrameView>(
            sb::wire::BoundedConfig(max_frame_bytes))),
        peek(std::make_shared<TBinaryProtocol>(in)),
        proto(std::make_shared<TBinaryProtocol>(in)) {
    peek->setStrict(true, true);
  }
  std::shared_ptr<FrameView> in;
  std::shared_ptr<TBinaryProtocol> peek, proto;
};

void ApiServer::OnFrame(const std::shared_ptr<EventConnection>& conn,
                        uint8_t* frame, size_t len) {
  std::string name, why;
  TMessageType type;
  int32_t seqid = 0;
  Decoder& d = *decoder_;
  if (!PeekCall(frame, len, d.in.get(), d.peek.get(), &name, &type, &seqid,
                &why)) {
    return conn->Close(3, "malformed request (" + why + ")");
  }
  try {
    if (type == apache::thrift::protocol::T_CALL &&
        (name == "get" || name == "put")) {
      d.proto->readMessageBegin(name, type, seqid);
      Validator v(options_.limits);
      if (name == "get") {
        Dispatch<wire::Kv_get_args, wire::Kv_get_result, wire::GetResult>(
            conn, "get", seqid, d.proto.get(), workers_.get(),
            [&](const wire::GetRequest& q) { v.Key(q.key); },
            [&](const wire::GetRequest& q,
                KvHandler::Done<wire::GetResult>& done) {
              return kv_->GetAsync(q, done);
            },
            [kv = kv_](const wire::GetRequest& q) { return kv->Get(q); });
      } else {
        Dispatch<wire::Kv_put_args, wire::Kv_put_result, wire::PutResult>(
            conn, "put", seqid, d.proto.get(), workers_.get(),
            [&](const wire::PutRequest& q) {
              v.Key(q.key);
              v.Value(q.value);
              v.Write(q.write_id);
            },
            [&](const wire::PutRequest& q,
                KvHandler::Done<wire::PutResult>& done) {
              return kv_->PutAsync(q, done);
            },
            [kv = kv_](const wire::PutRequest& q) { return kv->Put(q); });
      }
      return;
    }
  } catch (const apache::thrift::TException& e) {
    return conn->Close(3, std::string("malformed request (") + e.what() + ")");
  }
  // Everything else is answered by the generated processor on a worker,
  // from its own copy of the frame.
  workers_->Post([this, conn,
                  request = std::string(reinterpret_cast<char*>(frame), len),
                  admin = AdminMethods().count(name) > 0]() mutable {
    thread_local Decoder d(options_.limits.MaxFrameBytes());
    ReplyBuffer& out = ReplyBuffer::Mine();
    bool ok = false;
    std::string why = "request could not be processed";
    try {
      d.in->Observe(reinterpret_cast<uint8_t*>(request.data()), request.size());
      ok = (admin ? admin_processor_ : kv_processor_)
               ->process(d.proto, out.proto, nullptr);
    } catch (const std::exception& e) {
      why = std::string("malformed request (") + e.what() + ")";
    }
    if (!ok) return conn->Close(3, why);
    out.Send(conn);
  });
}

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
  std::string why;
  if (options_.tls.enabled()) {
    so.tls = sb::wire::TlsContext::Create(options_.tls, true, &why);
    if (!so.tls) return Status::InvalidArgument("api: " + why);
    if (!tls_server_.Start(
            so, [this](sb::wire::FramedConnection& c) { ServeTls(c); }, &why)) {
      return Status::IOError("api: " + why);
    }
    return Status::OK();
  }
  decoder_ = std::make_unique<Decoder>(so.limits.max_frame_bytes);
  workers_ = std::make_unique<Workers>(options_.max_connections);
  if (!server_.Start(
          so,
          [this](const std::shared_ptr<EventConnection>& c, uint8_t* frame,
                 size_t len) { OnFrame(c, frame, len); },
          &why)) {
    return Status::IOError("api: " + why);
  }
  return Status::OK();
}

void ApiServer::Stop() {
  // The loop first: it waits (bounded) for the requests in flight to be
  // answered, some of them by workers.
  server_.Stop();
  tls_server_.Stop();
  if (workers_) workers_->Stop();
}

std::string ApiServer::address() const {
  return options_.tls.enabled() ? tls_server_.address() : server_.address();
}
int ApiServer::open_connections() const {
  return options_.tls.enabled() ? tls_server_.open_connections()
                                : server_.open_connections();
}
uint64_t ApiServer::refused_connections() const {
  return options_.tls.enabled() ? tls_server_.refused_connections()
                                : server_.refused_connections();
}

void ApiServer::ServeTls(sb::wire::FramedConnection& conn) {
  std::string frame, why;
  // Decoding state and the reply buffer live as long as the connection: a
  // request allocates none of them.
  Decoder d(conn.limits().max_frame_bytes);
  auto out = std::make_shared<TMemoryBuffer>();
  auto out_proto = std::make_shared<TBinaryProtocol>(out);
  const std::string closing = "api: closing connection from " + conn.peer();
  for (;;) {
    sb::wire::ReadResult r = conn.ReadFrame(&frame, &why);
    if (r == sb::wire::ReadResult::kClosed) return;
    if (r != sb::wire::ReadResult::kOk) {
      // Idle clients and our own shutdown are routine; the rest is bad input.
      bool routine = r == sb::wire::ReadResult::kIdle || conn.interrupted();
      options_.log(
          routine ? 1 : 3,
          closing + ": " + sb::wire::ReadResultName(r) + " (" + why + ")");
      return;
    }
    // Check the encoding and peek the method name to pick the service
    // (names are unique); the generated processor decodes and answers.
    auto* bytes = reinterpret_cast<uint8_t*>(frame.data());
    std::string name;
    TMessageType type;
    int32_t seqid;
    if (!PeekCall(bytes, frame.size(), d.in.get(), d.peek.get(), &name, &type,
                  &seqid, &why)) {
      options_.log(3, closing + ": malformed request (" + why + ")");
      return;
    }
    bool ok = false;
    try {
      auto& processor =
          AdminMethods().count(name) ? admin_processor_ : kv_processor_;
      out->resetBuffer();
      ok = processor->process(d.proto, out_proto, nullptr);
    } catch (const std::exception& e) {
      options_.log(3, closing + ": malformed request (" + e.what() + ")");
      return;
    }
    if (!ok) {
      options_.log(3, closing + ": request could not be processed");
      return;
    }
    // One reply frame (none for oneway calls), straight from the buffer.
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
