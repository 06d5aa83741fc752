#include "app/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include "common/log.h"

namespace vsgate {

SystemdNotifier::SystemdNotifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) interval_us_ = usec;
}

void SystemdNotifier::ready() { sd_notify(0, "READY=1"); }
void SystemdNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void SystemdNotifier::status(const std::string& line) {
  if (line == last_status_) return;
  last_status_ = line;
  sd_notify(0, ("STATUS=" + line).c_str());
}

void SystemdNotifier::watchdog_tick(uint64_t now_us, const std::vector<uint64_t>& loops) {
  if (!interval_us_ || now_us < next_us_) return;
  next_us_ = now_us + interval_us_ / 2;
  const bool first = last_loops_.size() != loops.size();
  std::vector<unsigned> stuck;
  if (!first)
    for (unsigned i = 0; i < loops.size(); ++i)
      if (loops[i] == last_loops_[i]) stuck.push_back(i);
  last_loops_ = loops;
  if (stuck.empty()) {
    sd_notify(0, "WATCHDOG=1");
  } else if (stuck != stuck_) {
    VSG_LOG(error, "worker(s) stopped looping, withholding the watchdog ping: %zu stuck",
            stuck.size());
  }
  stuck_ = std::move(stuck);
}

}  // namespace vsgate
