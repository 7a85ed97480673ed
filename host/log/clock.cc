#include "host/log/clock.h"

#include <chrono>

namespace sb {

uint64_t RealClock::MonotonicNs() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

uint64_t RealClock::WallNs() const {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  // A wall clock set before 1970 reads as the epoch, not as a huge number.
  return ns > 0 ? static_cast<uint64_t>(ns) : 0;
}

std::shared_ptr<const Clock> RealClock::Shared() {
  static const std::shared_ptr<const Clock> clock =
      std::make_shared<RealClock>();
  return clock;
}

}  // namespace sb
