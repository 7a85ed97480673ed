#include "tc_netlink.h"

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sb::bpfq {

int CountClsactFilters(int ifindex, bool ingress) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  // Bounded wait: the kernel answers a dump at once; never hang on it.
  timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct {
    nlmsghdr nh;
    tcmsg tc;
  } req;
  memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = sizeof req;
  req.nh.nlmsg_type = RTM_GETTFILTER;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = 1;
  req.tc.tcm_family = AF_UNSPEC;
  req.tc.tcm_ifindex = ifindex;
  req.tc.tcm_parent =
      TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
  if (send(fd, &req, sizeof req, 0) < 0) {
    int err = -errno;
    close(fd);
    return err;
  }
  int count = 0;
  alignas(nlmsghdr) char buf[32768];
  // A dump ends with NLMSG_DONE; cap the number of reads all the same.
  for (int reads = 0; reads < 10000; ++reads) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      int err = -errno;
      close(fd);
      return err;
    }
    int len = static_cast<int>(n);
    for (auto* nh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nh, len);
         nh = NLMSG_NEXT(nh, len)) {
      if (nh->nlmsg_type == NLMSG_DONE) {
        close(fd);
        return count;
      }
      if (nh->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(nh));
        close(fd);
        return e->error < 0 ? e->error : -EPROTO;
      }
      if (nh->nlmsg_type == RTM_NEWTFILTER) ++count;
    }
  }
  close(fd);
  return -EOVERFLOW;
}

}  // namespace sb::bpfq
