#include "app/commands/debug_commands.h"

#include <rte_cycles.h>

#include "app/clock.h"
#include "app/commands/command_module.h"

namespace vsgate {
namespace {

using Context = DebugCommandContext;

// Makes a worker stop looping for a while, to test that the systemd watchdog fires.
Result<Json> stall_worker(const Context& c, const Json& args) {
  auto worker = optional_uint_arg(args, "worker");
  if (!worker) return worker.error();
  auto seconds = optional_uint_arg(args, "seconds");
  if (!seconds) return seconds.error();
  const uint64_t idx = worker.value().value_or(0);
  const uint64_t secs = seconds.value().value_or(10);
  if (idx >= c.workers.size()) return make_error("no such worker: " + std::to_string(idx));
  if (secs == 0 || secs > 3600) return make_error("seconds must be 1..3600");
  c.workers[idx]->stall_until_tsc.store(rte_get_tsc_cycles() + secs * rte_get_tsc_hz());
  return Json{{"worker", idx}, {"seconds", secs}};
}

// Stops moving exception-path packets for a while, as if the host stack stopped reading:
// punt rings fill up, drops are counted, workers keep forwarding.
Result<Json> pause_exception_path(const Context& c, const Json& args) {
  auto seconds = optional_uint_arg(args, "seconds");
  if (!seconds) return seconds.error();
  const uint64_t secs = seconds.value().value_or(5);
  if (secs == 0 || secs > 3600) return make_error("seconds must be 1..3600");
  c.exception_path.pause_until(monotonic_us() + secs * 1000000);
  return Json{{"seconds", secs}};
}

constexpr Command<Context> kCommands[] = {
    {"debug.stall_worker", stall_worker},
    {"debug.pause_exception_path", pause_exception_path},
};

}  // namespace

void register_debug_commands(CommandTable& table, const GlobalConfig& global,
                             const DebugCommandContext& context) {
  if (!global.debug_commands) return;
  add_commands(table, context, kCommands);
}

}  // namespace vsgate
