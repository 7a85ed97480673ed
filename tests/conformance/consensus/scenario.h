// tests/conformance/consensus/scenario.h — the fixture shared by the
// consensus conformance scenarios.
//
// Each scenario is a value-parameterized test over (plugin, seed): it builds
// a simulated cluster (tests/simulation/cluster.h), drives it, and at the end
// the fixture asserts that no invariant was violated. Every failure message
// carries the seed and the command that replays it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/simulation/cluster.h"

namespace sb::sim {

struct ScenarioParam {
  std::string plugin;
  uint64_t seed;
};

inline std::vector<ScenarioParam> ScenarioParams(
    const std::vector<std::string>& plugins, size_t default_seeds = 4) {
  std::vector<ScenarioParam> out;
  for (const std::string& p : plugins) {
    for (uint64_t s : SimSeeds(default_seeds)) out.push_back({p, s});
  }
  return out;
}

inline std::string ScenarioName(
    const ::testing::TestParamInfo<ScenarioParam>& info) {
  return info.param.plugin + "_seed" + std::to_string(info.param.seed);
}

class Scenario : public ::testing::TestWithParam<ScenarioParam> {
 protected:
  // Builds and starts the cluster; fails the test if it cannot start.
  Cluster& Make(size_t nodes, NetworkOptions net = NetworkOptions::Reliable(),
                uint64_t snapshot_every = 0,
                std::vector<PluginConfigEntry> extra = {}) {
    ClusterOptions o;
    o.plugin = GetParam().plugin;
    o.seed = GetParam().seed;
    o.nodes = nodes;
    o.net = net;
    o.snapshot_every = snapshot_every;
    o.config = std::move(extra);
    cluster_ = std::make_unique<Cluster>(o);
    Status s = cluster_->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    // Scenario-local randomness, derived from the same seed.
    rng_ = std::make_unique<Rng>(o.seed * 0x9e3779b97f4a7c15ULL + 17);
    return *cluster_;
  }

  void TearDown() override {
    if (cluster_ != nullptr) {
      EXPECT_TRUE(cluster_->ok()) << cluster_->Report();
    }
  }

  Cluster& c() { return *cluster_; }
  Rng& rng() { return *rng_; }
  // Election timeout of the default configuration, in ticks.
  static constexpr uint64_t kElection = 10;
  // A random payload of n bytes.
  std::string RandomCmd(size_t n = 8) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back('a' + rng().Uniform(26));
    return s;
  }

 private:
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<Rng> rng_;
};

// Assertions that print the replay command.
#define SIM_ASSERT_TRUE(cond) ASSERT_TRUE(cond) << c().Report()
#define SIM_EXPECT_TRUE(cond) EXPECT_TRUE(cond) << c().Report()
#define SIM_ASSERT_EQ(a, b) ASSERT_EQ(a, b) << c().Report()
#define SIM_EXPECT_EQ(a, b) EXPECT_EQ(a, b) << c().Report()
#define SIM_ASSERT_NE(a, b) ASSERT_NE(a, b) << c().Report()
#define SIM_ASSERT_OK(expr)                                          \
  do {                                                               \
    ::sb::Status _st = (expr);                                       \
    ASSERT_TRUE(_st.ok()) << _st.ToString() << "\n" << c().Report(); \
  } while (0)

// Instantiates suite `Suite` for the given plugins.
#define SB_INSTANTIATE_SCENARIOS(Suite, ...)                         \
  INSTANTIATE_TEST_SUITE_P(                                          \
      All, Suite,                                                    \
      ::testing::ValuesIn(::sb::sim::ScenarioParams({__VA_ARGS__})), \
      ::sb::sim::ScenarioName)

}  // namespace sb::sim
