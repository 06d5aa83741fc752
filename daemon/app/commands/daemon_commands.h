// version and status: who is running, since when, since when the counters count, and the state
// of the forwarding tables.
#pragma once

#include <cstddef>
#include <cstdint>

#include "app/lb_control.h"
#include "ctrl/protocol.h"
#include "ipv4/fib_builder.h"

namespace vsgate {

struct DaemonFacts {
  uint64_t started_unix_us = 0;  // wall clock
  uint64_t started_mono_us = 0;  // monotonic clock (app/clock.h), for uptime_ms
  size_t workers = 0;
  size_t ports = 0;
};

struct DaemonCommandContext {
  DaemonFacts facts;
  const LbControl& lb;             // stats_reset_unix_us()
  const FibStatus* fib = nullptr;  // the forwarding tables' state; null: not reported (tests)
};

void register_daemon_commands(CommandTable& table, const DaemonCommandContext& context);

}  // namespace vsgate
