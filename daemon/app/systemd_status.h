// What systemd hears from vsgated (Type=notify): READY=1 once everything is up, a STATUS= line
// (ports up, workers, packet totals, the forwarding tables' state) at most once a second, logging
// link changes on the way, WATCHDOG=1 only while every worker loops, and STOPPING=1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/dataplane.h"
#include "app/systemd_notify.h"
#include "ipv4/fib_builder.h"

namespace vsgate {

// The STATUS= words about the forwarding tables: "routes 12, neighbours 3" while both are in
// step with the host; a table whose build failed says since when, what it kept and why, e.g.
// "routes STALE 42 s (4096 of 5000 kept: too many routes: 5000 (max 4096))".
std::string fib_status_words(const FibStatus& fib, uint64_t now_unix_us);

class SystemdStatus {
 public:
  explicit SystemdStatus(DataPlane& dataplane) : dataplane_(dataplane) {}

  // The forwarding tables' state to report (set once the FibPublisher exists).
  void watch_fib(const FibStatus* fib) { fib_ = fib; }
  void ready() { systemd_.ready(); }
  void stopping() { systemd_.stopping(); }
  // Every loop turn; acts once a second: link states, then the STATUS= line.
  void report(uint64_t now_us);
  // Every loop turn: feeds the watchdog if every worker's loop counter moved.
  void feed_watchdog(uint64_t now_us);

 private:
  DataPlane& dataplane_;
  const FibStatus* fib_ = nullptr;
  SystemdNotifier systemd_;
  uint64_t next_status_us_ = 0;
  std::vector<uint64_t> loops_;
};

}  // namespace vsgate
