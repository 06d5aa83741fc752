#include "config/options.h"

#include <boost/program_options.hpp>
#include <exception>
#include <sstream>
#include <string_view>

namespace vsgate {
namespace po = boost::program_options;

namespace {

po::options_description option_table(DaemonOptions& out) {
  po::options_description desc("Options", 100, 50);
  // clang-format off
  desc.add_options()
      ("config,c", po::value(&out.config_path)->value_name("PATH"),
       "configuration file (default /etc/vsgate/vsgate.conf)")
      ("check", po::bool_switch(&out.check),
       "validate the configuration, print OK or every error, exit 0 or 1")
      ("version", po::bool_switch(&out.version), "print the version and exit")
      ("help,h", po::bool_switch(&out.help), "print this help and exit");
  // clang-format on
  return desc;
}

}  // namespace

Result<DaemonOptions> parse_daemon_options(int argc, const char* const argv[]) {
  try {
    DaemonOptions out;
    std::vector<std::string> own;
    bool passthrough = false;
    for (int i = 1; argv && i < argc; ++i) {
      const char* arg = argv[i] ? argv[i] : "";
      // Everything after the first "--" belongs to the EAL, verbatim, even a second "--".
      if (passthrough)
        out.eal_extra.emplace_back(arg);
      else if (std::string_view(arg) == "--")
        passthrough = true;
      else
        own.emplace_back(arg);
    }

    auto desc = option_table(out);
    // Stray words are collected under a hidden name so the error can quote them.
    std::vector<std::string> stray;
    po::options_description hidden;
    hidden.add_options()("__stray", po::value(&stray));
    desc.add(hidden);
    po::positional_options_description positional;
    positional.add("__stray", -1);
    // No guessing: "--conf" must not silently mean "--config" (and break when options are added).
    auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::variables_map vm;
    po::store(po::command_line_parser(own).options(desc).style(style).positional(positional).run(),
              vm);
    po::notify(vm);
    if (!stray.empty())
      return make_error("unexpected argument '" + stray.front() +
                        "' (EAL arguments go after \"--\")");
    if (out.config_path.empty()) return make_error("--config: the path is empty");
    return out;
  } catch (const po::error& e) {
    return make_error(e.what());
  } catch (const std::exception& e) {
    return make_error(std::string("cannot parse the command line: ") + e.what());
  } catch (...) {
    return make_error("cannot parse the command line");
  }
}

std::string daemon_usage() {
  try {
    DaemonOptions scratch;
    std::ostringstream out;
    out << "Usage: vsgated [OPTIONS] [-- EAL-ARGS...]\n"
           "\n"
           "vsgate data-plane daemon: DPDK ports, workers, layer-4 load balancing.\n"
           "\n"
        << option_table(scratch)
        << "\n"
           "Arguments after a literal \"--\" are passed verbatim to rte_eal_init, after the\n"
           "[eal] args of the configuration file, e.g.\n"
           "  vsgated --config /etc/vsgate/vsgate.conf -- --log-level=pmd.net.af_xdp:debug\n";
    return out.str();
  } catch (...) {
    return "Usage: vsgated [--config PATH] [--check] [--version] [--help] [-- EAL-ARGS...]\n";
  }
}

}  // namespace vsgate
