// debug.stall_worker and debug.pause_exception_path: for tests of failure handling (the
// systemd watchdog, a host that stops reading). They exist only with
// [global] debug_commands = yes.
#pragma once

#include <memory>
#include <vector>

#include "app/exception_path_io.h"
#include "config/config.h"
#include "ctrl/protocol.h"
#include "lcore/worker.h"

namespace vsgate {

struct DebugCommandContext {
  std::vector<std::unique_ptr<Worker>>& workers;  // stall_until_tsc
  ExceptionPathIo& exception_path;                // pause_until()
};

// Registers the debug.* commands if global.debug_commands is set; otherwise nothing (they are
// unknown commands).
void register_debug_commands(CommandTable& table, const GlobalConfig& global,
                             const DebugCommandContext& context);

}  // namespace vsgate
