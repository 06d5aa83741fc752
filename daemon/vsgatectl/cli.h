// vsgatectl's command line and main logic, in a library so that tests drive it without a
// process. Two syntaxes share one entry point: subcommands ("vsgatectl port show") and ipvsadm's
// options ("vsgatectl -A -t VIP:PORT -s rr", see ipvsadm.h). The first argument that is not a
// global option decides: a word selects subcommand mode, an option selects ipvsadm mode.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "common/result.h"
#include "ctrl/protocol.h"
#include "vsgatectl/ipvsadm.h"

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
  std::string command;                    // protocol command, e.g. "port.stats", "lb.list"
  Json args = Json::object();             // its args, e.g. {"name": "dpdk0"}
  std::vector<std::string> ipvsadm_args;  // Mode::ipvsadm: the arguments from the first option on
  ipvsadm::Command ipvsadm;               // Mode::ipvsadm: what they say (command/args copied)
};

// Parses the arguments (without argv[0]). env_socket is $VSGATE_SOCKET or nullptr. The error
// message is meant for "vsgatectl: MESSAGE" followed by the --help hint.
Result<Invocation> parse_command_line(const std::vector<std::string>& args, const char* env_socket);

std::string usage();  // the --help text

// The whole program: parse, connect, call, print. Returns the exit status.
int run(const std::vector<std::string>& args, const char* env_socket, std::ostream& out,
        std::ostream& err);

}  // namespace vsgate::vsgatectl
