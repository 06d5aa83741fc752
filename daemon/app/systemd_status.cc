#include "app/systemd_status.h"

#include <string>

namespace vsgate {

void SystemdStatus::report(uint64_t now) {
  if (now < next_status_us_) return;
  next_status_us_ = now + 1000000;
  const unsigned up = dataplane_.refresh_links();
  const auto& workers = dataplane_.workers();
  std::vector<const WorkerStats*> stats;
  for (const auto& w : workers) stats.push_back(&w->stats);
  const WorkerTotals t = sum_worker_stats(stats);
  const uint64_t dropped = t.dropped_total() + t.tx_drops + t.punt_drops + t.inject_drops;
  systemd_.status("ports " + std::to_string(up) + "/" + std::to_string(dataplane_.ports().size()) +
                  " up, workers " + std::to_string(workers.size()) + ", rx " +
                  std::to_string(t.rx_packets) + " tx " + std::to_string(t.tx_packets) + " fwd " +
                  std::to_string(t.forwarded) + " punt " + std::to_string(t.punted) + " drop " +
                  std::to_string(dropped) + " pkts");
}

void SystemdStatus::feed_watchdog(uint64_t now) {
  const auto& workers = dataplane_.workers();
  loops_.resize(workers.size());
  for (size_t i = 0; i < workers.size(); ++i) loops_[i] = workers[i]->stats.rx_iterations.get();
  systemd_.watchdog_tick(now, loops_);
}

}  // namespace vsgate
