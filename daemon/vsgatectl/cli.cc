#include "vsgatectl/cli.h"

#include <boost/program_options.hpp>
#include <exception>
#include <ostream>
#include <string_view>

#include "ctrl/control_client.h"
#include "vsgatectl/format.h"

namespace vsgate::vsgatectl {
namespace {

namespace po = boost::program_options;

constexpr const char* kHint = "Try 'vsgatectl --help' for more information.";

struct CommandSpec {
  const char* noun;
  const char* verb;
  const char* cmd;     // protocol command
  bool optional_name;  // takes an optional NAME word, sent as args.name
  const char* help;
};

constexpr CommandSpec kCommands[] = {
    {"port", "show", "port.show", false, "ports: driver, MAC, MTU, link, queues, kernel interface"},
    {"port", "stats", "port.stats", true, "ethdev counters and xstats of all ports, or of NAME"},
    {"lcore", "stats", "lcore.stats", false, "per-worker counters, drops, exception path"},
    {"neigh", "show", "neigh.show", false, "neighbours (ARP entries) known to the data plane"},
    {"route", "show", "route.show", false, "routes of the data plane"},
    {"addr", "show", "addr.show", false, "local addresses"},
};

// Global options may appear before the command; in subcommand mode also after it.
po::options_description global_options() {
  po::options_description desc("Options", 100, 50);
  // clang-format off
  desc.add_options()
      ("socket", po::value<std::string>()->value_name("PATH"),
       "control socket (default: $VSGATE_SOCKET, else /run/vsgate/control.sock)")
      ("json", "print the daemon's result as JSON instead of tables")
      ("timeout", po::value<int>()->value_name("MS"),
       "give up when vsgated has not answered within MS milliseconds (default 5000)")
      ("help,h", "show this help and exit")
      ("version", "show the version of vsgatectl and exit");
  // clang-format on
  return desc;
}

constexpr int kStyle =
    po::command_line_style::default_style & ~po::command_line_style::allow_guessing;

bool is_global_option(std::string_view arg, bool& takes_value) {
  takes_value = false;
  if (arg == "-h") return true;
  if (!arg.starts_with("--") || arg == "--") return false;
  std::string_view name = arg.substr(
      2, arg.find('=') == std::string_view::npos ? std::string_view::npos : arg.find('=') - 2);
  if (name == "socket" || name == "timeout") {
    takes_value = arg.find('=') == std::string_view::npos;
    return true;
  }
  return name == "json" || name == "help" || name == "version";
}

// The index of the first argument that is neither a global option nor its value.
size_t first_non_global(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    bool takes_value;
    if (!is_global_option(args[i], takes_value)) return i;
    if (takes_value) ++i;
  }
  return args.size();
}

Status apply_globals(const po::variables_map& vm, const char* env_socket, GlobalOptions& g) {
  if (vm.count("socket")) {
    g.socket = vm["socket"].as<std::string>();
    if (g.socket.empty()) return make_error("--socket needs a path");
  } else if (env_socket != nullptr && *env_socket != '\0') {
    g.socket = env_socket;
  } else {
    g.socket = kDefaultSocket;
  }
  g.json = vm.count("json") > 0;
  if (vm.count("timeout")) {
    g.timeout_ms = vm["timeout"].as<int>();
    if (g.timeout_ms <= 0) return make_error("--timeout must be a positive number of milliseconds");
  }
  return Ok{};
}

std::string join_verbs(std::string_view noun) {
  std::string verbs;
  for (const auto& spec : kCommands) {
    if (noun != spec.noun) continue;
    if (!verbs.empty()) verbs += ", ";
    verbs += spec.verb;
  }
  return verbs;
}

Status resolve_command(const std::vector<std::string>& words, Invocation& inv) {
  const std::string& noun = words[0];
  if (noun == "help") {
    inv.mode = Mode::help;
    return Ok{};
  }
  inv.mode = Mode::command;
  if (noun == "version") {
    if (words.size() > 1) return make_error("too many arguments for 'version'");
    inv.command = "version";
    return Ok{};
  }
  std::string verbs = join_verbs(noun);
  if (verbs.empty()) return make_error("unknown command '" + noun + "'");
  if (words.size() == 1) return make_error("'" + noun + "' needs a subcommand: " + verbs);
  for (const auto& spec : kCommands) {
    if (noun != spec.noun || words[1] != spec.verb) continue;
    size_t max_words = spec.optional_name ? 3 : 2;
    if (words.size() > max_words) {
      return make_error("too many arguments for '" + noun + " " + words[1] + "'");
    }
    inv.command = spec.cmd;
    if (words.size() == 3) inv.args["name"] = words[2];
    return Ok{};
  }
  return make_error("unknown command '" + noun + " " + words[1] + "' (expected: " + verbs + ")");
}

}  // namespace

std::string usage() {
  std::string text =
      "Usage: vsgatectl [OPTIONS] COMMAND...\n"
      "       vsgatectl [OPTIONS] IPVSADM-OPTIONS...\n"
      "Query and configure the vsgate load balancer (vsgated) over its control socket.\n"
      "\n"
      "Commands:\n";
  Table commands({{""}, {""}});
  for (const auto& spec : kCommands) {
    commands.add_row(
        {std::string(spec.noun) + " " + spec.verb + (spec.optional_name ? " [NAME]" : ""),
         spec.help});
  }
  commands.add_row({"version", "versions of vsgated and DPDK"});
  text += commands.render(false, "  ");
  text += "\n" + ipvsadm::usage();
  std::ostringstream options;
  options << global_options();
  text += "\n" + options.str();
  text +=
      "\nExit status: 0 on success, 1 when vsgated cannot be reached or reports an error,\n"
      "2 on a bad command line.\n";
  return text;
}

Result<Invocation> parse_command_line(const std::vector<std::string>& args,
                                      const char* env_socket) {
  try {
    Invocation inv;
    po::variables_map vm;
    size_t first = first_non_global(args);
    std::vector<std::string> words;
    bool ipvsadm = first < args.size() && args[first].size() > 1 && args[first][0] == '-' &&
                   args[first] != "--";
    if (ipvsadm) {
      // Only the global options before the first ipvsadm option are ours; the rest will go to
      // the ipvsadm parser.
      std::vector<std::string> prefix(args.begin(), args.begin() + first);
      po::store(po::command_line_parser(prefix).options(global_options()).style(kStyle).run(), vm);
      inv.ipvsadm_args.assign(args.begin() + first, args.end());
    } else {
      po::options_description all = global_options();
      all.add_options()("words", po::value<std::vector<std::string>>(&words));
      po::positional_options_description positional;
      positional.add("words", -1);
      po::store(
          po::command_line_parser(args).options(all).positional(positional).style(kStyle).run(),
          vm);
    }
    po::notify(vm);
    if (auto st = apply_globals(vm, env_socket, inv.global); !st) return st.error();

    if (vm.count("help")) {
      inv.mode = Mode::help;
    } else if (vm.count("version")) {
      inv.mode = Mode::version;
    } else if (ipvsadm) {
      Result<ipvsadm::Command> cmd = ipvsadm::parse(inv.ipvsadm_args);
      if (!cmd) return cmd.error();
      if (cmd->help) {
        inv.mode = Mode::help;
      } else if (cmd->version) {
        inv.mode = Mode::version;
      } else {
        inv.mode = Mode::ipvsadm;
        if (cmd->json) inv.global.json = true;
        if (cmd->socket) inv.global.socket = *cmd->socket;
        inv.command = cmd->cmd;
        inv.args = cmd->args;
      }
      inv.ipvsadm = std::move(cmd.value());
    } else if (words.empty()) {
      return make_error("missing command");
    } else if (auto st = resolve_command(words, inv); !st) {
      return st.error();
    }
    return inv;
  } catch (const po::error& e) {
    return make_error(e.what());
  } catch (const std::exception& e) {
    return make_error(e.what());
  }
}

int run(const std::vector<std::string>& args, const char* env_socket, std::ostream& out,
        std::ostream& err) {
  try {
    Result<Invocation> inv = parse_command_line(args, env_socket);
    if (!inv) {
      err << "vsgatectl: " << inv.message() << "\n" << kHint << "\n";
      return kExitUsage;
    }
    switch (inv->mode) {
      case Mode::help:
        out << usage();
        return kExitOk;
      case Mode::version:
        out << "vsgatectl " << VSGATE_VERSION << "\n";
        return kExitOk;
      case Mode::ipvsadm:
      case Mode::command:
        break;
    }
    Result<ControlClient> client =
        ControlClient::connect(inv->global.socket, inv->global.timeout_ms);
    if (!client) {
      err << "vsgatectl: " << client.message() << "\n";
      return kExitFailure;
    }
    Result<Json> result = client->call(inv->command, inv->args);
    if (!result) {
      err << "vsgatectl: " << result.message() << "\n";
      return kExitFailure;
    }
    if (inv->global.json) {
      out << format_json(*result);
    } else if (inv->mode == Mode::ipvsadm) {
      out << ipvsadm::format(inv->ipvsadm, *result);
    } else {
      out << format_result(inv->command, *result);
    }
    out.flush();
    if (!out) {
      err << "vsgatectl: cannot write output\n";
      return kExitFailure;
    }
    return kExitOk;
  } catch (const std::exception& e) {
    err << "vsgatectl: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace vsgate::vsgatectl
