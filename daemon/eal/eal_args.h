// The argument vector for rte_eal_init, derived from the configuration. Pure (no DPDK) so that it
// can be unit-tested.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace vsgate {

// [eal] args + the extra arguments given after "--" on the command line. Unless the user gave a
// core option (-l, -c, --lcores), one lcore for control plus `workers` worker lcores are mapped
// onto the CPUs we may run on, wrapping around when there are more lcores than CPUs (the lab and
// CI run 1 + N lcores on 2 CPUs).
std::vector<std::string> build_eal_args(const Config& config, const std::vector<std::string>& extra,
                                        const std::vector<unsigned>& allowed_cpus);

// The CPUs of this process's affinity mask, in ascending order.
std::vector<unsigned> allowed_cpus();

}  // namespace vsgate
