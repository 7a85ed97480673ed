// tools/ctl/main.cc — shardbearer-ctl's entry point (see ctl.h).
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "tools/ctl/ctl.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a node closing mid-call is an error
  std::vector<std::string> args(argv + 1, argv + argc);
  return sb::ctl::Run(args, std::cout, std::cerr);
}
