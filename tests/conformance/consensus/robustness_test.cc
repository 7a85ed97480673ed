// Bad input from a peer never crashes a node: every message a real group
// exchanged, truncated at every length and with random bytes flipped, is
// stepped into a live node. Malformed bytes must be refused with an error;
// whatever decodes must leave the node working.
#include "tests/conformance/consensus/scenario.h"

namespace sb::sim {
namespace {

class Robustness : public Scenario {};

TEST_P(Robustness, MalformedMessagesNeverCrash) {
  std::vector<std::pair<uint64_t, std::string>> seen;  // (to, bytes)
  {
    Make(3, NetworkOptions::Reliable(), 5,
         {{"max_batch_bytes", "32", SB_CONFIG_INTEGER}});
    c().set_send_tap([&](uint64_t, uint64_t to, const std::string& data) {
      if (seen.size() < 400) seen.emplace_back(to, data);
    });
    uint64_t lag = 3;
    c().Disconnect(lag);
    for (int i = 0; i < 20; ++i) {
      SIM_ASSERT_TRUE(c().One("k=" + std::to_string(i), 2, true) != 0);
    }
    c().Connect(lag);
    SIM_ASSERT_TRUE(c().One("k=done", 3, true) != 0);  // snapshot traffic
    c().set_send_tap(nullptr);
    SIM_ASSERT_TRUE(c().ok());
  }
  SIM_ASSERT_TRUE(seen.size() > 50);
  // Truncated messages and messages with trailing bytes are always refused,
  // and leave the group (checked by the fixture) working.
  Make(3);
  SIM_ASSERT_NE(c().CheckOneLeader(), 0u);
  for (const auto& [to, msg] : seen) {
    std::vector<std::string> mutants;
    for (size_t len = 0; len < msg.size(); len += 1 + msg.size() / 16) {
      mutants.push_back(msg.substr(0, len));
    }
    mutants.push_back(msg + "trailing");
    for (const std::string& m : mutants) {
      ConsensusInstance* inst = c().instance(to);
      if (inst == nullptr) continue;
      Status s = inst->Step(m);
      SIM_EXPECT_TRUE(s.code() == Code::kCorruption);
    }
    c().Tick();
  }
  SIM_ASSERT_TRUE(c().One("alive=1", 3, true, 5000) != 0);

  // Random byte flips may decode into well-formed but forged messages;
  // Raft does not tolerate forgery (peers are authenticated by the
  // transport), so only the absence of crashes and memory errors (run
  // under ASan) is checked, on a separate group.
  ClusterOptions o;
  o.plugin = GetParam().plugin;
  o.seed = GetParam().seed;
  Cluster forged(o);
  SIM_ASSERT_OK(forged.Start());
  forged.RunTicks(100);
  int refused = 0;
  for (const auto& [to, msg] : seen) {
    for (int f = 0; f < 8; ++f) {
      std::string m = msg;
      m[rng().Uniform(m.size())] ^= static_cast<char>(1 + rng().Uniform(255));
      if (ConsensusInstance* inst = forged.instance(to)) {
        if (!inst->Step(m).ok()) ++refused;
      }
    }
    forged.Tick();
  }
  SIM_EXPECT_TRUE(refused > 0);
}

SB_INSTANTIATE_SCENARIOS(Robustness, "raft");

}  // namespace
}  // namespace sb::sim
