// shardbearer-ctl against the node's real API server in this process
// (host/api, start-up handlers): the classifier section of `status` (text
// and JSON) from the handler's live provider, `status` over mutual TLS
// (refused without a certificate or with another CA's), and JSON escaping.
// The daemon-level tests are in tests/daemon/ctl_metrics_test.cc.
#include "tools/ctl/ctl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "host/api/api_server.h"
#include "host/api/startup_handlers.h"
#include "tests/wire/test_support.h"

namespace sb::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace w = ::shardbearer::wire;

struct Ran {
  int code;
  std::string out, err;
};

Ran Ctl(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = ctl::Run(args, out, err);
  return {code, out.str(), err.str()};
}

class CtlTest : public ::testing::Test {
 protected:
  void StartServer(api::ApiServerOptions o, bool with_classifier) {
    api::NodeInfo info;
    info.node_id = 7;
    info.node_name = "n7";
    info.version = "0.1.0";
    info.client_address = "127.0.0.1:0";
    info.plugins = {"storage=storage-mem 1.0.0"};
    if (with_classifier) {
      info.classifier_status = [this]() -> std::optional<w::ClassifierStatus> {
        w::ClassifierStatus c;
        c.plugin = "bpf-qdisc";
        c.attached = true;
        c.interface_name = "eth9";
        c.client_port = 7500;
        c.peer_port = 7400;
        c.join_port = 7600;
        c.allowed = calls_.fetch_add(1) + 1;  // live: changes per call
        c.dropped = 4;
        c.join_admitted = 5;
        c.join_limited = 6;
        c.egress_client_marked = 9;
        return c;
      };
    }
    server_ = std::make_unique<api::ApiServer>(
        std::make_shared<api::NotReadyKvHandler>("test"),
        std::make_shared<api::StartupAdminHandler>(info));
    o.log = [](int, const std::string&) {};
    Status st = server_->Start(o);
    ASSERT_TRUE(st.ok()) << st.ToString();
    address_ = "127.0.0.1:" + std::to_string(PortOf(server_->address()));
  }
  void TearDown() override { server_.reset(); }

  std::atomic<int> calls_{0};
  std::unique_ptr<api::ApiServer> server_;
  std::string address_;
};

TEST_F(CtlTest, StatusShowsLiveClassifierCounters) {
  StartServer({}, /*with_classifier=*/true);
  Ran r = Ctl({"--address", address_, "status"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("node          n7 (id 7)\n"));
  EXPECT_THAT(r.out, HasSubstr("classifier    bpf-qdisc on eth9: attached\n"));
  EXPECT_THAT(r.out, HasSubstr("  ports       client 7500, peer 7400, "
                               "join 7600\n"));
  EXPECT_THAT(r.out, HasSubstr("  ingress     allowed 1, dropped 4,"));
  EXPECT_THAT(r.out, HasSubstr("  join        admitted 5, limited 6\n"));
  EXPECT_THAT(r.out, HasSubstr("  egress      peer marked 0, client "
                               "marked 9\n"));
  r = Ctl({"--json", "--address=" + address_, "status"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"classifier\":{\"plugin\":\"bpf-qdisc\","
                               "\"attached\":true,\"interface\":\"eth9\","));
  EXPECT_THAT(r.out, HasSubstr("\"allowed\":2,"));  // read again
  EXPECT_THAT(r.out, HasSubstr("\"join_admitted\":5,\"join_limited\":6,"));
}

TEST_F(CtlTest, StatusWithoutClassifier) {
  StartServer({}, /*with_classifier=*/false);
  Ran r = Ctl({"-a", address_, "status"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("classifier    not configured\n"));
  r = Ctl({"-a", address_, "--json", "status"});
  EXPECT_THAT(r.out, HasSubstr("\"classifier\":null}"));
}

TEST_F(CtlTest, MutualTls) {
  char tmpl[] = "/tmp/sb-ctl-tls-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_TRUE(MakeTestCertificates(dir));
  api::ApiServerOptions o;
  o.tls = {dir + "/node.pem", dir + "/node.key", dir + "/ca.pem"};
  StartServer(o, /*with_classifier=*/false);
  Ran r = Ctl({"--address", address_, "--tls-cert", dir + "/node.pem",
               "--tls-key", dir + "/node.key", "--tls-ca", dir + "/ca.pem",
               "--timeout-ms", "5000", "status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("node          n7 (id 7)"));
  // Another CA's certificate, and no TLS at all: the connection fails.
  r = Ctl({"--address", address_, "--tls-cert", dir + "/rogue.pem", "--tls-key",
           dir + "/rogue.key", "--tls-ca", dir + "/ca.pem", "--timeout-ms",
           "5000", "status"});
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  r = Ctl({"--address", address_, "--timeout-ms", "5000", "status"});
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_THAT(r.err, StartsWith("shardbearer-ctl: "));
  server_.reset();
  std::filesystem::remove_all(dir);
}

TEST(CtlJsonTest, StringsAreEscaped) {
  EXPECT_EQ(ctl::JsonString("a\"b\\c\n\x01\x7f"),
            "\"a\\\"b\\\\c\\n\\u0001\\u007f\"");
}

}  // namespace
}  // namespace sb::test
