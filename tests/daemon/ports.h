// Loopback and process helpers for tests that start shardbearerd.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sb::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (-1 if none).
//
// Picked at random below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), never twice in one process.
// Ports from bind(0) would come from the ephemeral range, where two test
// processes running at once are handed each other's ports soon after they
// are freed (a radiant killed and about to restart on the same port), and
// where any outgoing connection may take the port before the daemon binds
// it: both showed up as one cluster's clients talking to another's.
inline int FreePort() {
  static std::mutex mu;
  static std::set<int> given;
  static std::mt19937 rng(static_cast<uint32_t>(getpid()) * 2654435761u ^
                          static_cast<uint32_t>(time(nullptr)));
  int lo = 10000, hi = 32768;  // [lo, hi)
  if (FILE* f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    int a = 0, b = 0;
    if (fscanf(f, "%d %d", &a, &b) == 2 && a > lo + 1000) hi = a;
    fclose(f);
  }
  std::lock_guard<std::mutex> l(mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port =
        lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo));
    if (given.count(port)) continue;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    if (free) {
      given.insert(port);
      return port;
    }
  }
  return -1;
}

// True if something accepts TCP connections on 127.0.0.1:port.
inline bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// Starts `binary --config config` as a child process (its stdout to
// /dev/null when `quiet_stdout`). Returns the pid, or -1 when fork fails.
inline pid_t SpawnDaemon(const char* binary, const std::string& config,
                         bool quiet_stdout = false) {
  pid_t pid = fork();
  if (pid == 0) {
    if (quiet_stdout) {
      int null = open("/dev/null", O_WRONLY);
      if (null >= 0) dup2(null, 1);
    }
    execl(binary, binary, "--config", config.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

// Waits up to `seconds` for `pid` to exit; returns its wait status or -1.
inline int WaitExit(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

// Polls every 50 ms, up to `seconds`, until every port accepts on
// 127.0.0.1. False, with *why, when `pid` exited first (it is then reaped
// and *exited set) or the time ran out.
inline bool WaitListening(pid_t pid, const std::vector<int>& ports, int seconds,
                          std::string* why, bool* exited = nullptr) {
  if (exited != nullptr) *exited = false;
  auto all = [&] {
    for (int p : ports) {
      if (!Accepts(p)) return false;
    }
    return true;
  };
  for (int i = 0; i < seconds * 20 && !all(); ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      if (exited != nullptr) *exited = true;
      *why = "shardbearerd exited during start-up";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int p : ports) {
    if (!Accepts(p)) {
      *why = "port " + std::to_string(p) + " never opened";
      return false;
    }
  }
  return true;
}

}  // namespace sb::testing
