// ipvsadm(8) syntax for vsgatectl ("vsgatectl -A -t 10.0.0.100:80 -s wrr"), with DPVS's
// additions (-b FULLNAT, --add-laddr/--del-laddr/--get-laddr). parse() turns the arguments into
// one control request (docs/CONTROL_PROTOCOL.md, "Load balancer commands"); format() prints its
// result the way ipvsadm prints the same listing, byte for byte, so that scripts written for
// ipvsadm keep working. Error messages are ipvsadm's own wording where it has one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "ctrl/protocol.h"

namespace vsgate::vsgatectl::ipvsadm {

// What the reply is printed as.
enum class View {
  none,         // -A -E -D -C -a -e -d -Z --set --add-laddr --del-laddr: nothing on success
  services,     // -L
  connections,  // -L -c
  timeouts,     // -L --timeout
  laddrs,       // --get-laddr
};

struct ListFormat {
  enum class Columns { standard, stats, rate, thresholds };
  Columns columns = Columns::standard;
  bool exact = false;  // --exact: no K/M/G/T units
  bool sort = true;    // --nosort clears it
  bool banner = true;  // "IP Virtual Server version ..." line: only when listing everything
};

struct Command {
  bool help = false;     // -h, --help
  bool version = false;  // -v, --version
  // vsgatectl's global options, also accepted among the ipvsadm ones.
  bool json = false;
  std::optional<std::string> socket;

  std::string cmd;             // the control request, e.g. "lb.service.add"
  Json args = Json::object();  // and its args
  View view = View::none;
  ListFormat list;
  Json service;  // the ServiceId given with -t/-u, null without
};

inline constexpr int kDefaultPersistence = 300;  // -p without a value, as ipvsadm
inline constexpr int kMaxTimeout = 86400 * 31;   // ipvsadm's MAX_TIMEOUT
inline constexpr const char* kBanner = "IP Virtual Server version 1.2.1 (size=4096)\n";

// Parses the arguments from the first ipvsadm option on. Errors are usage errors (exit 2).
Result<Command> parse(const std::vector<std::string>& args);

// The output of a successful request (without --json).
std::string format(const Command& command, const Json& result);

// Formatters, exposed for tests. They never throw: missing fields print as 0 or empty.
std::string format_services(const Json& list_result, const ListFormat& format);  // -L
std::string format_connections(const Json& conns_result);                        // -L -c
std::string format_timeouts(const Json& list_result);                            // --timeout
// --get-laddr: `services` is an array of objects with proto, vip, port and laddrs.
std::string format_laddrs(const Json& services, bool sort = true);
// ipvsadm's print_largenum: 9 columns, K/M/G/T units above 10^8 unless exact.
std::string format_largenum(uint64_t value, bool exact);

// The ipvsadm part of `vsgatectl --help`.
std::string usage();

}  // namespace vsgate::vsgatectl::ipvsadm
