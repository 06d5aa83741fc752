// Reads vsgated through its control socket, one snapshot per cache period.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ctrl/control_client.h"
#include "snapshot.h"

namespace vsgate::snmp {

// One connection to the daemon, kept open between readings and reopened when the daemon closed
// it (idle timeout, restart). Every call has a deadline: a stuck daemon costs at most one
// timeout per reading, never a blocked subagent.
class DaemonReader {
 public:
  DaemonReader(std::string socket_path, int timeout_ms)
      : path_(std::move(socket_path)), timeout_ms_(timeout_ms) {}
  Result<Snapshot> read();
  const std::string& path() const { return path_; }

 private:
  Result<DaemonReplies> read_once();
  std::string path_;
  int timeout_ms_;
  std::optional<ControlClient> client_;
};

// The current snapshot with stable indexes and the discontinuity time, re-read when older than
// the cache period. `read` is the daemon (a DaemonReader, or a fake in tests); `uptime_ticks` is
// the agent's sysUpTime in centiseconds.
class StateSource {
 public:
  using Clock = std::chrono::steady_clock;
  StateSource(std::function<Result<Snapshot>()> read, std::function<uint32_t()> uptime_ticks,
              std::chrono::milliseconds cache_period)
      : read_(std::move(read)), uptime_ticks_(std::move(uptime_ticks)), period_(cache_period) {}

  // Never null. Shared so that table rows may point into it while it is being replaced.
  std::shared_ptr<const Snapshot> get();
  uint32_t discontinuity_ticks() { return discontinuity_.ticks(uptime_ticks_()); }
  uint64_t readings() const { return readings_; }

 private:
  std::function<Result<Snapshot>()> read_;
  std::function<uint32_t()> uptime_ticks_;
  std::chrono::milliseconds period_;
  std::shared_ptr<const Snapshot> current_;
  Clock::time_point read_at_{};
  RowIndexes indexes_;
  Discontinuity discontinuity_;
  uint64_t readings_ = 0;
  bool logged_unreachable_ = false;
};

}  // namespace vsgate::snmp
