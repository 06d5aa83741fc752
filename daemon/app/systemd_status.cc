#include "app/systemd_status.h"

#include <string>

#include "app/clock.h"

namespace vsgate {
namespace {

std::string table_words(const char* name, const FibTableStatus& t, uint64_t now_unix_us) {
  std::string out = std::string(name) + " ";
  if (t.ok) return out + std::to_string(t.installed);
  const uint64_t stale_s =
      now_unix_us > t.stale_since_us ? (now_unix_us - t.stale_since_us) / 1000000 : 0;
  std::string reason = t.reason.size() > 80 ? t.reason.substr(0, 77) + "..." : t.reason;
  return out + "STALE " + std::to_string(stale_s) + " s (" + std::to_string(t.installed) + " of " +
         std::to_string(t.wanted) + " kept: " + reason + ")";
}

}  // namespace

std::string fib_status_words(const FibStatus& fib, uint64_t now_unix_us) {
  return table_words("routes", fib.routes, now_unix_us) + ", " +
         table_words("neighbours", fib.neighbours, now_unix_us);
}

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
                  std::to_string(dropped) + " pkts" +
                  (fib_ ? ", " + fib_status_words(*fib_, unix_time_us()) : std::string()));
}

void SystemdStatus::feed_watchdog(uint64_t now) {
  const auto& workers = dataplane_.workers();
  loops_.resize(workers.size());
  for (size_t i = 0; i < workers.size(); ++i) loops_[i] = workers[i]->stats.rx_iterations.get();
  systemd_.watchdog_tick(now, loops_);
}

}  // namespace vsgate
