// Routes DPDK's own log lines to stderr with sd-daemon priority prefixes, like ours.
#pragma once

namespace vsgate {
// Call before rte_eal_init so that EAL's start-up messages are prefixed too.
void redirect_dpdk_log();
}  // namespace vsgate
