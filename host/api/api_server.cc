// host/api/api_server.cc — see api_server.h.
#include "host/api/api_server.h"

#include <spdlog/spdlog.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <csignal>
#include <set>

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

void ApiServer::Stop() { server_.Stop(); }

void ApiServer::Serve(sb::wire::FramedConnection& conn) {
  std::string frame, why;
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
