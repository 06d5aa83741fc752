// vsgate-snmp's settings: command line (Boost.Program_options) over the [snmp] section of
// vsgate.conf (--config) over the defaults.
#pragma once

#include <string>

#include "common/log.h"
#include "common/result.h"

namespace vsgate::snmp {

inline constexpr const char* kDefaultAgentxSocket = "/var/agentx/master";
inline constexpr const char* kDefaultControlSocket = "/run/vsgate/control.sock";

struct Settings {
  std::string agentx_socket = kDefaultAgentxSocket;
  std::string control_socket = kDefaultControlSocket;
  unsigned cache_seconds = 1;
  LogLevel log_level = LogLevel::info;
  std::string config_path;  // "" = none read
};

enum class Action { run, help, version };
struct Invocation {
  Action action = Action::run;
  Settings settings;
};

// Parses argv and, with --config, reads the file (every error of the file is reported, as
// vsgated --check does). Errors are for stderr; the caller exits 2 for them.
Result<Invocation> parse_invocation(int argc, const char* const argv[]);
std::string usage();

}  // namespace vsgate::snmp
