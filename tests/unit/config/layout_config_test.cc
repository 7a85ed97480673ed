// [layout]: a static layout naming every radiant and its order; each rule
// refused with its position.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/config/config.h"

namespace sb {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kNode =
    "[node]\n"
    "id = \"a\"\n"
    "data_dir = \"/tmp/a\"\n"
    "listen_peer = \"127.0.0.1:7401\"\n"
    "listen_client = \"127.0.0.1:7501\"\n";

std::string Radiant(const std::string& id, int order, int n) {
  return "  { id = \"" + id + "\", order = " + std::to_string(order) +
         ", peer = \"127.0.0.1:" + std::to_string(7400 + n) +
         "\", client = \"127.0.0.1:" + std::to_string(7500 + n) + "\" },\n";
}

// Two orders of three: a,b,c in order 1, d,e,f in order 2.
std::string Layout() {
  return "[layout]\nradiants = [\n" + Radiant("a", 1, 1) + Radiant("b", 1, 2) +
         Radiant("c", 1, 3) + Radiant("d", 2, 4) + Radiant("e", 2, 5) +
         Radiant("f", 2, 6) + "]\n";
}

std::string Error(const std::string& text) {
  StatusOr<NodeConfig> c = ParseConfig(text, "t.toml");
  if (c.ok()) return "<accepted>";
  EXPECT_TRUE(c.status().IsInvalidArgument()) << c.status().ToString();
  return c.status().message();
}

TEST(LayoutConfigTest, ParsesEveryRadiantAndNeedsNoSeeds) {
  auto c = ParseConfig(kNode + Layout(), "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->layout.radiants.size(), 6u);
  EXPECT_EQ(c->layout.radiants[4].id, "e");
  EXPECT_EQ(c->layout.radiants[4].order, 2u);
  EXPECT_EQ(c->layout.radiants[4].peer.ToString(), "127.0.0.1:7405");
  EXPECT_EQ(c->layout.radiants[4].client.ToString(), "127.0.0.1:7505");
  EXPECT_TRUE(c->node.seeds.empty());
}

TEST(LayoutConfigTest, FormatRoundTrips) {
  auto c = ParseConfig(kNode + Layout(), "t.toml");
  ASSERT_TRUE(c.ok());
  auto again = ParseConfig(FormatConfig(*c), "formatted.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->layout.radiants.size(), 6u);
  EXPECT_EQ(again->layout.radiants[5].id, "f");
  EXPECT_EQ(again->layout.radiants[5].client.ToString(), "127.0.0.1:7506");
}

TEST(LayoutConfigTest, RefusesMalformedEntries) {
  EXPECT_EQ(Error(kNode + "[layout]\nradiants = []\n"),
            "t.toml:7:12: layout.radiants: expected a non-empty array of "
            "tables { id, order, peer, client }");
  EXPECT_THAT(Error(kNode + "[layout]\nradiants = [\"a\"]\n"),
              StartsWith("t.toml:7:13: layout.radiants[0]: expected a table"));
  EXPECT_THAT(Error(kNode + "[layout]\nradiants = [{ id = \"a\", order = 1, "
                            "peer = \"127.0.0.1:7401\" }]\n"),
              HasSubstr("[layout.radiants[0]]: missing required key 'client'"));
  EXPECT_THAT(Error(kNode + "[layout]\nradiants = [{ id = \"a\", order = 0, "
                            "peer = \"127.0.0.1:7401\", client = "
                            "\"127.0.0.1:7501\" }]\n"),
              HasSubstr("layout.radiants[0].order"));
  EXPECT_THAT(
      Error(kNode + "[layout]\nradiants = [{ id = \"a\", ordr = 1 }]\n"),
      HasSubstr("did you mean 'order'"));
  EXPECT_THAT(Error(kNode + "[layout]\nradiants = [{ id = \"a\", order = 1, "
                            "peer = \"0.0.0.0:7401\", client = "
                            "\"127.0.0.1:7501\" }]\n"),
              HasSubstr("cannot be dialled"));
  EXPECT_THAT(Error(kNode + "[layout]\nmembers = 1\n"),
              HasSubstr("unknown key 'members' in [layout]"));
}

TEST(LayoutConfigTest, RefusesDuplicates) {
  std::string dup_id = "[layout]\nradiants = [\n" + Radiant("a", 1, 1) +
                       Radiant("a", 1, 2) + "]\n";
  EXPECT_THAT(Error(kNode + dup_id),
              HasSubstr("'a' is also layout.radiants[0]'s"));
  std::string dup_peer =
      "[layout]\nradiants = [\n" + Radiant("a", 1, 1) +
      "  { id = \"b\", order = 1, peer = \"127.0.0.1:7401\", client = "
      "\"127.0.0.1:7599\" },\n]\n";
  EXPECT_THAT(Error(kNode + dup_peer),
              HasSubstr("layout.radiants[1].peer: '127.0.0.1:7401' is also"));
}

TEST(LayoutConfigTest, CrossTableRules) {
  // This node must be in the layout, at the addresses it advertises.
  std::string other = kNode;
  other.replace(other.find("\"a\""), 3, "\"z\"");
  EXPECT_THAT(
      Error(other + Layout()),
      HasSubstr("this node (node.id = 'z') is not one of the radiants"));
  std::string moved = kNode;
  moved.replace(moved.find("7501"), 4, "7599");
  EXPECT_THAT(Error(moved + Layout()),
              HasSubstr("but [node] advertises peer 127.0.0.1:7401 and client "
                        "127.0.0.1:7599"));
  // Every order has replication_factor radiants.
  EXPECT_THAT(Error(kNode + "[cluster]\nreplication_factor = 5\n" + Layout()),
              HasSubstr("order 1 has 3 radiants, but "
                        "cluster.replication_factor is 5"));
  // No more orders than shards.
  EXPECT_THAT(Error(kNode + "[cluster]\nshards = 1\n" + Layout()),
              HasSubstr("1 shards cannot cover the layout's 2 orders"));
  // Not with single_node.
  EXPECT_THAT(Error("[node]\nid = \"a\"\ndata_dir = \"/tmp/a\"\n"
                    "listen_peer = \"127.0.0.1:7401\"\n"
                    "listen_client = \"127.0.0.1:7501\"\nsingle_node = true\n" +
                    Layout()),
              HasSubstr("[layout] contradicts node.single_node = true"));
}

}  // namespace
}  // namespace sb
