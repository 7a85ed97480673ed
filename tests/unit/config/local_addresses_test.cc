#include "host/config/local_addresses.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sb {
namespace {

using ::testing::StartsWith;

NodeConfig Parse(const std::string& text) {
  StatusOr<NodeConfig> c = ParseConfig(text, "n.toml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : NodeConfig{};
}

const char kWildcard[] =
    "[node]\n"
    "id = \"n1\"\n"
    "data_dir = \"/d\"\n"
    "listen_peer = \"0.0.0.0:7400\"\n"
    "advertise_peer = \"node1.example.com:7400\"\n"
    "seeds = [\"10.0.0.2:7400\", \"10.0.0.1:7400\"]\n";

TEST(LocalAddressesTest, SeedOnALocalAddressOfAWildcardListenerIsThisNode) {
  NodeConfig c = Parse(kWildcard);
  Status st = CheckSeedsAreNotLocal(c, {"127.0.0.1", "10.0.0.1", "::1"});
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_THAT(st.message(),
              StartsWith("n.toml:6:27: node.seeds: '10.0.0.1:7400' is this "
                         "node: 10.0.0.1 is an address of this machine"));
}

TEST(LocalAddressesTest, OtherMachinesAndOtherPortsAreFine) {
  NodeConfig c = Parse(kWildcard);
  EXPECT_TRUE(CheckSeedsAreNotLocal(c, {"127.0.0.1", "10.0.0.9"}).ok());
  // Same machine, another port: another node on this machine.
  NodeConfig other = Parse(
      "[node]\nid = \"n1\"\ndata_dir = \"/d\"\n"
      "listen_peer = \"0.0.0.0:7400\"\nadvertise_peer = \"10.0.0.1:7400\"\n"
      "seeds = [\"10.0.0.1:7401\"]\n");
  EXPECT_TRUE(CheckSeedsAreNotLocal(other, {"10.0.0.1"}).ok());
}

TEST(LocalAddressesTest, SpecificListenAddressIsLeftToTheParser) {
  // Listening on 127.0.0.1 only: a seed on another local address with the
  // same port is another node (e.g. a second loopback address).
  NodeConfig c = Parse(
      "[node]\nid = \"n1\"\ndata_dir = \"/d\"\n"
      "listen_peer = \"127.0.0.1:7400\"\nseeds = [\"127.0.0.2:7400\"]\n");
  EXPECT_TRUE(CheckSeedsAreNotLocal(c, {"127.0.0.1", "127.0.0.2"}).ok());
}

TEST(LocalAddressesTest, Ipv6WildcardAndCanonicalForms) {
  NodeConfig c = Parse(
      "[node]\nid = \"n1\"\ndata_dir = \"/d\"\n"
      "listen_peer = \"[::]:7400\"\nadvertise_peer = \"[2001:db8::1]:7400\"\n"
      "seeds = [\"[2001:DB8:0::2]:7400\"]\n");
  EXPECT_FALSE(CheckSeedsAreNotLocal(c, {"2001:db8::2"}).ok());
}

TEST(LocalAddressesTest, ReadsThisMachinesAddresses) {
  StatusOr<std::vector<std::string>> ips = LocalIpAddresses();
  ASSERT_TRUE(ips.ok()) << ips.status().ToString();
  // Whatever the interfaces are (a fresh network namespace may have none
  // up), each entry is an IP address in canonical form.
  for (const std::string& ip : *ips) {
    StatusOr<HostPort> hp = HostPort::Parse(
        ip.find(':') != std::string::npos ? "[" + ip + "]:1" : ip + ":1");
    ASSERT_TRUE(hp.ok()) << ip;
    EXPECT_EQ(hp->Normalized(), hp->ToString());
  }
  NodeConfig c = Parse(
      "[node]\nid = \"n1\"\ndata_dir = \"/d\"\n"
      "listen_peer = \"0.0.0.0:7400\"\nadvertise_peer = \"10.9.9.9:7400\"\n"
      "seeds = [\"127.0.0.1:7401\"]\n");
  EXPECT_TRUE(CheckSeedsAgainstThisMachine(c).ok());
}

}  // namespace
}  // namespace sb
