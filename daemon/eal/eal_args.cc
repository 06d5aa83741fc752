#include "eal/eal_args.h"

#include <sched.h>

namespace vsgate {
namespace {

bool is_core_option(const std::string& a) {
  return a == "-l" || a == "-c" || a == "--lcores" || a.starts_with("--lcores=") ||
         (a.size() > 2 && (a.starts_with("-l") || a.starts_with("-c")) && a[1] != '-');
}

}  // namespace

std::vector<std::string> build_eal_args(const Config& config, const std::vector<std::string>& extra,
                                        const std::vector<unsigned>& cpus) {
  std::vector<std::string> args{"vsgated"};
  bool has_cores = false;
  for (const auto* list : {&config.eal.args, &extra})
    for (const auto& a : *list) {
      has_cores = has_cores || is_core_option(a);
      args.push_back(a);
    }
  if (!has_cores) {
    std::string map;
    const unsigned ncpu = cpus.empty() ? 1 : static_cast<unsigned>(cpus.size());
    for (unsigned lcore = 0; lcore <= config.global.workers; ++lcore) {
      if (!map.empty()) map += ',';
      const unsigned cpu = cpus.empty() ? 0 : cpus[lcore % ncpu];
      map += std::to_string(lcore) + "@" + std::to_string(cpu);
    }
    args.push_back("--lcores=" + map);
  }
  return args;
}

std::vector<unsigned> allowed_cpus() {
  std::vector<unsigned> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return {0};
  for (unsigned c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

}  // namespace vsgate
