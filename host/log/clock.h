// host/log/clock.h — the clocks the host hands to plugins.
//
// Plugins read time only through sb_host_services (monotonic_ns, wall_ns),
// which the host backs with a Clock. RealClock reads std::chrono's
// steady_clock and system_clock; ManualClock is set by hand, for tests and
// for the simulation harness, which runs whole clusters on virtual time.
//
// Thread safety: every Clock method may be called from any thread at any
// time; implementations must be thread-safe (both here are).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace sb {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds from an arbitrary origin; never goes backwards.
  virtual uint64_t MonotonicNs() const = 0;
  // Nanoseconds since the Unix epoch; may jump (NTP, operator).
  virtual uint64_t WallNs() const = 0;
};

class RealClock final : public Clock {
 public:
  uint64_t MonotonicNs() const override;
  uint64_t WallNs() const override;
  // One process-wide instance.
  static std::shared_ptr<const Clock> Shared();
};

// A clock that moves only when told to. Advance() moves both readings;
// SetWallNs() moves only the wall clock (as an NTP step would).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t monotonic_ns = 0, uint64_t wall_ns = 0)
      : monotonic_ns_(monotonic_ns), wall_ns_(wall_ns) {}

  uint64_t MonotonicNs() const override { return monotonic_ns_.load(); }
  uint64_t WallNs() const override { return wall_ns_.load(); }

  void Advance(uint64_t ns) {
    monotonic_ns_.fetch_add(ns);
    wall_ns_.fetch_add(ns);
  }
  void SetWallNs(uint64_t ns) { wall_ns_.store(ns); }

 private:
  std::atomic<uint64_t> monotonic_ns_;
  std::atomic<uint64_t> wall_ns_;
};

}  // namespace sb
