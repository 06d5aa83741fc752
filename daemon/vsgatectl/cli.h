// vsgatectl's command line and main logic, in a library so that tests drive it without a
// process. Two syntaxes share one entry point: subcommands ("vsgatectl port show") and, later,
// ipvsadm's options ("vsgatectl -A -t VIP:PORT -s rr"). The first argument that is not a global
// option decides: a word selects subcommand mode, an option selects ipvsadm mode.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "common/result.h"
#include "ctrl/protocol.h"

namespace vsgate::vsgatectl {

inline constexpr const char* kDefaultSocket = "/run/vsgate/control.sock";
inline constexpr const char* kSocketEnv = "VSGATE_SOCKET";
inline constexpr int kDefaultTimeoutMs = 5000;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // cannot connect, daemon error reply, timeout
inline constexpr int kExitUsage = 2;    // bad command line

struct GlobalOptions {
  std::string socket = kDefaultSocket;  // --socket, else $VSGATE_SOCKET, else the default
  bool json = false;                    // print the raw result as JSON
  int timeout_ms = kDefaultTimeoutMs;
};

enum class Mode { help, version, command, ipvsadm };

struct Invocation {
  Mode mode = Mode::help;
  GlobalOptions global;
  std::string command;                    // Mode::command: protocol command, e.g. "port.stats"
  Json args = Json::object();             // Mode::command: its args, e.g. {"name": "dpdk0"}
  std::vector<std::string> ipvsadm_args;  // Mode::ipvsadm: the arguments from the first option on
};

// Parses the arguments (without argv[0]). env_socket is $VSGATE_SOCKET or nullptr. The error
// message is meant for "vsgatectl: MESSAGE" followed by the --help hint.
Result<Invocation> parse_command_line(const std::vector<std::string>& args, const char* env_socket);

std::string usage();  // the --help text

// The whole program: parse, connect, call, print. Returns the exit status.
int run(const std::vector<std::string>& args, const char* env_socket, std::ostream& out,
        std::ostream& err);

}  // namespace vsgate::vsgatectl
