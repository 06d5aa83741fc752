#include "options.h"

#include <boost/program_options.hpp>
#include <exception>
#include <optional>
#include <sstream>

#include "config/config.h"

namespace vsgate::snmp {
namespace po = boost::program_options;
namespace {

struct Raw {
  std::string config, agentx, control, log_level;
  std::optional<unsigned> cache_seconds;
  bool help = false, version = false;
};

po::options_description option_table(Raw& raw) {
  po::options_description desc("Options", 100, 50);
  // clang-format off
  desc.add_options()
      ("agentx-socket", po::value(&raw.agentx)->value_name("PATH"),
       "AgentX master: a Unix socket path or tcp:HOST:PORT (default /var/agentx/master)")
      ("control-socket", po::value(&raw.control)->value_name("PATH"),
       "vsgated's control socket (default: [snmp] or [global] control_socket of --config, "
       "else /run/vsgate/control.sock)")
      ("cache-seconds", po::value<unsigned>()->value_name("N")->notifier(
           [&raw](unsigned v) { raw.cache_seconds = v; }),
       "read the daemon at most once per N seconds, 1..3600 (default 1)")
      ("log-level", po::value(&raw.log_level)->value_name("LEVEL"),
       "error, warning, info or debug (default info)")
      ("config", po::value(&raw.config)->value_name("PATH"),
       "read the [snmp] section (and [global] control_socket) of this vsgate.conf")
      ("version", po::bool_switch(&raw.version), "print the version and exit")
      ("help,h", po::bool_switch(&raw.help), "print this help and exit");
  // clang-format on
  return desc;
}

}  // namespace

Result<Invocation> parse_invocation(int argc, const char* const argv[]) {
  Raw raw;
  try {
    auto desc = option_table(raw);
    std::vector<std::string> stray;
    po::options_description hidden;
    hidden.add_options()("__stray", po::value(&stray));
    desc.add(hidden);
    po::positional_options_description positional;
    positional.add("__stray", -1);
    auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::variables_map vm;
    po::store(
        po::command_line_parser(argc, argv).options(desc).style(style).positional(positional).run(),
        vm);
    po::notify(vm);
    if (!stray.empty()) return make_error("unexpected argument '" + stray.front() + "'");
  } catch (const po::error& e) {
    return make_error(e.what());
  } catch (const std::exception& e) {
    return make_error(std::string("cannot parse the command line: ") + e.what());
  }

  Invocation inv;
  if (raw.help) {
    inv.action = Action::help;
    return inv;
  }
  if (raw.version) {
    inv.action = Action::version;
    return inv;
  }
  Settings& s = inv.settings;
  if (!raw.config.empty()) {
    ConfigLoadResult c = load_config(raw.config);
    if (!c.ok()) {
      std::string m = "invalid configuration:";
      for (const auto& e : c.errors) m += "\n  " + e;
      return make_error(m);
    }
    s.config_path = raw.config;
    s.agentx_socket = c.config.snmp.agentx_socket;
    s.control_socket = c.config.snmp.control_socket.empty() ? c.config.global.control_socket
                                                            : c.config.snmp.control_socket;
    s.cache_seconds = c.config.snmp.cache_seconds;
    if (c.config.snmp.log_level_set) s.log_level = c.config.snmp.log_level;
  }
  if (!raw.agentx.empty()) s.agentx_socket = raw.agentx;
  if (!valid_agentx_socket(s.agentx_socket))
    return make_error("--agentx-socket: '" + s.agentx_socket +
                      "' is not an absolute Unix socket path or tcp:HOST:PORT");
  if (!raw.control.empty()) {
    if (raw.control[0] != '/' || raw.control.size() > 107)
      return make_error("--control-socket: '" + raw.control +
                        "' is not an absolute path of at most 107 bytes");
    s.control_socket = raw.control;
  }
  if (raw.cache_seconds) {
    if (*raw.cache_seconds < 1 || *raw.cache_seconds > 3600)
      return make_error("--cache-seconds: " + std::to_string(*raw.cache_seconds) +
                        " is out of range (1..3600)");
    s.cache_seconds = *raw.cache_seconds;
  }
  if (!raw.log_level.empty()) {
    std::string lower;
    for (char ch : raw.log_level) lower += static_cast<char>(std::tolower(ch));
    auto level = parse_log_level(lower);
    if (!level)
      return make_error("--log-level: '" + raw.log_level +
                        "' is not a log level (error, warning, info or debug)");
    s.log_level = *level;
  }
  return inv;
}

std::string usage() {
  Raw scratch;
  std::ostringstream out;
  out << "Usage: vsgate-snmp [OPTIONS]\n"
         "\n"
         "SNMP AgentX subagent of vsgate: serves VSGATE-MIB (ports, lcores, virtual and real\n"
         "servers) from vsgated's control socket. Stays in the foreground; logs to stderr.\n"
         "\n"
      << option_table(scratch);
  return out.str();
}

}  // namespace vsgate::snmp
