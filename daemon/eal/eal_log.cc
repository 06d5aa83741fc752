#include "eal/eal_log.h"

#include <rte_log.h>

#include <cstdio>
#include <string>

namespace vsgate {
namespace {

// DPDK levels are syslog levels + 1 (RTE_LOG_ERR = 4 is LOG_ERR = 3).
ssize_t write_dpdk_line(void*, const char* buf, size_t size) {
  int level = rte_log_cur_msg_loglevel() - 1;
  if (level < 0 || level > 7) level = 6;
  std::string line(buf, size);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (!line.empty()) std::fprintf(stderr, "<%d>%s\n", level, line.c_str());
  return static_cast<ssize_t>(size);
}

}  // namespace

void redirect_dpdk_log() {
  cookie_io_functions_t io{};
  io.write = write_dpdk_line;
  if (FILE* f = fopencookie(nullptr, "w", io)) {
    setvbuf(f, nullptr, _IOLBF, 0);
    rte_openlog_stream(f);
  }
}

}  // namespace vsgate
