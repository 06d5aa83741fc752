// sd_notify integration: READY, STATUS and a watchdog that is fed only while every worker loops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vsgate {

class SystemdNotifier {
 public:
  SystemdNotifier();
  void ready();
  void stopping();
  void status(const std::string& line);  // sent only when it changed
  // Call often from the main loop with each worker's loop counter. Sends WATCHDOG=1 at half the
  // watchdog interval, and only if every counter moved since the previous ping.
  void watchdog_tick(uint64_t now_us, const std::vector<uint64_t>& worker_loops);
  bool watchdog_enabled() const { return interval_us_ != 0; }
  // Workers that did not move at the last tick (for the log).
  const std::vector<unsigned>& stuck_workers() const { return stuck_; }

 private:
  uint64_t interval_us_ = 0;
  uint64_t next_us_ = 0;
  std::vector<uint64_t> last_loops_;
  std::vector<unsigned> stuck_;
  std::string last_status_;
};

}  // namespace vsgate
