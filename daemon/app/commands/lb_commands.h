// The lb.* commands (docs/CONTROL_PROTOCOL.md, "Load balancer commands"): changes through
// LbControl (the model decides what is allowed), listings from its registry, and lb.conns,
// a deferred reply completed by the ConnListing round.
#pragma once

#include "app/conn_listing.h"
#include "app/lb_control.h"
#include "ctrl/protocol.h"

namespace vsgate {

struct LbCommandContext {
  LbControl& lb;
  ConnListing& listing;
};

void register_lb_commands(CommandTable& table, const LbCommandContext& context);

}  // namespace vsgate
