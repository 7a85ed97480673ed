// Bad input never crashes the loader: mutated copies of every example file
// (seeded, bounded in count) each parse or fail with a positioned message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "host/config/config.h"

namespace sb {
namespace {

namespace fs = std::filesystem;

constexpr int kMutationsPerFile = 400;

std::string Mutate(std::string text, std::mt19937& rng) {
  static const char kAlphabet[] = "[]{}=\"',.#\n\\ 0123456789aZ_-:\x00\xff";
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !text.empty(); ++e) {
    size_t at = rng() % text.size();
    char c = kAlphabet[rng() % (sizeof kAlphabet - 1)];
    switch (rng() % 4) {
      case 0:
        text[at] = c;
        break;  // replace
      case 1:
        text.insert(text.begin() + at, c);
        break;  // insert
      case 2:
        text.erase(at, 1 + rng() % 8);
        break;  // delete
      default:
        text.insert(at, text.substr(rng() % text.size(), 16));  // dup
    }
  }
  return text;
}

TEST(ConfigMutationTest, MutatedExamplesNeverCrash) {
  std::mt19937 rng(20240601);  // fixed: a failure replays exactly
  int files = 0, accepted = 0, refused = 0;
  for (const auto& entry :
       fs::recursive_directory_iterator(SB_CONFIG_EXAMPLES_DIR)) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string original = ss.str();
    for (int i = 0; i < kMutationsPerFile; ++i) {
      const std::string text = Mutate(original, rng);
      StatusOr<NodeConfig> c = ParseConfig(text, "m.toml");
      if (c.ok()) {
        ++accepted;
        // Whatever was accepted formats and loads back.
        StatusOr<NodeConfig> again = ParseConfig(FormatConfig(*c), "f.toml");
        ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
      } else {
        ++refused;
        ASSERT_TRUE(c.status().IsInvalidArgument()) << c.status().ToString();
        ASSERT_EQ(c.status().message().rfind("m.toml:", 0), 0u)
            << c.status().message() << "\n--- input ---\n"
            << text;
      }
    }
  }
  EXPECT_GE(files, 5);
  EXPECT_GT(refused, 0);
  EXPECT_GT(accepted, 0);  // mutations inside comments or values still load
}

}  // namespace
}  // namespace sb
