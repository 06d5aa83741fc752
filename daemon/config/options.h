// vsgated's command line (Boost.Program_options).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace vsgate {

struct DaemonOptions {
  std::string config_path = "/etc/vsgate/vsgate.conf";
  bool check = false;    // --check: validate the config, print OK or the errors, exit 0/1
  bool version = false;  // --version
  bool help = false;     // --help
  std::vector<std::string> eal_extra;  // everything after "--", appended to the EAL arguments
};

// Parses argv. Unknown options and missing values give an error message suitable for stderr.
Result<DaemonOptions> parse_daemon_options(int argc, const char* const argv[]);
std::string daemon_usage();  // the --help text
}  // namespace vsgate
