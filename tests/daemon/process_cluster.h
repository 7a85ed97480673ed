// tests/daemon/process_cluster.h — a cluster of real shardbearerd processes
// on loopback, for process-level tests.
//
// ProcessCluster writes one config per radiant (free ports on 127.0.0.1,
// storage-rocksdb in a private temp directory, one static [layout] of
// `orders` orders of `replicas` radiants) and starts, signals, kills and
// restarts the processes. Every wait is bounded; the destructor kills what
// still runs (SIGCONT first, for a stopped process) and removes the
// directory. Radiants are numbered 0..size()-1; radiant i belongs to order
// i / replicas + 1 and is named "r<i>".
//
// Thread safety: none; one test thread drives it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "shardbearer/wire/Admin.h"
#include "shardbearer/wire/Kv.h"
#include "tests/daemon/ports.h"
#include "tests/wire/test_support.h"

namespace sb::testing {

struct ClusterSpec {
  int orders = 1;
  int replicas = 3;
  int shards = 8;
  std::string consensus = "raft";
  std::string name = "cluster";  // part of the temp directory's name
  // Mutual TLS on every client port ([node] client_tls_*), with a CA and
  // node certificate made in the cluster's directory (tls_dir()).
  bool client_tls = false;
};

// A generated Thrift connection to one node's client port.
struct ApiConnection {
  std::shared_ptr<apache::thrift::transport::TSocket> socket;
  std::shared_ptr<apache::thrift::transport::TFramedTransport> transport;
  std::unique_ptr<shardbearer::wire::KvClient> kv;
  std::unique_ptr<shardbearer::wire::AdminClient> admin;

  ApiConnection(int port, int timeout_ms = 10000) {
    namespace tt = apache::thrift::transport;
    socket = std::make_shared<tt::TSocket>("127.0.0.1", port);
    socket->setConnTimeout(timeout_ms);
    socket->setRecvTimeout(timeout_ms);
    socket->setSendTimeout(timeout_ms);
    transport = std::make_shared<tt::TFramedTransport>(socket);
    auto proto =
        std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport);
    kv = std::make_unique<shardbearer::wire::KvClient>(proto);
    admin = std::make_unique<shardbearer::wire::AdminClient>(proto);
    transport->open();
  }
};

class ProcessCluster {
 public:
  explicit ProcessCluster(ClusterSpec spec) : spec_(std::move(spec)) {
    namespace fs = std::filesystem;
    dir_ = fs::temp_directory_path() /
           ("sb-" + spec_.name + "-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const int n = spec_.orders * spec_.replicas;
    for (int i = 0; i < n; ++i) {
      peer_ports_.push_back(FreePort());
      client_ports_.push_back(FreePort());
    }
    pids_.assign(n, -1);
    std::string tls;
    if (spec_.client_tls) {
      tls_ok_ = sb::test::MakeTestCertificates(dir_.string());
      tls = "client_tls_cert_file = \"" + tls_dir() +
            "/node.pem\"\nclient_tls_key_file = \"" + tls_dir() +
            "/node.key\"\nclient_tls_ca_file = \"" + tls_dir() + "/ca.pem\"\n";
    }
    std::ostringstream layout;
    layout << "[layout]\nradiants = [\n";
    for (int i = 0; i < n; ++i) {
      layout << "  { id = \"r" << i << "\", order = " << OrderOf(i)
             << ", peer = \"127.0.0.1:" << peer_ports_[i]
             << "\", client = \"127.0.0.1:" << client_ports_[i] << "\" },\n";
    }
    layout << "]\n";
    for (int i = 0; i < n; ++i) {
      std::ofstream(Config(i))
          << "[node]\nid = \"r" << i << "\"\ndata_dir = \""
          << (dir_ / ("data" + std::to_string(i))).string()
          << "\"\nlisten_peer = \"127.0.0.1:" << peer_ports_[i]
          << "\"\nlisten_client = \"127.0.0.1:" << client_ports_[i] << "\"\n"
          << tls << "[cluster]\nshards = " << spec_.shards
          << "\nreplication_factor = " << spec_.replicas
          << "\ntick_ms = 50\nrequest_timeout_ms = 3000\n"
          << "[consensus]\nplugin = \"" << spec_.consensus << "\"\n"
          << layout.str() << "[logging]\nsink = \"file\"\nfile = \""
          << (dir_ / ("r" + std::to_string(i) + ".log")).string() << "\"\n";
    }
  }

  ~ProcessCluster() {
    for (size_t i = 0; i < pids_.size(); ++i) Kill(static_cast<int>(i));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  int size() const { return static_cast<int>(pids_.size()); }
  // With client_tls: where ca.pem, node.pem and node.key are, and whether
  // making them worked.
  std::string tls_dir() const { return dir_.string(); }
  bool tls_ok() const { return tls_ok_; }
  int OrderOf(int i) const { return i / spec_.replicas + 1; }
  int client_port(int i) const { return client_ports_[i]; }
  std::string client_address(int i) const {
    return "127.0.0.1:" + std::to_string(client_ports_[i]);
  }
  std::vector<std::string> client_addresses() const {
    std::vector<std::string> out;
    for (int i = 0; i < size(); ++i) out.push_back(client_address(i));
    return out;
  }
  bool running(int i) const { return pids_[i] > 0; }
  std::string Config(int i) const {
    return (dir_ / ("r" + std::to_string(i) + ".toml")).string();
  }
  std::string Log(int i) const {
    std::ifstream in(dir_ / ("r" + std::to_string(i) + ".log"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Starts radiant i and waits (bounded) for its client port. False (with
  // the reason in *why) if it exits or never serves.
  bool Start(int i, std::string* why) {
    if (running(i)) return true;
    // The log goes to its file; the start-up report on stdout is noise.
    const pid_t pid =
        SpawnDaemon(SHARDBEARERD, Config(i), /*quiet_stdout=*/true);
    if (pid < 0) {
      *why = "fork failed";
      return false;
    }
    pids_[i] = pid;
    bool exited = false;
    if (WaitListening(pid, {client_ports_[i]}, 30, why, &exited)) return true;
    if (exited) pids_[i] = -1;
    *why = "r" + std::to_string(i) + ": " + *why + "; log: " + Log(i);
    return false;
  }

  bool StartAll(std::string* why) {
    // Start every process first, then wait: an order elects only once a
    // majority of it runs.
    for (int i = 0; i < size(); ++i) {
      if (!Start(i, why)) return false;
    }
    return true;
  }

  void Signal(int i, int sig) {
    if (running(i)) kill(pids_[i], sig);
  }

  // SIGKILL and reap (SIGCONT first, in case it is stopped).
  void Kill(int i) {
    if (!running(i)) return;
    kill(pids_[i], SIGCONT);
    kill(pids_[i], SIGKILL);
    waitpid(pids_[i], nullptr, 0);
    pids_[i] = -1;
  }

  // SIGTERM; true if it exits with status 0 within `seconds` (else it is
  // killed).
  bool Stop(int i, int seconds = 30) {
    if (!running(i)) return true;
    kill(pids_[i], SIGTERM);
    for (int t = 0; t < seconds * 20; ++t) {
      int status = 0;
      if (waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
        pids_[i] = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Kill(i);
    return false;
  }

  // Admin status of radiant i (nullopt when it does not answer).
  std::optional<shardbearer::wire::NodeStatus> Status(int i) const {
    try {
      ApiConnection c(client_ports_[i], 2000);
      shardbearer::wire::NodeStatus s;
      c.admin->status(s);
      return s;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  // The radiant that is herald of `order` (-1 if none answers as herald
  // within `seconds`).
  int WaitHerald(int order, int seconds = 30) const {
    for (int t = 0; t < seconds * 10; ++t) {
      for (int i = 0; i < size(); ++i) {
        if (OrderOf(i) != order || !running(i)) continue;
        auto s = Status(i);
        if (s && s->role == shardbearer::wire::NodeRole::HERALD) return i;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

 private:
  ClusterSpec spec_;
  std::filesystem::path dir_;
  std::vector<int> peer_ports_;
  std::vector<int> client_ports_;
  std::vector<pid_t> pids_;
  bool tls_ok_ = false;
};

}  // namespace sb::testing
