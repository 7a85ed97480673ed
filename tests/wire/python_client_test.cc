// Runs tests/wire/python_roundtrip.py with /usr/bin/python3 (where
// python3-thrift lives) against an API server this test starts on
// 127.0.0.1, using the Python bindings generated at build time.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "host/api/api_server.h"
#include "host/api/startup_handlers.h"
#include "shardbearer/client.h"
#include "tests/wire/memory_kv_handler.h"
#include "tests/wire/test_support.h"

namespace sb::test {
namespace {

TEST(PythonClient, RoundTripsAgainstTheApiServer) {
  api::NodeInfo info;
  info.node_id = 7;
  info.version = "0.1.0";
  api::ApiServer server(std::make_shared<MemoryKvHandler>(),
                        std::make_shared<api::StartupAdminHandler>(info));
  api::ApiServerOptions o;
  o.limits.max_key_bytes = 1024;
  ASSERT_TRUE(server.Start(o).ok());
  std::string cmd = std::string("PYTHONPATH=") + SB_PYTHON_GEN_DIR + ":" +
                    SB_PYTHON_CLIENT_DIR + " timeout 60 /usr/bin/python3 " +
                    SB_PYTHON_TEST_SCRIPT + " " +
                    std::to_string(PortOf(server.address())) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) output += buf;
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find("python round trip ok"), std::string::npos) << output;
}

TEST(ClientHash, MatchesTheDocumentedFnv1a) {
  // Same vectors as the Python test: offset basis, and "a".
  EXPECT_EQ(client::ShardForKey("", 64), 14695981039346656037ull % 64);
  EXPECT_EQ(client::ShardForKey("a", 64), 0xAF63DC4C8601EC8Cull % 64);
}

}  // namespace
}  // namespace sb::test
