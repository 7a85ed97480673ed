// test_support.h — helpers shared by the classifier's plugin-level tests:
// loading bpf-qdisc.so through its entry symbol, a host-services table that
// records log lines, and network namespaces joined by a veth pair.
//
// Thread safety: RecordingHost is thread-safe; the namespace helpers change
// the calling thread's network namespace and are for one thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "shardbearer/abi/classifier.h"

namespace sb::bpftest {

// The built plugin, opened with dlopen; `keepalive` dlcloses it when the
// last holder goes. Empty `error` on success.
struct LoadedPlugin {
  std::shared_ptr<void> keepalive;
  const sb_plugin_info* info = nullptr;
  const sb_classifier_vtable* vtable = nullptr;
  std::string error;
};
LoadedPlugin LoadBpfQdisc();

// Host services whose log lines are kept for inspection (and echoed to
// stderr).
class RecordingHost {
 public:
  RecordingHost();
  const sb_host_services* services() const { return &services_; }
  std::vector<std::string> lines() const;
  bool Logged(const std::string& needle) const;

 private:
  static void Log(void* ctx, int32_t level, const char* msg, size_t len);
  sb_host_services services_;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// Runs `cmd` through /bin/sh with output discarded; returns exit status.
int Sh(const std::string& cmd);
// Runs `cmd` and returns its standard output.
std::string ShOutput(const std::string& cmd);

// Two network namespaces "<prefix>-a-<pid>" and "<prefix>-b-<pid>" joined
// by veth-a <-> veth-b, with 10.200.0.1/24 + fd00:5342::1/64 on veth-a and
// 10.200.0.{2,3}/24 + fd00:5342::{2,3}/64 on veth-b. Both are deleted by
// the destructor (also when a test fails).
class NetnsPair {
 public:
  NetnsPair();
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;
  // Empty when set up; else why not (the test skips).
  const std::string& error() const { return error_; }
  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }

 private:
  std::string a_, b_, error_;
};

// Enters namespace `name` (from /run/netns) for the calling thread until
// destroyed. ok() false if that failed.
class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& name);
  ~ScopedNetns();
  bool ok() const { return ok_; }

 private:
  int orig_ = -1;
  bool ok_ = false;
};

enum class ConnectResult { kConnected, kTimedOut, kRefused, kError };

// A listening TCP socket bound to `addr`:`port` (created in the calling
// thread's namespace); closed by the destructor.
class Listener {
 public:
  Listener(const std::string& addr, uint16_t port);
  ~Listener();
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Connects from `src` to `dst`:`port`, waiting at most `timeout_ms`.
ConnectResult TryConnect(const std::string& src, const std::string& dst,
                         uint16_t port, int timeout_ms);

}  // namespace sb::bpftest
