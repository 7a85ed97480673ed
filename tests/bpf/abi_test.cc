// Tests of bpf-qdisc.so through the plugin ABI only: descriptor, config
// validation, and the SB_PERMISSION_DENIED message when capabilities are
// missing (checked in a forked child that drops them).
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "host/classifier/classifier.h"
#include "test_support.h"

namespace sb::bpftest {
namespace {

using ::sb::Classifier;
using ::sb::PluginLoader;
using ::sb::Status;

class AbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_ = LoadBpfQdisc();
    ASSERT_TRUE(plugin_.error.empty()) << plugin_.error;
  }
  LoadedPlugin plugin_;
};

TEST_F(AbiTest, Descriptor) {
  const sb_plugin_info* info = plugin_.info;
  EXPECT_EQ(info->magic, SB_PLUGIN_MAGIC);
  EXPECT_EQ(info->abi_major, SB_ABI_MAJOR);
  EXPECT_EQ(info->kind, static_cast<uint32_t>(SB_KIND_CLASSIFIER));
  EXPECT_STREQ(info->name, "bpf-qdisc");
  EXPECT_EQ(plugin_.vtable->struct_size, sizeof(sb_classifier_vtable));
}

TEST_F(AbiTest, CheckConfigNamesBadKeys) {
  sb_config_entry e[] = {
      {sizeof(sb_config_entry), SB_CONFIG_INTEGER, "join_rat", "5"}};
  sb_config cfg = {sizeof(sb_config), e, 1};
  sb_status st = {};
  EXPECT_EQ(plugin_.vtable->check_config(&cfg, &st), SB_INVALID_ARGUMENT);
  EXPECT_NE(std::string(st.message).find("'join_rat'"), std::string::npos);
  // create refuses the same config before touching the kernel.
  sb_classifier* c = nullptr;
  EXPECT_EQ(plugin_.vtable->create(nullptr, &cfg, &c, &st),
            SB_INVALID_ARGUMENT);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(plugin_.vtable->check_config(nullptr, &st), SB_OK);
}

TEST_F(AbiTest, NullArgumentsAreErrorsNotCrashes) {
  sb_status st = {};
  EXPECT_EQ(plugin_.vtable->attach(nullptr, "lo", &st), SB_INVALID_ARGUMENT);
  EXPECT_EQ(plugin_.vtable->read_counters(nullptr, nullptr, &st),
            SB_INVALID_ARGUMENT);
  plugin_.vtable->destroy(nullptr);
}

TEST(LoaderTest, HostChecksThePluginAndItsConfig) {
  PluginLoader loader({SB_PLUGIN_BUILD_DIR});
  auto lib = loader.Load("bpf-qdisc", SB_KIND_CLASSIFIER);
  ASSERT_TRUE(lib.ok()) << lib.status().ToString();
  EXPECT_TRUE(Classifier::CheckPlugin(**lib).ok());
  sb_config_entry e[] = {{sizeof(sb_config_entry), SB_CONFIG_ARRAY,
                          "allowed_cidrs", "10.0.0.1/8"}};
  sb_config bad = {sizeof(sb_config), e, 1};
  Status s = Classifier::CheckConfig(*lib, bad);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("did you mean 10.0.0.0/8"), std::string::npos)
      << s.message();
  sb_config empty = {sizeof(sb_config), nullptr, 0};
  EXPECT_TRUE(Classifier::CheckConfig(*lib, empty).ok());
  // The loader refuses it as another kind.
  EXPECT_FALSE(loader.Load("bpf-qdisc", SB_KIND_STORAGE).ok());
}

// Drops from the effective and permitted sets every capability except
// `keep` (a bit mask of the low 64 capabilities).
bool KeepOnlyCaps(uint64_t keep) {
  __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = data[0].permitted = static_cast<uint32_t>(keep);
  data[1].effective = data[1].permitted = static_cast<uint32_t>(keep >> 32);
  return syscall(SYS_capset, &hdr, data) == 0;
}

// In a child with only `keep` capabilities, creates an instance and
// returns "<code>|<message>".
std::string CreateWithCaps(const LoadedPlugin& p, uint64_t keep) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out = "capset failed";
    if (KeepOnlyCaps(keep)) {
      sb_status st = {};
      sb_classifier* c = nullptr;
      sb_code rc = p.vtable->create(nullptr, nullptr, &c, &st);
      out = std::to_string(rc) + "|" + st.message;
      p.vtable->destroy(c);
    }
    ssize_t unused = write(fds[1], out.data(), out.size());
    (void)unused;
    _exit(0);
  }
  close(fds[1]);
  std::string result;
  char buf[1024];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) result.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return result;
}

constexpr uint64_t kCapBpf = uint64_t{1} << 39;

TEST_F(AbiTest, WithoutCapBpfSaysSo) {
  std::string r = CreateWithCaps(plugin_, 0);
  EXPECT_EQ(r.rfind(std::to_string(SB_PERMISSION_DENIED) + "|", 0), 0u) << r;
  EXPECT_NE(r.find("CAP_BPF"), std::string::npos) << r;
  EXPECT_NE(r.find("CAP_NET_ADMIN"), std::string::npos) << r;
}

TEST_F(AbiTest, WithCapBpfOnlyNamesCapNetAdmin) {
  std::string r = CreateWithCaps(plugin_, kCapBpf);
  if (r.rfind("0|", 0) == 0) {
    GTEST_SKIP() << "this kernel loads tc programs with CAP_BPF alone";
  }
  EXPECT_EQ(r.rfind(std::to_string(SB_PERMISSION_DENIED) + "|", 0), 0u) << r;
  EXPECT_NE(r.find("lacks CAP_NET_ADMIN"), std::string::npos) << r;
  EXPECT_EQ(r.find("CAP_BPF (or"), std::string::npos) << r;
}

}  // namespace
}  // namespace sb::bpftest
