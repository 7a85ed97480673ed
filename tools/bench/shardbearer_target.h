// shardbearer_target.h — the benchmark Target for a Shardbearer cluster.
//
// Each Session owns one connection (framed transport + binary protocol, the
// generated Kv client) to one node: session i starts at address
// i mod |addresses|, so clients spread over the given nodes. Any node
// answers any key (it forwards). Writes carry a WriteId: a random non-zero
// client id per session and sequence numbers 1, 2, 3, ... (one write
// outstanding per client id, as the Kv contract requires).
//
// Errors are reported, not retried: WrongLeader with a leader hint makes the
// next request go to the hinted node; a connection failure closes the
// connection and the next request dials the next address. A socket timeout
// while waiting for an answer is reported as kTimeout (outcome unknown), the
// same as the server's Timeout.
//
// Thread safety: as target.h (Open is thread-safe; a Session is not).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tools/bench/target.h"

namespace sb::bench {

struct ShardbearerTargetOptions {
  std::vector<std::string> addresses;  // "host:port" (IPv6 as "[addr]:port")
  int connect_timeout_ms = 3000;
  int request_timeout_ms = 10000;
  // Set no_forward on every request: a radiant that is not the key's herald
  // answers WrongLeader and the session moves to the hinted herald.
  bool no_forward = false;
};

// Splits "h:p,h:p" and checks each entry is host:port with a port in
// [1, 65535]. Returns an empty string when valid, else the reason.
std::string ParseAddressList(const std::string& list,
                             std::vector<std::string>* out);

std::unique_ptr<Target> MakeShardbearerTarget(ShardbearerTargetOptions opts);

}  // namespace sb::bench
