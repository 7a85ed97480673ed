#include "test_support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sb::bpftest {

LoadedPlugin LoadBpfQdisc() {
  LoadedPlugin p;
  const std::string path = std::string(SB_PLUGIN_BUILD_DIR) + "/bpf-qdisc.so";
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    p.error = std::string("dlopen ") + path + ": " + dlerror();
    return p;
  }
  p.keepalive = std::shared_ptr<void>(h, [](void* x) { dlclose(x); });
  auto entry =
      reinterpret_cast<sb_plugin_entry_fn>(dlsym(h, SB_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) {
    p.error = "no entry symbol in " + path;
    return p;
  }
  p.info = entry();
  p.vtable = static_cast<const sb_classifier_vtable*>(p.info->vtable);
  return p;
}

RecordingHost::RecordingHost() {
  memset(&services_, 0, sizeof services_);
  services_.struct_size = sizeof services_;
  services_.host_ctx = this;
  services_.log = &RecordingHost::Log;
  services_.log_enabled = [](void*, int32_t level) -> int32_t {
    return level >= SB_LOG_INFO;
  };
}

void RecordingHost::Log(void* ctx, int32_t level, const char* msg, size_t len) {
  auto* self = static_cast<RecordingHost*>(ctx);
  std::string line(msg, len);
  fprintf(stderr, "[plugin log %d] %s\n", level, line.c_str());
  std::lock_guard<std::mutex> lock(self->mu_);
  self->lines_.push_back(std::move(line));
}

std::vector<std::string> RecordingHost::lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

bool RecordingHost::Logged(const std::string& needle) const {
  for (const auto& l : lines()) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

int Sh(const std::string& cmd) {
  int rc = system((cmd + " >/dev/null 2>&1").c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::string ShOutput(const std::string& cmd) {
  std::string out;
  FILE* f = popen((cmd + " 2>/dev/null").c_str(), "r");
  if (f == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0)
    out.append(buf.data(), n);
  pclose(f);
  return out;
}

// Deletes namespaces left by a test process that was killed before its
// cleanup ran (named sbbpf-{a,b}-<pid> with that pid gone).
void RemoveOrphanNamespaces() {
  DIR* d = opendir("/run/netns");
  if (d == nullptr) return;
  std::vector<std::string> orphans;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("sbbpf-a-", 0) != 0 && name.rfind("sbbpf-b-", 0) != 0) {
      continue;
    }
    std::string pid = name.substr(8);
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (kill(std::stoi(pid), 0) != 0 && errno == ESRCH) orphans.push_back(name);
  }
  closedir(d);
  for (const auto& n : orphans) Sh("ip netns del " + n);
}

NetnsPair::NetnsPair() {
  RemoveOrphanNamespaces();
  const std::string pid = std::to_string(getpid());
  a_ = "sbbpf-a-" + pid;
  b_ = "sbbpf-b-" + pid;
  const std::vector<std::string> steps = {
      "ip netns add " + a_,
      "ip netns add " + b_,
      "ip -n " + a_ + " link add veth-a type veth peer name veth-b netns " + b_,
      "ip -n " + a_ + " addr add 10.200.0.1/24 dev veth-a",
      "ip -n " + b_ + " addr add 10.200.0.2/24 dev veth-b",
      "ip -n " + b_ + " addr add 10.200.0.3/24 dev veth-b",
      "ip -n " + a_ + " -6 addr add fd00:5342::1/64 dev veth-a nodad",
      "ip -n " + b_ + " -6 addr add fd00:5342::2/64 dev veth-b nodad",
      "ip -n " + b_ + " -6 addr add fd00:5342::3/64 dev veth-b nodad",
      "ip -n " + a_ + " link set lo up",
      "ip -n " + b_ + " link set lo up",
      "ip -n " + a_ + " link set veth-a up",
      "ip -n " + b_ + " link set veth-b up",
  };
  for (const auto& s : steps) {
    if (Sh(s) != 0) {
      error_ = "cannot set up network namespaces: '" + s + "' failed";
      return;
    }
  }
}

NetnsPair::~NetnsPair() {
  // Deleting a namespace removes its interfaces, qdiscs and filters.
  Sh("ip netns del " + a_);
  Sh("ip netns del " + b_);
}

ScopedNetns::ScopedNetns(const std::string& name) {
  orig_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (orig_ >= 0 && fd >= 0 && setns(fd, CLONE_NEWNET) == 0) ok_ = true;
  if (fd >= 0) close(fd);
}

ScopedNetns::~ScopedNetns() {
  if (ok_) setns(orig_, CLONE_NEWNET);
  if (orig_ >= 0) close(orig_);
}

namespace {

bool MakeAddr(const std::string& ip, uint16_t port, sockaddr_storage* ss,
              socklen_t* len) {
  memset(ss, 0, sizeof *ss);
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof *v6;
    return true;
  }
  return false;
}

}  // namespace

Listener::Listener(const std::string& addr, uint16_t port) {
  sockaddr_storage ss;
  socklen_t len;
  if (!MakeAddr(addr, port, &ss, &len)) return;
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      listen(fd, 64) != 0) {
    close(fd);
    return;
  }
  fd_ = fd;
}

Listener::~Listener() {
  if (fd_ >= 0) close(fd_);
}

ConnectResult TryConnect(const std::string& src, const std::string& dst,
                         uint16_t port, int timeout_ms) {
  sockaddr_storage local, remote;
  socklen_t llen, rlen;
  if (!MakeAddr(src, 0, &local, &llen) || !MakeAddr(dst, port, &remote, &rlen))
    return ConnectResult::kError;
  int fd =
      socket(remote.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ConnectResult::kError;
  ConnectResult result = ConnectResult::kError;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), llen) == 0) {
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&remote), rlen);
    if (rc == 0) {
      result = ConnectResult::kConnected;
    } else if (errno == EINPROGRESS) {
      pollfd p = {fd, POLLOUT, 0};
      int n = poll(&p, 1, timeout_ms);
      if (n == 0) {
        result = ConnectResult::kTimedOut;
      } else if (n == 1) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        result = err == 0              ? ConnectResult::kConnected
                 : err == ECONNREFUSED ? ConnectResult::kRefused
                                       : ConnectResult::kError;
      }
    }
  }
  close(fd);
  return result;
}

}  // namespace sb::bpftest
