// port.show and port.stats: the data-plane ports (ethdev), their link state and exception path.
#pragma once

#include <memory>
#include <vector>

#include "ctrl/protocol.h"
#include "kni/exception_path.h"
#include "kni/mirror/host_stack.h"
#include "netif/port.h"

namespace vsgate {

struct PortCommandContext {
  const std::vector<std::unique_ptr<EthPort>>& ports;
  const std::vector<LinkState>& links;  // by port index, as last seen
  const ExceptionPath& exception_path;  // a port's kernel interface
  const HostStackMirror& mirror;        // its ifindex
};

void register_port_commands(CommandTable& table, const PortCommandContext& context);

}  // namespace vsgate
