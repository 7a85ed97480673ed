// shardbearer-ctl and the metrics endpoint against a real single-node
// shardbearerd (storage-mem, consensus solo) on 127.0.0.1: `status` (text
// and --json), `config` and the other Admin verbs answer the server's typed
// error with exit code 1, usage errors exit 2, an unreachable node exits 3;
// GET /metrics serves the node's metrics in Prometheus text format, other
// requests get 404/405/400, and the node keeps serving after garbage.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/daemon/ports.h"

namespace {

namespace fs = std::filesystem;
using sb::testing::Accepts;
using sb::testing::FreePort;
using sb::testing::SpawnDaemon;
using sb::testing::WaitListening;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Ran {
  int code = -1;
  std::string out, err;
};

// Runs shardbearer-ctl with `args` (a shell-quoted string), capturing
// stdout and stderr; bounded by the tool's own --timeout-ms.
Ran Ctl(const std::string& args, const fs::path& dir) {
  const fs::path out = dir / "ctl.out", err = dir / "ctl.err";
  const std::string cmd = std::string(SHARDBEARER_CTL) + " " + args + " >" +
                          out.string() + " 2>" + err.string();
  Ran r;
  int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream o(out), e(err);
  r.out.assign(std::istreambuf_iterator<char>(o), {});
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  return r;
}

// One HTTP exchange with 127.0.0.1:port (read until the server closes;
// bounded by a 10 s receive timeout).
std::string Http(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "<connect failed>";
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (int i = 0; i < 1000; ++i) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

class CtlMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sb-ctl-metrics-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    client_port_ = FreePort();
    metrics_port_ = FreePort();
    ASSERT_GT(client_port_, 0);
    ASSERT_GT(metrics_port_, 0);
    ASSERT_NE(client_port_, metrics_port_);
    const fs::path config = dir_ / "n.toml";
    std::ofstream(config) << "[node]\nid = \"radiant-c\"\ndata_dir = \""
                          << (dir_ / "data").string()
                          << "\"\nlisten_peer = \"127.0.0.1:" << FreePort()
                          << "\"\nlisten_client = \"127.0.0.1:" << client_port_
                          << "\"\nsingle_node = true\n"
                          << "[cluster]\nshards = 8\ntick_ms = 20\n"
                          << "[metrics]\nlisten = \"127.0.0.1:" << metrics_port_
                          << "\"\n[storage]\nplugin = \"storage-mem\"\n"
                          << "[consensus]\nplugin = \"solo\"\n"
                          << "[logging]\nsink = \"file\"\nfile = \""
                          << (dir_ / "node.log").string() << "\"\n";
    pid_ = SpawnDaemon(SHARDBEARERD, config.string());
    ASSERT_GT(pid_, 0);
    std::string why;
    ASSERT_TRUE(WaitListening(pid_, {client_port_, metrics_port_}, 30, &why))
        << why << "; log in " << (dir_ / "node.log");
    address_ = "--address 127.0.0.1:" + std::to_string(client_port_);
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (!HasFailure()) fs::remove_all(dir_);
  }

  fs::path dir_;
  int client_port_ = 0, metrics_port_ = 0;
  std::string address_;
  pid_t pid_ = -1;
};

TEST_F(CtlMetricsTest, StatusTextAndJson) {
  Ran r = Ctl(address_ + " status", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("node          radiant-c (id "));
  EXPECT_THAT(r.out, HasSubstr("client        127.0.0.1:" +
                               std::to_string(client_port_)));
  EXPECT_THAT(r.out, HasSubstr("  storage=storage-mem "));
  EXPECT_THAT(r.out, HasSubstr("  consensus=solo "));
  EXPECT_THAT(r.out, HasSubstr("classifier    not configured"));

  r = Ctl("status --json " + address_, dir_);  // flags after the command
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("{\"node_id\":"));
  EXPECT_THAT(r.out, HasSubstr("\"node_name\":\"radiant-c\""));
  // A single node leads its order of one.
  EXPECT_THAT(r.out, HasSubstr("\"role\":\"HERALD\",\"order_id\":1,"));
  EXPECT_THAT(r.out, HasSubstr("\"classifier\":null}"));
}

TEST_F(CtlMetricsTest, ConfigPrintsTheLayout) {
  Ran r = Ctl(address_ + " config", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("configuration 1, 8 shards\n"));
  EXPECT_THAT(r.out, HasSubstr(" radiant-c client 127.0.0.1:" +
                               std::to_string(client_port_)));
  r = Ctl(address_ + " config 3", dir_);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, StartsWith("shardbearer-ctl: InvalidArgument: "));
  EXPECT_THAT(r.err, HasSubstr("configuration 3 does not exist"));
}

TEST_F(CtlMetricsTest, AdminVerbsPrintTheServersTypedError) {
  for (const char* verb :
       {"init", "init my-cluster", "join 5 10.0.0.5:7500 10.0.0.5:7400",
        "leave 5", "move 3 2", "drain 5", "remove 5", "pause", "resume"}) {
    Ran r = Ctl(address_ + " " + verb, dir_);
    EXPECT_EQ(r.code, 1) << verb << ": " << r.out << r.err;
    EXPECT_THAT(r.err, StartsWith("shardbearer-ctl: NotReady: ")) << verb;
    EXPECT_THAT(r.err, HasSubstr("runs a static layout")) << verb;
    EXPECT_EQ(r.out, "") << verb;
  }
}

TEST_F(CtlMetricsTest, UsageErrorsAndUnreachableNode) {
  for (const char* bad :
       {"", "frobnicate", "status extra", "--bogus status", "config x",
        "config -2", "leave", "leave abc", "move 70000 1", "join 5 a",
        "--timeout-ms 0 status", "--address status", "--address nocolon status",
        "--tls-cert /x status",
        "--tls-cert /nonexistent --tls-key /x --tls-ca /y status"}) {
    Ran r = Ctl(address_ + " " + bad, dir_);
    EXPECT_EQ(r.code, 2) << "'" << bad << "': " << r.out << r.err;
    EXPECT_THAT(r.err, StartsWith("shardbearer-ctl: ")) << bad;
    EXPECT_THAT(r.err, HasSubstr("usage: shardbearer-ctl")) << bad;
  }
  Ran help = Ctl("--help", dir_);
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("exit codes: 0 ok"));

  const int nobody = FreePort();
  Ran r =
      Ctl("--timeout-ms 2000 --address 127.0.0.1:" + std::to_string(nobody) +
              " status",
          dir_);
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot connect to 127.0.0.1:" +
                               std::to_string(nobody)));
}

TEST_F(CtlMetricsTest, MetricsEndpoint) {
  std::string r =
      Http(metrics_port_, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(r, HasSubstr("# TYPE shardbearer_uptime_seconds gauge\n"));
  EXPECT_THAT(r, HasSubstr("shardbearer_node_starts_total 1\n"));
  EXPECT_THAT(r, HasSubstr("shardbearer_build_info{node=\"radiant-c\","));
  EXPECT_THAT(r, HasSubstr("shardbearer_plugin_info{kind=\"storage\","
                           "name=\"storage-mem\""));
  EXPECT_THAT(r, HasSubstr("shardbearer_plugin_info{kind=\"consensus\","
                           "name=\"solo\""));
  // No [classifier]: no classifier metrics.
  EXPECT_EQ(r.find("shardbearer_classifier"), std::string::npos);

  EXPECT_THAT(Http(metrics_port_, "GET / HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(Http(metrics_port_, "PUT /metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 405"));
  EXPECT_THAT(Http(metrics_port_, std::string("\0\1\2\3\r\n\r\n", 8)),
              StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Http(metrics_port_, std::string(100000, 'x')),
              StartsWith("HTTP/1.1 431"));
  // The node is still up and serving both ports.
  EXPECT_EQ(waitpid(pid_, nullptr, WNOHANG), 0);
  EXPECT_THAT(Http(metrics_port_, "GET /metrics HTTP/1.0\r\n\r\n"),
              StartsWith("HTTP/1.1 200 OK"));
  EXPECT_EQ(Ctl(address_ + " status", dir_).code, 0);
}

}  // namespace
