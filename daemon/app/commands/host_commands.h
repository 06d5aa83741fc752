// neigh.show, route.show, addr.show: the host-stack mirror (kni/mirror/host_stack.h), i.e. what the
// host knows about the exception-path interfaces and the forwarding snapshot is built from, with
// the state of the table the workers use (`fib`: ok, or stale since when and why).
#pragma once

#include "app/commands/port_naming.h"
#include "ctrl/protocol.h"
#include "ipv4/fib_builder.h"
#include "kni/mirror/host_stack.h"

namespace vsgate {

struct HostCommandContext {
  const HostStackMirror& mirror;
  PortNaming naming;
  const FibStatus* fib = nullptr;  // null: no forwarding state to report (tests)
};

// A forwarding table's state as the control socket shows it (CONTROL_PROTOCOL.md, FibTable).
Json fib_table_json(const FibTableStatus& table, uint64_t now_mono_us);

void register_host_commands(CommandTable& table, const HostCommandContext& context);

}  // namespace vsgate
