// Builds forwarding snapshots on the main lcore from what the host stack holds, one table at a
// time: routes (rte_lpm) and neighbours (rte_hash) are built separately, so a table that cannot
// be built leaves the other one flowing. A table whose build failed stays as it was last built
// ("stale": the workers keep the last good one), its rebuild is retried with backoff instead of
// on every loop turn, the error is logged once and then at most once a minute, and the state is
// kept for STATUS=, the control socket (status, route.show, neigh.show) and SNMP.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/log_limiter.h"
#include "ipv4/fib.h"

namespace vsgate {

// One table of the snapshot (routes or neighbours).
struct FibTableStatus {
  bool ok = true;               // the workers use a table built from what the host has now
  size_t installed = 0;         // entries in the table the workers use
  size_t wanted = 0;            // entries the host has (= installed when ok)
  uint64_t stale_since_us = 0;  // wall clock (Unix epoch) of the first failed build, 0 when ok
  uint64_t failed_builds = 0;   // failed builds since the last good one
  std::string reason;           // why the last build failed ("" when ok)
  uint64_t retry_at_us = 0;     // monotonic: the next build attempt, 0 when ok
};

struct FibStatus {
  FibTableStatus routes, neighbours;
  uint64_t published = 0;  // snapshots published so far
};

class FibBuilder {
 public:
  static constexpr uint64_t kRetryMinUs = 1'000'000;   // first retry after a failed build
  static constexpr uint64_t kRetryMaxUs = 30'000'000;  // backoff doubles up to this
  // Route tables are built at most this often: a burst of route changes (`ip -batch`, a routing
  // daemon's full table) is taken in a few builds, not one per loop turn, each of which would
  // hold another 64 MiB tbl24 until the workers pass a quiescent state. Neighbours are not held.
  static constexpr uint64_t kRouteBuildIntervalUs = 200'000;

  explicit FibBuilder(const FibLimits& limits = {}) : limits_(limits) {}

  // The next snapshot for `in`, or null when there is nothing new to publish. `current` is the
  // published one (null at first). A table equal to the current one's is shared; a changed one
  // is rebuilt unless it is backing off after a failed build; a failed table keeps the current
  // one's (an empty one when there is none yet). `changed`: the input changed since the last
  // call (addresses and ports are taken from `in` whenever a snapshot is made).
  std::unique_ptr<const Fib> next(const FibInput& in, const Fib* current, bool changed,
                                  uint64_t now_mono_us, uint64_t now_unix_us);
  // A failed table is due for another build attempt.
  bool retry_due(uint64_t now_mono_us) const {
    return due(status_.routes, now_mono_us) || due(status_.neighbours, now_mono_us) ||
           (routes_attempt_.held && now_mono_us >= routes_attempt_.next_build_us);
  }
  const FibStatus& status() const { return status_; }

 private:
  struct Attempt {
    explicit Attempt(uint64_t min_interval) : min_interval_us(min_interval) {}
    uint64_t min_interval_us;  // between two builds
    LogLimiter log;
    uint64_t backoff_us = 0;
    uint64_t next_build_us = 0;  // monotonic: no build before (min_interval_us after the last)
    bool held = false;           // a change waits for next_build_us
  };
  static bool due(const FibTableStatus& s, uint64_t now) { return !s.ok && now >= s.retry_at_us; }
  template <class Table, class Entries>
  std::shared_ptr<const Table> table(const char* what, const Entries& wanted,
                                     const std::shared_ptr<const Table>& current,
                                     FibTableStatus& status, Attempt& attempt, uint64_t now_mono,
                                     uint64_t now_unix);

  FibLimits limits_;
  FibStatus status_;
  Attempt routes_attempt_{kRouteBuildIntervalUs};
  Attempt neighbours_attempt_{0};
};

}  // namespace vsgate
