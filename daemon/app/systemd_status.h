// What systemd hears from vsgated (Type=notify): READY=1 once everything is up, a STATUS= line
// (ports up, workers, packet totals) at most once a second, logging link changes on the way,
// WATCHDOG=1 only while every worker loops, and STOPPING=1.
#pragma once

#include <cstdint>
#include <vector>

#include "app/dataplane.h"
#include "app/systemd_notify.h"

namespace vsgate {

class SystemdStatus {
 public:
  explicit SystemdStatus(DataPlane& dataplane) : dataplane_(dataplane) {}

  void ready() { systemd_.ready(); }
  void stopping() { systemd_.stopping(); }
  // Every loop turn; acts once a second: link states, then the STATUS= line.
  void report(uint64_t now_us);
  // Every loop turn: feeds the watchdog if every worker's loop counter moved.
  void feed_watchdog(uint64_t now_us);

 private:
  DataPlane& dataplane_;
  SystemdNotifier systemd_;
  uint64_t next_status_us_ = 0;
  std::vector<uint64_t> loops_;
};

}  // namespace vsgate
