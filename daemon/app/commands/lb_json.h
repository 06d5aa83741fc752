// How the lb.* replies write their values (docs/CONTROL_PROTOCOL.md, "Load balancer commands").
#pragma once

#include <cstdint>
#include <string>

#include "ctrl/protocol.h"
#include "lb/lb_snapshot.h"
#include "lb/lb_worker.h"
#include "lb/registry.h"

namespace vsgate {

// "10.0.0.2:40000" from network-order values.
std::string endpoint(uint32_t ip_be, uint16_t port_be);
Json stats_json(const StatsValues& s);
Json rates_json(const RateEstimator& r);
// One Connection of lb.conns; `snapshot` (the current one) names the real server's slot.
Json connection_json(const ConnRow& r, const LbSnapshot* snapshot);

}  // namespace vsgate
