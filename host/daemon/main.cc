// shardbearerd — the Shardbearer node daemon (a radiant).
//
//   shardbearerd --config FILE        run a node
//   shardbearerd --check-config FILE  validate FILE and its plugins, exit
//   shardbearerd --list-plugins [--config FILE]
//   shardbearerd --version | --help
#include <signal.h>
#include <spdlog/spdlog.h>
#include <thrift/TOutput.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "host/config/config.h"
#include "host/config/local_addresses.h"
#include "host/daemon/node.h"
#include "host/daemon/plugins.h"
#include "host/log/logging.h"

namespace {

constexpr char kUsage[] =
    "usage: shardbearerd --config FILE [--exit-after-start]\n"
    "       shardbearerd --check-config FILE\n"
    "       shardbearerd --list-plugins [--config FILE]\n"
    "       shardbearerd --version | --help\n"
    "\n"
    "  --config FILE        node configuration (TOML, docs/config.md)\n"
    "  --check-config FILE  validate FILE and every plugin it names; exit 0 "
    "if\n"
    "                       valid, 1 with FILE:LINE:COLUMN errors otherwise\n"
    "  --exit-after-start   start fully, print the report, then stop cleanly\n"
    "  --list-plugins       list the plugins found in the search directories\n";

// Loads the file and checks the rules that need this machine (a seed that
// is one of this machine's own addresses is a self-loop).
sb::StatusOr<sb::NodeConfig> LoadAndCheck(const std::string& path) {
  auto config = sb::LoadConfigFile(path);
  if (!config.ok()) return config;
  SB_RETURN_IF_ERROR(sb::CheckSeedsAgainstThisMachine(*config));
  return config;
}

int CheckConfig(const std::string& path) {
  auto config = LoadAndCheck(path);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 1;
  }
  sb::PluginLoader loader(sb::PluginSearchDirs(*config));
  int errors = 0;
  for (const auto& [section, kind] : sb::PluginSections(*config)) {
    auto loaded = sb::LoadAndCheck(loader, *section, kind);
    if (!loaded.ok()) {
      std::cerr << loaded.status().message() << "\n";
      ++errors;
    }
  }
  if (errors > 0) return 1;
  std::cout << path << ": OK\n";
  return 0;
}

int ListPlugins(const std::string& config_path) {
  std::vector<std::string> dirs;
  if (!config_path.empty()) {
    auto config = sb::LoadConfigFile(config_path);
    if (!config.ok()) {
      std::cerr << config.status().message() << "\n";
      return 1;
    }
    dirs = sb::PluginSearchDirs(*config);
  }
  sb::PluginLoader loader(dirs);
  for (uint32_t kind : {SB_KIND_STORAGE, SB_KIND_CONSENSUS, SB_KIND_TRANSPORT,
                        SB_KIND_CLASSIFIER}) {
    for (const auto& name : loader.KnownPlugins(kind)) {
      auto lib = loader.Load(name, kind);
      if (!lib.ok()) continue;
      std::printf("%-11s %-18s %-8s ABI %u.%u  %s\n", sb::KindName(kind),
                  name.c_str(), (*lib)->version().c_str(),
                  (*lib)->info().abi_major, (*lib)->info().abi_minor,
                  (*lib)->path().c_str());
    }
  }
  std::printf("searched: ");
  for (size_t i = 0; i < loader.search_dirs().size(); ++i) {
    std::printf("%s%s", i ? ", " : "", loader.search_dirs()[i].c_str());
  }
  std::printf("\n");
  return 0;
}

int Run(const std::string& path, bool exit_after_start) {
  auto config = LoadAndCheck(path);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 1;
  }
  if (sb::Status st = sb::SetupLogging(config->logging); !st.ok()) {
    std::cerr << path << ": " << st.ToString() << "\n";
    return 1;
  }
  // Thrift's own diagnostics ("Thrift: ...") go to the node's log.
  apache::thrift::GlobalOutput.setOutputFunction(
      [](const char* msg) { spdlog::debug("thrift: {}", msg); });
  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only sigwait() below receives them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto node = sb::Node::Start(*config);
  if (!node.ok()) {
    spdlog::critical("cannot start: {}", node.status().ToString());
    return 1;
  }
  std::cout << (*node)->Report() << std::flush;
  if (exit_after_start) {
    spdlog::info("started; stopping as asked (--exit-after-start)");
    return 0;
  }
  spdlog::info("running; SIGINT or SIGTERM stops the node");
  int sig = 0;
  sigwait(&stop, &sig);
  spdlog::info("received {}, stopping", strsignal(sig));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config, check;
  bool list = false, exit_after_start = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        std::cerr << "shardbearerd: " << a << " needs a FILE\n" << kUsage;
        std::exit(2);
      }
      *out = argv[++i];
    };
    if (a == "--config") {
      value(&config);
    } else if (a == "--check-config") {
      value(&check);
    } else if (a == "--list-plugins") {
      list = true;
    } else if (a == "--exit-after-start") {
      exit_after_start = true;
    } else if (a == "--version") {
      std::cout << "shardbearerd " SB_VERSION " (plugin ABI " << SB_ABI_MAJOR
                << "." << SB_ABI_MINOR << ")\n";
      return 0;
    } else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "shardbearerd: unknown argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (!check.empty()) return CheckConfig(check);
  if (list) return ListPlugins(config);
  if (config.empty()) {
    std::cerr << "shardbearerd: no --config FILE given\n" << kUsage;
    return 2;
  }
  return Run(config, exit_after_start);
}
