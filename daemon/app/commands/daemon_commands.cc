#include "app/commands/daemon_commands.h"

#include <rte_version.h>
#include <unistd.h>

#include "app/clock.h"
#include "app/commands/command_module.h"
#include "app/commands/host_commands.h"

namespace vsgate {
namespace {

using Context = DaemonCommandContext;

Result<Json> version(const Context&, const Json&) {
  return Json{{"version", VSGATE_VERSION}, {"dpdk", rte_version()}};
}

// What a monitoring client (vsgate-snmp) needs besides the tables: who is running, since
// when, and since when the counters count (a restart or lb.zero changes stats_reset_us); the
// forwarding tables' state (`fib`).
Result<Json> status(const Context& c, const Json&) {
  Json out{{"version", VSGATE_VERSION},
           {"dpdk", rte_version()},
           {"pid", static_cast<int64_t>(getpid())},
           {"started_us", c.facts.started_unix_us},
           {"uptime_ms", (monotonic_us() - c.facts.started_mono_us) / 1000},
           {"stats_reset_us", c.lb.stats_reset_unix_us()},
           {"workers", c.facts.workers},
           {"ports", c.facts.ports}};
  if (c.fib) {
    const uint64_t now = monotonic_us();
    out["fib"] = Json{{"routes", fib_table_json(c.fib->routes, now)},
                      {"neighbours", fib_table_json(c.fib->neighbours, now)},
                      {"published", c.fib->published}};
  }
  return out;
}

constexpr Command<Context> kCommands[] = {
    {"version", version},
    {"status", status},
};

}  // namespace

void register_daemon_commands(CommandTable& table, const DaemonCommandContext& context) {
  add_commands(table, context, kCommands);
}

}  // namespace vsgate
