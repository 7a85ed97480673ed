// tests/linearizability/random_history.h — random histories that are
// linearizable by construction, for the checker's own tests.
//
// A sequential execution of random operations on a few keys is run against
// a reference map; operation i takes effect at instant 10*i, and its recorded
// interval is stretched randomly around that instant, so operations overlap
// while the instant stays inside the interval (a valid linearization point).
// Some writes get outcome unknown (taking effect or not) or failed (never
// taking effect), some reads unknown.
//
// Thread safety: pure functions of the seed.
#pragma once

#include <cstdint>

#include "tests/linearizability/history.h"

namespace sb::lincheck::testing {

struct RandomHistoryOptions {
  int operations = 200;
  int keys = 3;
  int clients = 5;
  // Maximum stretch of an interval on each side of its instant (the
  // instants are 10 apart, so 40 overlaps up to about 8 neighbours).
  int64_t max_stretch = 40;
  int unknown_write_percent = 8;
  int failed_write_percent = 5;
  int unknown_read_percent = 5;
};

History RandomLinearizableHistory(uint64_t seed,
                                  const RandomHistoryOptions& options = {});

// Changes the output of one ok read of `history` to a value no operation of
// the key writes. Returns false if the history has no ok read.
bool MutateReadToUnwrittenValue(uint64_t seed, History* history);

// Changes the output of one ok read to a value that only a write invoked
// after the read returned produces, so the read would see the future.
// Returns false if no such (read, write) pair exists. Relies on the values of
// RandomLinearizableHistory: every put and cas writes a value of its own.
bool MutateReadToFutureValue(uint64_t seed, History* history);

}  // namespace sb::lincheck::testing
