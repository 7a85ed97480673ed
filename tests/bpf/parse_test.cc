// Unit tests of the plugin's pure parts: CIDR text and the [classifier]
// configuration section. No kernel involved.
#include <gtest/gtest.h>

#include "cidr.h"
#include "options.h"

namespace sb::bpfq {
namespace {

TEST(CidrTest, ParsesIpv4AndIpv6) {
  Cidr c;
  std::string err;
  ASSERT_TRUE(ParseCidr("10.0.0.0/8", &c, &err)) << err;
  EXPECT_EQ(c.family, 4);
  EXPECT_EQ(c.prefixlen, 8u);
  EXPECT_EQ(c.addr[0], 10);
  EXPECT_EQ(c.ToString(), "10.0.0.0/8");
  ASSERT_TRUE(ParseCidr("fd00::/8", &c, &err)) << err;
  EXPECT_EQ(c.family, 6);
  EXPECT_EQ(c.prefixlen, 8u);
  ASSERT_TRUE(ParseCidr("10.1.2.3", &c, &err)) << err;
  EXPECT_EQ(c.prefixlen, 32u);
  ASSERT_TRUE(ParseCidr("::1", &c, &err)) << err;
  EXPECT_EQ(c.prefixlen, 128u);
  ASSERT_TRUE(ParseCidr("0.0.0.0/0", &c, &err)) << err;
  EXPECT_EQ(c.prefixlen, 0u);
}

TEST(CidrTest, Ipv4MappedIpv6BecomesIpv4) {
  Cidr c;
  std::string err;
  ASSERT_TRUE(ParseCidr("::ffff:10.0.0.0/104", &c, &err)) << err;
  EXPECT_EQ(c.ToString(), "10.0.0.0/8");
  ASSERT_TRUE(ParseCidr("::ffff:10.1.2.3", &c, &err)) << err;
  EXPECT_EQ(c.ToString(), "10.1.2.3/32");
  EXPECT_FALSE(ParseCidr("::ffff:10.1.2.3/104", &c, &err));
  EXPECT_NE(err.find("10.0.0.0/8"), std::string::npos) << err;
  ASSERT_TRUE(HostCidrFromAddress("[::ffff:10.0.0.7]:7001", &c, &err)) << err;
  EXPECT_EQ(c.ToString(), "10.0.0.7/32");
  // The whole mapped range is every IPv4 source.
  ASSERT_TRUE(ParseCidr("::ffff:0:0/96", &c, &err)) << err;
  EXPECT_EQ(c.ToString(), "0.0.0.0/0");
  // Other IPv6 prefixes stay IPv6.
  ASSERT_TRUE(ParseCidr("::/80", &c, &err)) << err;
  EXPECT_EQ(c.family, 6);
}

TEST(CidrTest, RejectsBadInput) {
  Cidr c;
  std::string err;
  for (const char* bad :
       {"", "10.0.0.0/", "10.0.0.0/33", "fd00::/129", "10.0.0/8", "hello",
        "10.0.0.0/8x", "10.0.0.0/-1", "1.2.3.4/ 8", "::1/1/2"}) {
    EXPECT_FALSE(ParseCidr(bad, &c, &err)) << bad;
    EXPECT_FALSE(err.empty());
  }
  EXPECT_FALSE(ParseCidr("10.0.0.1/8", &c, &err));
  EXPECT_NE(err.find("did you mean 10.0.0.0/8"), std::string::npos) << err;
  EXPECT_FALSE(ParseCidr("fd00::1/64", &c, &err));
  EXPECT_NE(err.find("fd00::/64"), std::string::npos) << err;
}

TEST(CidrTest, HostCidrFromMemberAddress) {
  Cidr c;
  std::string err;
  ASSERT_TRUE(HostCidrFromAddress("10.200.0.2:7001", &c, &err)) << err;
  EXPECT_EQ(c.ToString(), "10.200.0.2/32");
  ASSERT_TRUE(HostCidrFromAddress("[fd00::2]:7001", &c, &err)) << err;
  EXPECT_EQ(c.ToString(), "fd00::2/128");
  ASSERT_TRUE(HostCidrFromAddress("fd00::2", &c, &err)) << err;
  EXPECT_EQ(c.ToString(), "fd00::2/128");
  EXPECT_FALSE(HostCidrFromAddress("10.0.0.0/8", &c, &err));
  EXPECT_FALSE(HostCidrFromAddress("node1.example:7001", &c, &err));
  EXPECT_FALSE(HostCidrFromAddress("[fd00::2", &c, &err));
}

sb_config MakeConfig(const std::vector<sb_config_entry>& entries) {
  sb_config cfg = {};
  cfg.struct_size = sizeof cfg;
  cfg.entries = entries.data();
  cfg.count = entries.size();
  return cfg;
}

sb_config_entry Entry(const char* key, const char* value,
                      uint32_t type = SB_CONFIG_STRING) {
  return sb_config_entry{sizeof(sb_config_entry), type, key, value};
}

TEST(OptionsTest, DefaultsAndAllKeys) {
  Options o;
  sb_status st = {};
  ASSERT_EQ(ParseOptions(nullptr, &o, &st), SB_OK);
  EXPECT_EQ(o.join_rate, 10u);
  EXPECT_EQ(o.peer_priority, 6u);
  std::vector<sb_config_entry> e = {
      Entry("interface", "eth0"),
      Entry("allowed_cidrs", "10.0.0.0/8, fd00::/8", SB_CONFIG_ARRAY),
      Entry("denied_cidrs", "10.6.0.0/16", SB_CONFIG_ARRAY),
      Entry("join_rate", "5", SB_CONFIG_INTEGER),
      Entry("join_burst", "7", SB_CONFIG_INTEGER),
      Entry("peer_priority", "1:10"),
      Entry("client_priority", "0x10020", SB_CONFIG_INTEGER),
      Entry("tc_handle", "77", SB_CONFIG_INTEGER),
      Entry("tc_priority", "3", SB_CONFIG_INTEGER),
  };
  sb_config cfg = MakeConfig(e);
  ASSERT_EQ(ParseOptions(&cfg, &o, &st), SB_OK) << st.message;
  EXPECT_EQ(o.interface, "eth0");
  EXPECT_EQ(o.allowed_cidrs,
            (std::vector<std::string>{"10.0.0.0/8", "fd00::/8"}));
  EXPECT_EQ(o.denied_cidrs, (std::vector<std::string>{"10.6.0.0/16"}));
  EXPECT_EQ(o.join_rate, 5u);
  EXPECT_EQ(o.join_burst, 7u);
  EXPECT_EQ(o.peer_priority, 0x10010u);
  EXPECT_EQ(o.client_priority, 0x10020u);
  EXPECT_EQ(o.tc_handle, 77u);
  EXPECT_EQ(o.tc_priority, 3u);
  // An empty array is an empty list.
  std::vector<sb_config_entry> empty = {
      Entry("allowed_cidrs", "", SB_CONFIG_ARRAY)};
  cfg = MakeConfig(empty);
  ASSERT_EQ(ParseOptions(&cfg, &o, &st), SB_OK) << st.message;
  EXPECT_TRUE(o.allowed_cidrs.empty());
}

TEST(OptionsTest, RejectsUnknownKeysAndBadValues) {
  struct Case {
    const char* key;
    const char* value;
    const char* expect_in_message;
  } cases[] = {
      {"interfaces", "eth0", "unknown key 'interfaces'"},
      {"interface", "", "interface"},
      {"interface", "a-very-long-interface-name", "interface"},
      {"allowed_cidrs", "10.0.0.0/8,banana", "banana"},
      {"denied_cidrs", "10.0.0.1/8", "did you mean"},
      {"join_rate", "-1", "join_rate"},
      {"join_rate", "1000001", "join_rate"},
      {"join_burst", "ten", "join_burst"},
      {"peer_priority", "1:", "peer_priority"},
      {"client_priority", "10000:1", "client_priority"},
      {"tc_handle", "0", "tc_handle"},
      {"tc_priority", "65536", "tc_priority"},
  };
  for (const Case& c : cases) {
    std::vector<sb_config_entry> e = {Entry(c.key, c.value)};
    sb_config cfg = MakeConfig(e);
    Options o;
    sb_status st = {};
    EXPECT_EQ(ParseOptions(&cfg, &o, &st), SB_INVALID_ARGUMENT)
        << c.key << "=" << c.value;
    EXPECT_NE(std::string(st.message).find(c.expect_in_message),
              std::string::npos)
        << st.message;
  }
}

}  // namespace
}  // namespace sb::bpfq
