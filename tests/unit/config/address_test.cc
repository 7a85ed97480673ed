#include "host/config/address.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(HostPortTest, ParsesIpv4NameAndIpv6) {
  StatusOr<HostPort> a = HostPort::Parse("10.0.0.1:7400");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "10.0.0.1");
  EXPECT_EQ(a->port, 7400);

  StatusOr<HostPort> b = HostPort::Parse("Node-1.Example.com:1");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->host, "Node-1.Example.com");
  EXPECT_EQ(b->Normalized(), "node-1.example.com:1");

  StatusOr<HostPort> c = HostPort::Parse("[::1]:65535");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 65535);
  EXPECT_EQ(c->ToString(), "[::1]:65535");
}

TEST(HostPortTest, RejectsMalformedAddresses) {
  for (const char* bad :
       {"", "10.0.0.1", "10.0.0.1:", ":7400", "10.0.0.1:0", "10.0.0.1:65536",
        "10.0.0.1:74a0", "999.0.0.1:7400", "::1:7400", "[::1]7400", "[::1:7400",
        "[not-v6]:7400", "bad_host:7400", "-lead.example:7400", "a..b:7400",
        "10.0.0.1:-1", "host name:7400"}) {
    StatusOr<HostPort> hp = HostPort::Parse(bad);
    EXPECT_FALSE(hp.ok()) << "accepted '" << bad << "'";
    if (!hp.ok()) {
      EXPECT_TRUE(hp.status().IsInvalidArgument());
      EXPECT_NE(hp.status().message().find("expected host:port"),
                std::string::npos)
          << hp.status().message();
    }
  }
}

TEST(HostPortTest, NormalizesLocalhostAndIpText) {
  EXPECT_EQ(HostPort::Parse("localhost:7400")->Normalized(), "127.0.0.1:7400");
  EXPECT_EQ(HostPort::Parse("LOCALHOST.:7400")->Normalized(), "127.0.0.1:7400");
  EXPECT_EQ(HostPort::Parse("[0:0::1]:7400")->Normalized(), "[::1]:7400");
  EXPECT_NE(HostPort::Parse("127.0.0.1:7400")->Normalized(),
            HostPort::Parse("127.0.0.1:7401")->Normalized());
}

TEST(HostPortTest, WildcardAndLoopback) {
  EXPECT_TRUE(HostPort::Parse("0.0.0.0:1")->IsWildcard());
  EXPECT_TRUE(HostPort::Parse("[::]:1")->IsWildcard());
  EXPECT_FALSE(HostPort::Parse("127.0.0.1:1")->IsWildcard());
  EXPECT_TRUE(HostPort::Parse("127.1.2.3:1")->IsLoopback());
  EXPECT_TRUE(HostPort::Parse("localhost:1")->IsLoopback());
  EXPECT_TRUE(HostPort::Parse("[::1]:1")->IsLoopback());
  EXPECT_FALSE(HostPort::Parse("10.0.0.1:1")->IsLoopback());
}

}  // namespace
}  // namespace sb
