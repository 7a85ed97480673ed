// tests/conformance/storage/storage_fixture.h — the fixture of the storage
// conformance suite.
//
// StorageConformance is one parameterized suite; its parameter is a storage
// plugin name. Each test gets a fresh temporary directory and an instance
// of that plugin opened in it, loaded as a real shared object through
// sb::PluginLoader from the build's plugin folder (SB_PLUGIN_BUILD_DIR).
// Tests that need durability skip themselves on plugins without
// SB_STORAGE_DURABLE.
//
// Thread safety: the fixture is used by the test's thread; tests that start
// threads share only the sb::Storage, which is thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host/config/plugin_section.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"

namespace sb::testing {

// Host services for plugins under test: warnings and errors to stderr.
const sb_host_services& TestHostServices();

std::shared_ptr<PluginLibrary> LoadStoragePlugin(const std::string& name);

// Every (key, value) of `keyspace` in order, read through an iterator.
std::vector<std::pair<std::string, std::string>> Scan(
    const Storage& db, uint32_t keyspace, const IterOptions& options = {});

class StorageConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Opens the plugin at `dir` with `config`.
  StatusOr<Storage> OpenAt(const std::filesystem::path& dir,
                           const sb_config& config) const;
  StatusOr<Storage> OpenAt(const std::filesystem::path& dir) const;
  // Closes db() and opens the same directory again.
  void Reopen();
  Storage& db() { return *db_; }
  bool durable() const { return db_->durable(); }
  uint32_t Ks(const std::string& name);
  std::string Get(uint32_t ks, std::string_view key);  // "<absent>" if none

  std::filesystem::path root_;  // removed after the test
  std::filesystem::path data_dir_;
  std::shared_ptr<PluginLibrary> lib_;
  std::optional<Storage> db_;
};

}  // namespace sb::testing
