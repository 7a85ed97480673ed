// Plugin configuration and creation errors: unknown keys and bad values are
// refused with a message naming the key; impossible options fail creation.
#include <gtest/gtest.h>

#include "host/consensus/consensus.h"
#include "host/plugin/loader.h"
#include "tests/simulation/disk.h"

namespace sb {
namespace {

std::shared_ptr<PluginLibrary> Load(const std::string& name) {
  PluginLoader loader;
  auto lib = loader.Load(name, SB_KIND_CONSENSUS);
  EXPECT_TRUE(lib.ok()) << lib.status().ToString();
  return lib.ok() ? *lib : nullptr;
}

TEST(ConsensusConfig, RaftAcceptsItsKeys) {
  auto lib = Load("raft");
  ASSERT_NE(lib, nullptr);
  EXPECT_TRUE(
      ConsensusInstance::CheckConfig(*lib, std::vector<PluginConfigEntry>{})
          .ok());
  Status s = ConsensusInstance::CheckConfig(
      *lib, {{"election_ticks", "20", SB_CONFIG_INTEGER},
             {"heartbeat_ticks", "2", SB_CONFIG_INTEGER},
             {"max_inflight", "8", SB_CONFIG_INTEGER},
             {"max_batch_bytes", "65536", SB_CONFIG_INTEGER},
             {"pre_vote", "false", SB_CONFIG_BOOL},
             {"check_quorum", "true", SB_CONFIG_BOOL},
             {"lease_reads", "true", SB_CONFIG_BOOL}});
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ConsensusConfig, RaftRefusesBadKeysAndValues) {
  auto lib = Load("raft");
  ASSERT_NE(lib, nullptr);
  Status s = ConsensusInstance::CheckConfig(*lib, {{"bogus", "1"}});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("bogus"), std::string::npos) << s.message();
  s = ConsensusInstance::CheckConfig(*lib, {{"election_ticks", "ten"}});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("election_ticks"), std::string::npos);
  s = ConsensusInstance::CheckConfig(*lib, {{"max_inflight", "0"}});
  EXPECT_TRUE(s.IsInvalidArgument());
  s = ConsensusInstance::CheckConfig(*lib, {{"pre_vote", "yes"}});
  EXPECT_TRUE(s.IsInvalidArgument());
  s = ConsensusInstance::CheckConfig(
      *lib, {{"election_ticks", "3"}, {"heartbeat_ticks", "3"}});
  EXPECT_TRUE(s.IsInvalidArgument());
  s = ConsensusInstance::CheckConfig(
      *lib, {{"lease_reads", "true"}, {"check_quorum", "false"}});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("check_quorum"), std::string::npos);
}

TEST(ConsensusConfig, SoloHasNoKeys) {
  auto lib = Load("solo");
  ASSERT_NE(lib, nullptr);
  EXPECT_TRUE(
      ConsensusInstance::CheckConfig(*lib, std::vector<PluginConfigEntry>{})
          .ok());
  Status s = ConsensusInstance::CheckConfig(*lib, {{"election_ticks", "5"}});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("election_ticks"), std::string::npos);
}

TEST(ConsensusCreate, RefusesImpossibleOptions) {
  for (const char* name : {"raft", "solo"}) {
    auto lib = Load(name);
    ASSERT_NE(lib, nullptr);
    sim::SimDisk disk;
    ConsensusOptions o;
    o.group_id = 1;
    o.node_id = 0;  // invalid
    EXPECT_FALSE(ConsensusInstance::Create(lib, nullptr, o, &disk).ok());
    o.node_id = 1;
    o.hard_state = "\x7f garbage";
    o.bootstrap_voters = {1};
    auto inst = ConsensusInstance::Create(lib, nullptr, o, &disk);
    EXPECT_FALSE(inst.ok()) << name;
    if (!inst.ok()) {
      EXPECT_EQ(inst.status().code(), Code::kCorruption)
          << name << ": " << inst.status().ToString();
    }
  }
  // Solo cannot join a group or run more than one voter.
  auto solo = Load("solo");
  sim::SimDisk disk;
  ConsensusOptions o;
  o.group_id = 1;
  o.node_id = 1;
  EXPECT_TRUE(ConsensusInstance::Create(solo, nullptr, o, &disk)
                  .status()
                  .IsInvalidArgument());
  o.bootstrap_voters = {1, 2};
  EXPECT_TRUE(ConsensusInstance::Create(solo, nullptr, o, &disk)
                  .status()
                  .IsInvalidArgument());
}

TEST(ConsensusCreate, WrapperRefusesAnotherKind) {
  PluginLoader loader;
  auto storage = loader.Load("storage-mem", SB_KIND_STORAGE);
  ASSERT_TRUE(storage.ok()) << storage.status().ToString();
  sim::SimDisk disk;
  ConsensusOptions o;
  o.group_id = 1;
  o.node_id = 1;
  auto inst = ConsensusInstance::Create(*storage, nullptr, o, &disk);
  EXPECT_TRUE(inst.status().IsInvalidArgument());
}

}  // namespace
}  // namespace sb
