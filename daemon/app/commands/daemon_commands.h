// version and status: who is running, since when, and since when the counters count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "app/lb_control.h"
#include "ctrl/protocol.h"

namespace vsgate {

struct DaemonFacts {
  uint64_t started_unix_us = 0;  // wall clock
  uint64_t started_mono_us = 0;  // monotonic clock (app/clock.h), for uptime_ms
  size_t workers = 0;
  size_t ports = 0;
};

struct DaemonCommandContext {
  DaemonFacts facts;
  const LbControl& lb;  // stats_reset_unix_us()
};

void register_daemon_commands(CommandTable& table, const DaemonCommandContext& context);

}  // namespace vsgate
