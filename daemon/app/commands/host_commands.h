// neigh.show, route.show, addr.show: the host-stack mirror (kni/mirror/host_stack.h), i.e. what the
// host knows about the exception-path interfaces and the forwarding snapshot is built from.
#pragma once

#include "app/commands/port_naming.h"
#include "ctrl/protocol.h"
#include "kni/mirror/host_stack.h"

namespace vsgate {

struct HostCommandContext {
  const HostStackMirror& mirror;
  PortNaming naming;
};

void register_host_commands(CommandTable& table, const HostCommandContext& context);

}  // namespace vsgate
