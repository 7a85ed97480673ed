// Unit tests of host/classifier (Classifier wrapper and ClassifierManager)
// against a scripted in-test classifier vtable: start-up rules without
// privilege, `required`, membership events, counters.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "host/classifier/classifier_manager.h"

namespace sb {
namespace {

// What the scripted plugin saw and what it should answer. One at a time:
// tests in this file do not run concurrently.
struct Script {
  sb_code create_rc = SB_OK;
  sb_code attach_rc = SB_OK;
  std::vector<std::string> calls;
  std::map<std::string, std::string> config;
  bool destroyed = false;
};
Script* g_script = nullptr;

struct sb_fake {
  int unused;
};

sb_code FakeCheck(const sb_config*, sb_status* st) { return sb_status_ok(st); }
sb_code FakeCreate(const sb_host_services*, const sb_config* cfg,
                   sb_classifier** out, sb_status* st) {
  for (size_t i = 0; i < cfg->count; ++i) {
    g_script->config[cfg->entries[i].key] = cfg->entries[i].value;
  }
  if (g_script->create_rc != SB_OK) {
    return sb_status_set(st, g_script->create_rc,
                         "loading the BPF maps was refused (EPERM): the "
                         "process lacks CAP_BPF");
  }
  *out = reinterpret_cast<sb_classifier*>(new sb_fake{});
  return sb_status_ok(st);
}
void FakeDestroy(sb_classifier* c) {
  g_script->destroyed = true;
  delete reinterpret_cast<sb_fake*>(c);
}
sb_code FakeAttach(sb_classifier*, const char* ifname, sb_status* st) {
  g_script->calls.push_back(std::string("attach:") + ifname);
  if (g_script->attach_rc != SB_OK) {
    return sb_status_set(st, g_script->attach_rc, "attach refused: %s",
                         g_script->attach_rc == SB_PERMISSION_DENIED
                             ? "the process lacks CAP_NET_ADMIN"
                             : "no network interface named 'eth9'");
  }
  return sb_status_ok(st);
}
sb_code FakeDetach(sb_classifier*, sb_status* st) { return sb_status_ok(st); }
sb_code FakePorts(sb_classifier*, uint16_t c, uint16_t p, sb_status* st) {
  g_script->calls.push_back("ports:" + std::to_string(c) + "," +
                            std::to_string(p));
  return sb_status_ok(st);
}
sb_code FakeJoinPort(sb_classifier*, uint16_t j, sb_status* st) {
  g_script->calls.push_back("join:" + std::to_string(j));
  return sb_status_ok(st);
}
sb_code FakeJoinRate(sb_classifier*, uint32_t, uint32_t, sb_status* st) {
  return sb_status_ok(st);
}
sb_code FakeAllow(sb_classifier*, const char* cidr, sb_status* st) {
  g_script->calls.push_back(std::string("allow:") + cidr);
  return sb_status_ok(st);
}
sb_code FakeDeny(sb_classifier*, const char* cidr, sb_status* st) {
  g_script->calls.push_back(std::string("deny:") + cidr);
  return sb_status_ok(st);
}
sb_code FakeRemove(sb_classifier*, const char* cidr, sb_status* st) {
  g_script->calls.push_back(std::string("remove:") + cidr);
  return sb_status_ok(st);
}
sb_code FakePrio(sb_classifier*, uint32_t, uint32_t, sb_status* st) {
  return sb_status_ok(st);
}
sb_code FakeCounters(sb_classifier*, sb_classifier_counters* out,
                     sb_status* st) {
  out->allowed = 5;
  out->join_limited = 2;
  return sb_status_ok(st);
}

const sb_classifier_vtable kFake = {sizeof(sb_classifier_vtable),
                                    FakeCheck,
                                    FakeCreate,
                                    FakeDestroy,
                                    FakeAttach,
                                    FakeDetach,
                                    FakePorts,
                                    FakeJoinPort,
                                    FakeJoinRate,
                                    FakeAllow,
                                    FakeDeny,
                                    FakeRemove,
                                    FakePrio,
                                    FakeCounters};

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { g_script = &script_; }
  void TearDown() override { g_script = nullptr; }

  static PluginSection Section(bool required) {
    PluginSection s;
    s.table = "classifier";
    s.plugin = "fake-classifier";
    s.required = required;
    s.present = true;
    s.position = {"node.toml", 40, 1};
    s.entries = {{"interface", "eth0", SB_CONFIG_STRING, {"node.toml", 43, 1}},
                 {"allowed_cidrs",
                  "10.1.0.0/16,10.9.9.9/32,fd00::7",
                  SB_CONFIG_ARRAY,
                  {"node.toml", 44, 1}}};
    return s;
  }
  StatusOr<std::unique_ptr<ClassifierManager>> Start(bool required) {
    ClassifierPorts ports{7000, 7001, 7002};
    return ClassifierManager::StartWithVtable(
        nullptr, &kFake, Section(required), nullptr, ports);
  }

  Script script_;
};

TEST_F(ManagerTest, StartsConfiguresPortsThenAttaches) {
  auto m = Start(false);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE((*m)->enabled());
  EXPECT_EQ(script_.config["interface"], "eth0");
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"ports:7000,7001",
                                                     "join:7002", "attach:"}));
  auto c = (*m)->Counters();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->allowed, 5u);
  EXPECT_EQ(c->join_limited, 2u);
  m->reset();
  EXPECT_TRUE(script_.destroyed);
}

TEST_F(ManagerTest, WithoutPrivilegeRunsDisabledUnlessRequired) {
  script_.create_rc = SB_PERMISSION_DENIED;
  auto m = Start(false);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE((*m)->enabled());
  EXPECT_NE((*m)->disabled_reason().find("CAP_BPF"), std::string::npos);
  EXPECT_TRUE((*m)->OnMemberJoined("10.0.0.1").ok());
  auto c = (*m)->Counters();
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
  EXPECT_NE(c.status().message().find("CAP_BPF"), std::string::npos);

  auto r = Start(true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  EXPECT_NE(r.status().message().find("required"), std::string::npos);
  EXPECT_NE(r.status().message().find("CAP_BPF"), std::string::npos);
}

TEST_F(ManagerTest, AttachWithoutPrivilegeIsTheSameRule) {
  script_.attach_rc = SB_PERMISSION_DENIED;
  auto m = Start(false);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE((*m)->enabled());
  EXPECT_TRUE(script_.destroyed);  // the half-set-up instance is released
  EXPECT_NE((*m)->disabled_reason().find("CAP_NET_ADMIN"), std::string::npos);
  EXPECT_FALSE(Start(true).ok());
}

TEST_F(ManagerTest, OtherErrorsFailStartEvenWhenNotRequired) {
  script_.attach_rc = SB_NOT_FOUND;
  auto m = Start(false);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kNotFound);
  EXPECT_NE(m.status().message().find("eth9"), std::string::npos);
  // Reported at the position of the key the message names (`interface`).
  EXPECT_EQ(m.status().message().rfind("node.toml:43:1: [classifier]", 0), 0u)
      << m.status().message();
}

TEST_F(ManagerTest, PluginThatCannotBeLoadedFollowsRequired) {
  PluginLoader loader({"/nonexistent-plugin-dir"});
  PluginSection s = Section(false);
  s.plugin = "no-such-classifier";
  auto m = ClassifierManager::Start(loader, s, nullptr, ClassifierPorts{});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE((*m)->enabled());
  EXPECT_NE((*m)->disabled_reason().find("no-such-classifier"),
            std::string::npos);
  s.required = true;
  auto r = ClassifierManager::Start(loader, s, nullptr, ClassifierPorts{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("required"), std::string::npos);
}

TEST_F(ManagerTest, MembersJoinAndLeaveTheAllowlist) {
  auto m = Start(false);
  ASSERT_TRUE(m.ok());
  script_.calls.clear();
  ClassifierManager& mgr = **m;
  EXPECT_TRUE(mgr.OnMemberJoined("10.0.0.7:7001").ok());
  EXPECT_TRUE(mgr.OnMemberJoined("10.0.0.7").ok());  // same host: counted
  EXPECT_TRUE(mgr.OnMemberJoined("[fd00:0::8]:7001").ok());
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"allow:10.0.0.7/32",
                                                     "allow:fd00::8/128"}));
  script_.calls.clear();
  EXPECT_TRUE(mgr.OnMemberRemoved("10.0.0.7:7001").ok());
  EXPECT_TRUE(script_.calls.empty());  // joined twice, still a member
  EXPECT_TRUE(mgr.OnMemberRemoved("10.0.0.7:7001").ok());
  EXPECT_TRUE(mgr.OnMemberRemoved("fd00::8").ok());
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"remove:10.0.0.7/32",
                                                     "remove:fd00::8/128"}));
  EXPECT_TRUE(mgr.OnMemberRemoved("10.0.0.7").IsNotFound());

  // Host prefixes listed statically in allowed_cidrs stay on leave.
  script_.calls.clear();
  EXPECT_TRUE(mgr.OnMemberJoined("10.9.9.9:7001").ok());
  EXPECT_TRUE(mgr.OnMemberJoined("[fd00::7]:1").ok());
  EXPECT_TRUE(mgr.OnMemberRemoved("10.9.9.9:7001").ok());
  EXPECT_TRUE(mgr.OnMemberRemoved("[fd00::7]:1").ok());
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"allow:10.9.9.9/32",
                                                     "allow:fd00::7/128"}));

  // A dual-stack socket's view of an IPv4 member is the IPv4 address.
  script_.calls.clear();
  EXPECT_TRUE(mgr.OnMemberJoined("[::ffff:10.0.0.8]:7001").ok());
  EXPECT_TRUE(mgr.OnMemberRemoved("10.0.0.8").ok());
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"allow:10.0.0.8/32",
                                                     "remove:10.0.0.8/32"}));

  EXPECT_TRUE(mgr.OnMemberJoined("node1.example:7001").IsInvalidArgument());
  EXPECT_TRUE(mgr.OnMemberJoined("").IsInvalidArgument());
  EXPECT_TRUE(mgr.OnMemberJoined("[fd00::1").IsInvalidArgument());
}

TEST(ClassifierWrapperTest, RefusesTooSmallOrIncompleteVtable) {
  sb_config empty = {sizeof(sb_config), nullptr, 0};
  sb_classifier_vtable small = kFake;
  small.struct_size = offsetof(sb_classifier_vtable, read_counters);
  auto c = Classifier::CreateFromVtable(nullptr, &small, "x", nullptr, empty);
  EXPECT_TRUE(c.status().IsInvalidArgument());
  EXPECT_NE(c.status().message().find("needs at least"), std::string::npos);
  sb_classifier_vtable holes = kFake;
  holes.deny_cidr = nullptr;
  c = Classifier::CreateFromVtable(nullptr, &holes, "x", nullptr, empty);
  EXPECT_TRUE(c.status().IsInvalidArgument());
  EXPECT_TRUE(
      Classifier::CreateFromVtable(nullptr, nullptr, "x", nullptr, empty)
          .status()
          .IsInvalidArgument());
}

}  // namespace
}  // namespace sb
