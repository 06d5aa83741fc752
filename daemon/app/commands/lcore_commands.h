// lcore.stats: every worker's io counters and load-balancer occupancy, their totals, and the
// exception path's counters.
#pragma once

#include <memory>
#include <vector>

#include "app/commands/port_naming.h"
#include "ctrl/protocol.h"
#include "kni/exception_path.h"
#include "lb/registry.h"
#include "lcore/worker.h"

namespace vsgate {

struct LcoreCommandContext {
  const std::vector<std::unique_ptr<Worker>>& workers;
  const LbRegistry& lb;  // local addresses: the workers' port pools
  const ExceptionPath& exception_path;
  PortNaming naming;
};

void register_lcore_commands(CommandTable& table, const LcoreCommandContext& context);

}  // namespace vsgate
