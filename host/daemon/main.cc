// shardbearerd — the Shardbearer node daemon.
#include <cstdio>

int main() {
  std::puts("shardbearerd " SB_VERSION);
  return 0;
}
