// The Python client over mutual TLS against a real single-node shardbearerd
// whose client port requires TLS ([node] client_tls_*_file): runs
// tests/client/python_tls_roundtrip.py with /usr/bin/python3 (round trip,
// then a client without a certificate, one from another CA and a plain TCP
// one refused). The C++ client does the same round trip as a cross-check.
// Certificates are made with openssl in a temporary directory.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "shardbearer/client.h"
#include "tests/daemon/ports.h"
#include "tests/wire/test_support.h"

namespace {

namespace fs = std::filesystem;

class PythonTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sb-python-tls-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(sb::test::MakeTestCertificates(dir_.string()));
    // A client certificate signed by the same CA.
    std::string cmd =
        "cd '" + dir_.string() +
        "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -keyout client.key -out client.csr -subj /CN=sb-client && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out client.pem -days 2 >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    port_ = sb::testing::FreePort();
    ASSERT_GT(port_, 0);
    const fs::path config = dir_ / "n.toml";
    std::ofstream(config) << "[node]\nid = \"radiant-tls\"\ndata_dir = \""
                          << (dir_ / "data").string()
                          << "\"\nlisten_peer = \"127.0.0.1:"
                          << sb::testing::FreePort()
                          << "\"\nlisten_client = \"127.0.0.1:" << port_
                          << "\"\nsingle_node = true\n"
                          << "client_tls_cert_file = \""
                          << (dir_ / "node.pem").string()
                          << "\"\nclient_tls_key_file = \""
                          << (dir_ / "node.key").string()
                          << "\"\nclient_tls_ca_file = \""
                          << (dir_ / "ca.pem").string()
                          << "\"\n[cluster]\nshards = 8\ntick_ms = 20\n"
                          << "[storage]\nplugin = \"storage-rocksdb\"\n"
                          << "[consensus]\nplugin = \"solo\"\n"
                          << "[logging]\nsink = \"file\"\nfile = \""
                          << (dir_ / "node.log").string() << "\"\n";
    pid_ = sb::testing::SpawnDaemon(SHARDBEARERD, config.string());
    ASSERT_GT(pid_, 0);
    // Bounded: 30 s for the node to open storage and listen.
    std::string why;
    ASSERT_TRUE(sb::testing::WaitListening(pid_, {port_}, 30, &why))
        << why << "; log in " << (dir_ / "node.log");
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (!HasFailure()) fs::remove_all(dir_);
  }

  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(PythonTlsTest, RoundTripsOverMutualTlsAndRefusesOthers) {
  std::string cmd = std::string("PYTHONPATH=") + SB_PYTHON_GEN_DIR + ":" +
                    SB_PYTHON_CLIENT_DIR + " timeout 120 /usr/bin/python3 " +
                    SB_PYTHON_TLS_SCRIPT + " " + std::to_string(port_) + " '" +
                    dir_.string() + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) output += buf;
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find("python tls round trip ok"), std::string::npos)
      << output;

  // The C++ client against the same port: served with the client
  // certificate, refused without TLS.
  sb::client::ClientOptions o;
  o.addresses = {"127.0.0.1:" + std::to_string(port_)};
  o.tls_cert_file = (dir_ / "client.pem").string();
  o.tls_key_file = (dir_ / "client.key").string();
  o.tls_ca_file = (dir_ / "ca.pem").string();
  o.max_attempts = 8;
  sb::client::Client c(o);
  auto put = c.Put("cpp", "tls");
  ASSERT_TRUE(put.ok()) << put.error().message;
  auto got = c.Get("cpp");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got.value(), "tls");
  sb::client::ClientOptions plain = o;
  plain.tls_cert_file = plain.tls_key_file = plain.tls_ca_file = "";
  plain.max_attempts = 2;
  sb::client::Client p2(plain);
  auto refused = p2.Get("cpp");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, sb::client::ErrorCode::kUnavailable);
}

}  // namespace
