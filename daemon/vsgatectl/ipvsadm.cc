#include "vsgatectl/ipvsadm.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <initializer_list>
#include <string_view>
#include <tuple>
#include <utility>

#include "common/net_types.h"
#include "lb/model.h"

namespace vsgate::vsgatectl::ipvsadm {
namespace {

// The parser checks syntax; what the values may be is the daemon's model (lb/model.h). Its own
// limits are ipvsadm's (MAX_TIMEOUT for -p and --set, INT_MAX for -x/-y) and never accept more
// than the model does, so a command it lets through is refused, if at all, by the rules.
static_assert(kMaxTimeout <= kMaxPersistenceS && kMaxTimeout <= kMaxTimeoutS);
constexpr uint64_t kMaxThreshold = 2147483647;  // ipvsadm parses -x/-y as int
static_assert(kMaxThreshold <= UINT32_MAX);

// ---- the grammar ----

// Commands, with ipvsadm's names (cmdnames[] in ipvsadm.c) for the messages.
enum class Cmd {
  none,
  add,
  edit,
  del,
  flush,
  list,
  add_dest,
  del_dest,
  edit_dest,
  set,
  zero,
  add_laddr,
  del_laddr,
  get_laddr,
};
constexpr const char* kCmdNames[] = {
    "",     "add-service", "edit-service",  "delete-service", "flush",
    "list", "add-server",  "delete-server", "edit-server",    "set",
    "zero", "add-laddr",   "del-laddr",     "get-laddr",
};

// Options, in the order of ipvsadm's optnames[] (the order decides which error is reported
// first); the ones vsgate does not have are left out.
enum Opt {
  kNumeric,
  kConnection,
  kService,
  kScheduler,
  kPersistent,
  kServer,
  kForward,
  kWeight,
  kUThreshold,
  kLThreshold,
  kTimeout,
  kStats,
  kRate,
  kThresholds,
  kNoSort,
  kExact,
  kLocalAddress,
  kIfname,
  kOptCount,
};
constexpr const char* kOptNames[kOptCount] = {
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "timeout",
    "stats",
    "rate",
    "thresholds",
    "nosort",
    "exact",
    "local-address",
    "ifname",
};

// ipvsadm's commands_v_options table (with DPVS's laddr rows), one column per Opt:
// '+' required, 'x' illegal, '1' at most one of the '1's, ' ' optional.
//                                       n c s s p r f w x y t s r t n e l i
//                                         v c   s w         o t t h s x a f
constexpr std::array<const char*, 14> kAllowed = {
    "",                    // none
    "xx+  xxxxxxxxxxxxx",  // add
    "xx+  xxxxxxxxxxxxx",  // edit
    "xx+xxxxxxxxxxxxxxx",  // del
    "xxxxxxxxxxxxxxxxxx",  // flush
    " 1 xxxxxxx1     xx",  // list (ipvsadm: -t is a '1' too; vsgate lists one service's conns)
    "xx+xx+    xxxxxxxx",  // add_dest
    "xx+xx+xxxxxxxxxxxx",  // del_dest
    "xx+xx+    xxxxxxxx",  // edit_dest
    "xxxxxxxxxxxxxxxxxx",  // set
    "xx xxxxxxxxxxxxxxx",  // zero
    "xx+xxxxxxxxxxxxx++",  // add_laddr
    "xx+xxxxxxxxxxxxx++",  // del_laddr
    "xx xxxxxxxxxxxxxxx",  // get_laddr
};

constexpr bool rows_complete() {
  for (size_t i = 1; i < kAllowed.size(); ++i)
    if (std::string_view(kAllowed[i]).size() != kOptCount) return false;
  return true;
}
static_assert(rows_complete());

enum class Arg { none, required, optional };

enum class Tag {
  // commands
  add,
  edit,
  del,
  flush,
  list,
  zero,
  add_dest,
  edit_dest,
  del_dest,
  set,
  add_laddr,
  del_laddr,
  get_laddr,
  help,
  version,
  // options
  tcp,
  udp,
  scheduler,
  persistent,
  server,
  gatewaying,
  ipip,
  masquerading,
  fullnat,
  weight,
  u_threshold,
  l_threshold,
  numeric,
  connection,
  timeout,
  stats,
  rate,
  thresholds,
  nosort,
  sort,
  exact,
  laddr,
  ifname,
  // vsgatectl's own
  json,
  socket,
  // ipvsadm/DPVS options vsgate does not implement
  unsupported,
};

struct OptionSpec {
  char short_name;  // '\0' when long only
  const char* long_name;
  Arg arg;
  Tag tag;
};

// clang-format off
constexpr OptionSpec kOptions[] = {
    {'A', "add-service", Arg::none, Tag::add},
    {'E', "edit-service", Arg::none, Tag::edit},
    {'D', "delete-service", Arg::none, Tag::del},
    {'C', "clear", Arg::none, Tag::flush},
    {'L', "list", Arg::none, Tag::list},
    {'l', nullptr, Arg::none, Tag::list},
    {'Z', "zero", Arg::none, Tag::zero},
    {'a', "add-server", Arg::none, Tag::add_dest},
    {'e', "edit-server", Arg::none, Tag::edit_dest},
    {'d', "delete-server", Arg::none, Tag::del_dest},
    {'\0', "set", Arg::none, Tag::set},
    {'P', "add-laddr", Arg::none, Tag::add_laddr},
    {'Q', "del-laddr", Arg::none, Tag::del_laddr},
    {'G', "get-laddr", Arg::none, Tag::get_laddr},
    {'h', "help", Arg::none, Tag::help},
    {'v', "version", Arg::none, Tag::version},
    {'t', "tcp-service", Arg::required, Tag::tcp},
    {'u', "udp-service", Arg::required, Tag::udp},
    {'s', "scheduler", Arg::required, Tag::scheduler},
    {'p', "persistent", Arg::optional, Tag::persistent},
    {'r', "real-server", Arg::required, Tag::server},
    {'g', "gatewaying", Arg::none, Tag::gatewaying},
    {'i', "ipip", Arg::none, Tag::ipip},
    {'m', "masquerading", Arg::none, Tag::masquerading},
    {'b', "fullnat", Arg::none, Tag::fullnat},
    {'w', "weight", Arg::required, Tag::weight},
    {'x', "u-threshold", Arg::required, Tag::u_threshold},
    {'y', "l-threshold", Arg::required, Tag::l_threshold},
    {'n', "numeric", Arg::none, Tag::numeric},
    {'c', "connection", Arg::none, Tag::connection},
    {'\0', "timeout", Arg::none, Tag::timeout},
    {'\0', "stats", Arg::none, Tag::stats},
    {'\0', "rate", Arg::none, Tag::rate},
    {'\0', "thresholds", Arg::none, Tag::thresholds},
    {'\0', "nosort", Arg::none, Tag::nosort},
    {'\0', "sort", Arg::none, Tag::sort},
    {'X', "exact", Arg::none, Tag::exact},
    {'z', "laddr", Arg::required, Tag::laddr},
    {'F', "ifname", Arg::required, Tag::ifname},
    {'\0', "json", Arg::none, Tag::json},
    {'\0', "socket", Arg::required, Tag::socket},
    // Known to ipvsadm or DPVS, not to vsgate: said so rather than "unrecognised".
    {'f', "fwmark-service", Arg::none, Tag::unsupported},
    {'M', "netmask", Arg::none, Tag::unsupported},
    {'R', "restore", Arg::none, Tag::unsupported},
    {'S', "save", Arg::none, Tag::unsupported},
    {'6', "ipv6", Arg::none, Tag::unsupported},
    {'o', "ops", Arg::none, Tag::unsupported},
    {'q', "icmp-service", Arg::none, Tag::unsupported},
    {'J', "snat", Arg::none, Tag::unsupported},
    {'U', "add-blklst", Arg::none, Tag::unsupported},
    {'V', "del-blklst", Arg::none, Tag::unsupported},
    {'B', "get-blklst", Arg::none, Tag::unsupported},
    {'k', "blklst", Arg::none, Tag::unsupported},
    {'j', "synproxy", Arg::none, Tag::unsupported},
    {'H', "match", Arg::none, Tag::unsupported},
    {'Y', "hash-target", Arg::none, Tag::unsupported},
    {'\0', "start-daemon", Arg::none, Tag::unsupported},
    {'\0', "stop-daemon", Arg::none, Tag::unsupported},
    {'\0', "daemon", Arg::none, Tag::unsupported},
    {'\0', "mcast-interface", Arg::none, Tag::unsupported},
    {'\0', "syncid", Arg::none, Tag::unsupported},
    {'\0', "persistent-conn", Arg::none, Tag::unsupported},
    {'\0', "pe", Arg::none, Tag::unsupported},
    {'\0', "sockpair", Arg::none, Tag::unsupported},
};
// clang-format on

constexpr const char* kSchedulers[] = {"rr", "wrr", "lc", "wlc", "sh", "mh"};

const OptionSpec* find_short(char c) {
  for (const auto& o : kOptions)
    if (o.short_name == c) return &o;
  return nullptr;
}

const OptionSpec* find_long(std::string_view name) {
  for (const auto& o : kOptions)
    if (o.long_name != nullptr && name == o.long_name) return &o;
  return nullptr;
}

std::optional<uint64_t> parse_uint(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

struct AddrPort {
  std::string addr;  // canonical: dotted quad, or RFC 5952 for IPv6
  std::optional<uint16_t> port;
};

// ipvsadm's parse_service: "A.B.C.D", "A.B.C.D:PORT", "[IPV6]", "[IPV6]:PORT" or a bare IPv6
// address (no port), numeric only (no DNS, no /etc/services). IPv6 parses; whether a service
// may use it is the daemon's model's to say (lb/model.h).
std::optional<AddrPort> parse_addr_port(std::string_view text) {
  auto hp = split_host_port(text);
  if (!hp) return std::nullopt;
  AddrPort out;
  out.addr = hp->addr.str();
  if (hp->port) {
    auto port = parse_uint(*hp->port, 65535);
    if (!port) return std::nullopt;
    out.port = static_cast<uint16_t>(*port);
  }
  return out;
}

// Everything the command line said, before it becomes a request.
struct Parsed {
  Cmd cmd = Cmd::none;
  uint32_t options = 0;  // bits of Opt
  Command out;
  std::string proto;
  AddrPort vip;
  std::optional<std::string> scheduler;
  std::optional<uint64_t> persistence;
  AddrPort rip;
  std::optional<std::string> fwd;
  std::optional<uint64_t> weight, upper, lower;
  std::string laddr, ifname;
  std::vector<std::string> positional;
  std::array<uint64_t, 3> timeouts{};  // --set TCP TCPFIN UDP

  bool has(Opt o) const { return (options & (1u << o)) != 0; }
};

class Parser {
 public:
  explicit Parser(const std::vector<std::string>& args) : args_(args) {}

  Result<Command> run();

 private:
  Status scan();
  Status apply(const OptionSpec& spec, const std::string& display,
               const std::optional<std::string>& value);
  Status set_command(Cmd cmd);
  Status set_option(Opt opt);
  Status check();
  Command build();

  const std::vector<std::string>& args_;
  Parsed p_;
  bool done_ = false;  // -h or -v seen: nothing else matters
};

Status Parser::set_command(Cmd cmd) {
  if (p_.cmd != Cmd::none) return make_error("multiple commands specified");
  p_.cmd = cmd;
  return Ok{};
}

Status Parser::set_option(Opt opt) {
  if (p_.has(opt))
    return make_error(std::string("multiple '") + kOptNames[opt] + "' options specified");
  p_.options |= 1u << opt;
  return Ok{};
}

Status Parser::apply(const OptionSpec& spec, const std::string& display,
                     const std::optional<std::string>& value) {
  auto fwd = [this](const char* mode) -> Status {
    if (auto st = set_option(kForward); !st) return st;
    p_.fwd = mode;
    return Ok{};
  };
  auto threshold = [this](Opt opt, std::optional<uint64_t>& field, const std::string& v,
                          const char* what) -> Status {
    if (auto st = set_option(opt); !st) return st;
    field = parse_uint(v, kMaxThreshold);
    if (!field) return make_error(std::string("illegal ") + what + " specified");
    return Ok{};
  };
  switch (spec.tag) {
    case Tag::add:
      return set_command(Cmd::add);
    case Tag::edit:
      return set_command(Cmd::edit);
    case Tag::del:
      return set_command(Cmd::del);
    case Tag::flush:
      return set_command(Cmd::flush);
    case Tag::list:
      return set_command(Cmd::list);
    case Tag::zero:
      return set_command(Cmd::zero);
    case Tag::add_dest:
      return set_command(Cmd::add_dest);
    case Tag::edit_dest:
      return set_command(Cmd::edit_dest);
    case Tag::del_dest:
      return set_command(Cmd::del_dest);
    case Tag::set:
      return set_command(Cmd::set);
    case Tag::add_laddr:
      return set_command(Cmd::add_laddr);
    case Tag::del_laddr:
      return set_command(Cmd::del_laddr);
    case Tag::get_laddr:
      return set_command(Cmd::get_laddr);
    case Tag::help:
      p_.out.help = true;
      done_ = true;
      return Ok{};
    case Tag::version:
      p_.out.version = true;
      done_ = true;
      return Ok{};
    case Tag::tcp:
    case Tag::udp: {
      if (auto st = set_option(kService); !st) return st;
      p_.proto = spec.tag == Tag::tcp ? "tcp" : "udp";
      auto vip = parse_addr_port(*value);
      if (!vip) return make_error("illegal virtual server address[:port] specified");
      p_.vip = *vip;
      return Ok{};
    }
    case Tag::scheduler: {
      if (auto st = set_option(kScheduler); !st) return st;
      if (std::find(std::begin(kSchedulers), std::end(kSchedulers), *value) ==
          std::end(kSchedulers)) {
        return make_error("Scheduler not found: '" + *value +
                          "' (one of rr, wrr, lc, wlc, sh, mh)");
      }
      p_.scheduler = *value;
      return Ok{};
    }
    case Tag::persistent:
      if (auto st = set_option(kPersistent); !st) return st;
      if (!value) {
        p_.persistence = kDefaultPersistence;
      } else {
        p_.persistence = parse_uint(*value, kMaxTimeout);
        if (!p_.persistence || *p_.persistence == 0)
          return make_error("invalid timeout value `" + *value + "' specified");
      }
      return Ok{};
    case Tag::server: {
      if (auto st = set_option(kServer); !st) return st;
      auto rip = parse_addr_port(*value);
      if (!rip) return make_error("illegal real server address[:port] specified");
      p_.rip = *rip;
      return Ok{};
    }
    case Tag::gatewaying:
      return fwd("dr");
    case Tag::ipip:
      return fwd("tunnel");
    case Tag::masquerading:
      return fwd("nat");
    case Tag::fullnat:
      return fwd("fullnat");
    case Tag::weight:
      if (auto st = set_option(kWeight); !st) return st;
      p_.weight = parse_uint(*value, kMaxWeight);
      if (!p_.weight) return make_error("illegal weight specified");
      return Ok{};
    case Tag::u_threshold:
      return threshold(kUThreshold, p_.upper, *value, "u_threshold");
    case Tag::l_threshold:
      return threshold(kLThreshold, p_.lower, *value, "l_threshold");
    case Tag::numeric:
      return set_option(kNumeric);
    case Tag::connection:
      return set_option(kConnection);
    case Tag::timeout:
      return set_option(kTimeout);
    case Tag::stats:
      return set_option(kStats);
    case Tag::rate:
      return set_option(kRate);
    case Tag::thresholds:
      return set_option(kThresholds);
    case Tag::nosort:
      return set_option(kNoSort);
    case Tag::sort:
      return Ok{};  // the default; accepted for compatibility, as ipvsadm does
    case Tag::exact:
      return set_option(kExact);
    case Tag::laddr: {
      if (auto st = set_option(kLocalAddress); !st) return st;
      auto addr = IpAddr::parse(*value);
      if (!addr) return make_error("illegal local address");
      p_.laddr = addr->str();
      return Ok{};
    }
    case Tag::ifname:
      if (auto st = set_option(kIfname); !st) return st;
      if (value->empty()) return make_error("illegal ifname specified");
      p_.ifname = *value;
      return Ok{};
    case Tag::json:
      p_.out.json = true;
      return Ok{};
    case Tag::socket:
      if (value->empty()) return make_error("--socket needs a path");
      p_.out.socket = *value;
      return Ok{};
    case Tag::unsupported:
      return make_error("option '" + display + "' is not supported by vsgate");
  }
  return Ok{};
}

// Walks the arguments as popt does for ipvsadm: short options may be clustered ("-Ln"), a
// required value is the rest of the cluster or the next argument, -p/--persistent take the
// next argument only when it does not start with '-'; long options take "--name=value" or
// "--name value"; words are positional (--set's timeouts); "--" ends the options.
Status Parser::scan() {
  bool options_ended = false;
  for (size_t i = 0; i < args_.size() && !done_; ++i) {
    const std::string& arg = args_[i];
    auto next_value = [&](const OptionSpec& spec) -> std::optional<std::string> {
      if (i + 1 >= args_.size()) return std::nullopt;
      if (spec.arg == Arg::optional && args_[i + 1].starts_with("-")) return std::nullopt;
      return args_[++i];
    };
    if (options_ended || arg.size() < 2 || arg[0] != '-') {
      p_.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    if (arg.starts_with("--")) {
      size_t eq = arg.find('=');
      std::string name = arg.substr(0, eq);
      const OptionSpec* spec = find_long(std::string_view(name).substr(2));
      if (spec == nullptr) return make_error("unrecognised option '" + name + "'");
      std::optional<std::string> value;
      if (eq != std::string::npos) {
        if (spec->arg == Arg::none && spec->tag != Tag::unsupported)
          return make_error("option '" + name + "' does not take any arguments");
        value = arg.substr(eq + 1);
      } else if (spec->arg != Arg::none) {
        value = next_value(*spec);
        if (!value && spec->arg == Arg::required)
          return make_error("the required argument for option '" + name + "' is missing");
      }
      if (auto st = apply(*spec, name, value); !st) return st;
      continue;
    }
    for (size_t j = 1; j < arg.size() && !done_; ++j) {
      std::string display = std::string("-") + arg[j];
      const OptionSpec* spec = find_short(arg[j]);
      if (spec == nullptr) return make_error("unrecognised option '" + display + "'");
      std::optional<std::string> value;
      if (spec->arg != Arg::none) {
        if (j + 1 < arg.size()) {
          value = arg.substr(j + 1);
        } else {
          value = next_value(*spec);
          if (!value && spec->arg == Arg::required)
            return make_error("the required argument for option '" + display + "' is missing");
        }
        j = arg.size();  // the value used up the rest of the cluster
      }
      if (auto st = apply(*spec, display, value); !st) return st;
    }
  }
  return Ok{};
}

Status Parser::check() {
  if (p_.cmd == Cmd::none) {
    return make_error(
        "no command specified (one of -A -E -D -C -a -e -d -L -Z --set --add-laddr "
        "--del-laddr --get-laddr)");
  }
  size_t first_positional = 0;
  if (p_.cmd == Cmd::set) {
    if (p_.positional.size() < 3) return make_error("--set option requires 3 timeout values");
    for (size_t k = 0; k < 3; ++k) {
      auto v = parse_uint(p_.positional[k], kMaxTimeout);
      if (!v) return make_error("invalid timeout value `" + p_.positional[k] + "' specified");
      p_.timeouts[k] = *v;
    }
    first_positional = 3;
  }
  if (p_.positional.size() > first_positional)
    return make_error("unexpected argument " + p_.positional[first_positional]);

  // generic_opt_check
  const char* row = kAllowed[static_cast<size_t>(p_.cmd)];
  const char* cmd_name = kCmdNames[static_cast<size_t>(p_.cmd)];
  int first_exclusive = -1;
  for (int j = 0; j < kOptCount; ++j) {
    char rule = row[j];
    if (!p_.has(static_cast<Opt>(j))) {
      if (rule == '+') {
        return make_error(std::string("You need to supply the '") + kOptNames[j] +
                          "' option for the '" + cmd_name + "' command");
      }
      continue;
    }
    if (rule == 'x') {
      return make_error(std::string("Illegal '") + kOptNames[j] + "' option with the '" + cmd_name +
                        "' command");
    }
    if (rule == '1') {
      if (first_exclusive < 0) {
        first_exclusive = j;
        continue;
      }
      return make_error(std::string("The option '") + kOptNames[j] + "' conflicts with the '" +
                        kOptNames[first_exclusive] + "' option in the '" + cmd_name + "' command");
    }
  }

  if ((p_.cmd == Cmd::add || p_.cmd == Cmd::edit) && p_.vip.port.value_or(0) == 0 &&
      !p_.persistence) {
    return make_error("Zero port specified for non-persistent service");
  }
  if (p_.cmd == Cmd::list) {
    if ((p_.has(kConnection) || p_.has(kTimeout)) &&
        (p_.has(kStats) || p_.has(kRate) || p_.has(kThresholds))) {
      return make_error("options conflicts in the list command");
    }
    if (p_.has(kTimeout) && p_.has(kService)) {
      return make_error(
          "The option 'timeout' conflicts with the 'service-address' option in the 'list' "
          "command");
    }
  }
  return Ok{};
}

Command Parser::build() {
  Command c = std::move(p_.out);
  Json svc;
  if (p_.has(kService)) {
    svc = Json{{"proto", p_.proto}, {"vip", p_.vip.addr}, {"port", p_.vip.port.value_or(0)}};
  }
  c.service = svc;
  Json args = svc.is_null() ? Json::object() : svc;
  auto put = [&args](const char* key, const auto& opt) {
    if (opt) args[key] = *opt;
  };
  auto put_real = [&] {
    uint16_t vport = p_.vip.port.value_or(0);
    uint16_t rport = p_.rip.port.value_or(vport);
    // As ipvsadm: direct routing and tunnelling cannot change the port.
    if (p_.fwd == "dr" || p_.fwd == "tunnel") rport = vport;
    args["rip"] = p_.rip.addr;
    args["rport"] = rport;
  };
  switch (p_.cmd) {
    case Cmd::none:
      break;
    case Cmd::add:
    case Cmd::edit:
      c.cmd = p_.cmd == Cmd::add ? "lb.service.add" : "lb.service.edit";
      put("scheduler", p_.scheduler);
      put("persistence", p_.persistence);
      break;
    case Cmd::del:
      c.cmd = "lb.service.del";
      break;
    case Cmd::flush:
      c.cmd = "lb.clear";
      break;
    case Cmd::add_dest:
      c.cmd = "lb.real.add";
      put_real();
      args["fwd"] = p_.fwd.value_or("fullnat");
      args["weight"] = p_.weight.value_or(1);
      put("upper", p_.upper);
      put("lower", p_.lower);
      break;
    case Cmd::edit_dest:
      c.cmd = "lb.real.edit";
      put_real();
      put("fwd", p_.fwd);
      put("weight", p_.weight);
      put("upper", p_.upper);
      put("lower", p_.lower);
      break;
    case Cmd::del_dest:
      c.cmd = "lb.real.del";
      put_real();
      break;
    case Cmd::list:
      if (p_.has(kConnection)) {
        c.cmd = "lb.conns";
        c.view = View::connections;
      } else {
        c.cmd = "lb.list";
        c.view = p_.has(kTimeout) ? View::timeouts : View::services;
      }
      if (p_.has(kStats)) {
        c.list.columns = ListFormat::Columns::stats;
      } else if (p_.has(kRate)) {
        c.list.columns = ListFormat::Columns::rate;
      } else if (p_.has(kThresholds)) {
        c.list.columns = ListFormat::Columns::thresholds;
      }
      c.list.exact = p_.has(kExact);
      c.list.sort = !p_.has(kNoSort);
      c.list.banner = !p_.has(kService);
      break;
    case Cmd::set:
      c.cmd = "lb.timeouts.set";
      args["tcp"] = p_.timeouts[0];
      args["tcpfin"] = p_.timeouts[1];
      args["udp"] = p_.timeouts[2];
      break;
    case Cmd::zero:
      c.cmd = "lb.zero";
      break;
    case Cmd::add_laddr:
    case Cmd::del_laddr:
      c.cmd = p_.cmd == Cmd::add_laddr ? "lb.laddr.add" : "lb.laddr.del";
      args["laddr"] = p_.laddr;
      args["port_name"] = p_.ifname;
      break;
    case Cmd::get_laddr:
      // One service: lb.laddr.get; all of them: their laddrs from lb.list, as DPVS does.
      c.cmd = p_.has(kService) ? "lb.laddr.get" : "lb.list";
      c.view = View::laddrs;
      break;
  }
  c.args = std::move(args);
  return c;
}

Result<Command> Parser::run() {
  if (auto st = scan(); !st) return st.error();
  if (done_) return std::move(p_.out);
  if (auto st = check(); !st) return st.error();
  return build();
}

// ---- output ----

std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string strf(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return {};
  if (static_cast<size_t>(n) < sizeof buf) return std::string(buf, static_cast<size_t>(n));
  std::string out(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(out.data(), out.size(), fmt, ap);
  va_end(ap);
  out.resize(static_cast<size_t>(n));
  return out;
}

const Json& field(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

const Json& list(const Json& obj, const char* key) {
  static const Json kEmpty = Json::array();
  const Json& v = field(obj, key);
  return v.is_array() ? v : kEmpty;
}

unsigned long long num(const Json& obj, const char* key) {
  const Json& v = field(obj, key);
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return v.get<int64_t>() < 0 ? 0 : v.get<uint64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    return d > 0 && d < 1.8e19 ? static_cast<unsigned long long>(d) : 0;
  }
  return 0;
}

std::string str(const Json& obj, const char* key) {
  const Json& v = field(obj, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return std::to_string(num(obj, key));
  return {};
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string fwd_name(const std::string& fwd) {
  if (fwd == "fullnat") return "FullNat";
  if (fwd == "nat") return "Masq";
  if (fwd == "dr") return "Route";
  if (fwd == "tunnel") return "Tunnel";
  return fwd;
}

// IPv4 before IPv6, each numerically (as IpAddr orders them); what does not parse as 0.0.0.0.
IpAddr addr_key(const std::string& text) { return IpAddr::parse(text).value_or(IpAddr{}); }

// "ADDR:PORT", with IPv6 addresses in brackets as ipvsadm prints them.
std::string addr_port(const std::string& addr, const std::string& port) {
  return (addr.find(':') != std::string::npos ? "[" + addr + "]" : addr) + ":" + port;
}

// ipvsadm's sort orders: services by protocol (TCP 6 before UDP 17), address, port; real
// servers by address, port.
std::vector<const Json*> sorted(const Json& items, bool sort, bool services) {
  std::vector<const Json*> out;
  for (const Json& item : items) out.push_back(&item);
  if (!sort) return out;
  auto key = [services](const Json* j) {
    int proto = 0;
    if (services) proto = str(*j, "proto") == "udp" ? 17 : 6;
    const char* addr = services ? "vip" : "rip";
    const char* port = services ? "port" : "rport";
    return std::make_tuple(proto, addr_key(str(*j, addr)), num(*j, port));
  };
  std::stable_sort(out.begin(), out.end(),
                   [&key](const Json* a, const Json* b) { return key(a) < key(b); });
  return out;
}

std::string service_name(const Json& svc) {
  std::string name = upper(str(svc, "proto")) + "  " + addr_port(str(svc, "vip"), str(svc, "port"));
  if (name.size() > 33) name.resize(33);  // ipvsadm cuts IPv4 names there
  return name;
}

std::string real_name(const Json& real) {
  std::string name = addr_port(str(real, "rip"), str(real, "rport"));
  if (name.size() > 28) name.resize(28);
  return name;
}

std::string largenums(const Json& counters, std::initializer_list<const char*> keys, bool exact) {
  std::string out;
  for (const char* k : keys) out += format_largenum(num(counters, k), exact);
  return out;
}

}  // namespace

Result<Command> parse(const std::vector<std::string>& args) {
  try {
    return Parser(args).run();
  } catch (const std::exception& e) {
    return make_error(e.what());
  }
}

std::string format_largenum(uint64_t value, bool exact) {
  auto v = static_cast<unsigned long long>(value);
  if (exact) {
    size_t len = std::to_string(v).size();
    return strf("%*llu", static_cast<int>(len <= 8 ? 9 : len + 1), v);
  }
  if (v < 100000000ULL) return strf("%9llu", v);
  if (v < 1000000000ULL) return strf("%8lluK", v / 1000);
  if (v < 100000000000ULL) return strf("%8lluM", v / 1000000);
  if (v < 100000000000000ULL) return strf("%8lluG", v / 1000000000ULL);
  return strf("%8lluT", v / 1000000000000ULL);
}

std::string format_services(const Json& list_result, const ListFormat& f) {
  using Columns = ListFormat::Columns;
  std::string out = f.banner ? kBanner : "";
  switch (f.columns) {
    case Columns::stats:
      out += strf("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
                  "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes");
      break;
    case Columns::rate:
      out += strf("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
                  "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS");
      break;
    case Columns::thresholds:
      out += strf("%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
                  "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn");
      break;
    case Columns::standard:
      out +=
          "Prot LocalAddress:Port Scheduler Flags\n"
          "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
      break;
  }
  for (const Json* svc : sorted(list(list_result, "services"), f.sort, true)) {
    std::string name = service_name(*svc);
    const Json& stats = field(*svc, "stats");
    const Json& rates = field(*svc, "rates");
    if (f.columns == Columns::stats) {
      out += strf("%-33s", name.c_str()) +
             largenums(stats, {"conns", "inpkts", "outpkts", "inbytes", "outbytes"}, f.exact);
    } else if (f.columns == Columns::rate) {
      out += strf("%-33s", name.c_str()) +
             largenums(rates, {"cps", "inpps", "outpps", "inbps", "outbps"}, f.exact);
    } else {
      out += name + " " + str(*svc, "scheduler");
      if (unsigned long long p = num(*svc, "persistence"); p > 0)
        out += strf(" persistent %llu", p);
    }
    out += '\n';
    for (const Json* real : sorted(list(*svc, "reals"), f.sort, false)) {
      std::string rname = real_name(*real);
      const Json& rstats = field(*real, "stats");
      const Json& rrates = field(*real, "rates");
      switch (f.columns) {
        case Columns::stats:
          out += strf("  -> %-28s", rname.c_str()) +
                 largenums(rstats, {"conns", "inpkts", "outpkts", "inbytes", "outbytes"}, f.exact) +
                 "\n";
          break;
        case Columns::rate:
          out += strf("  -> %-28s %8llu %8llu %8llu", rname.c_str(), num(rrates, "cps"),
                      num(rrates, "inpps"), num(rrates, "outpps")) +
                 largenums(rrates, {"inbps", "outbps"}, f.exact) + "\n";
          break;
        case Columns::thresholds:
          out += strf("  -> %-28s %-10llu %-10llu %-10llu %-10llu\n", rname.c_str(),
                      num(*real, "upper"), num(*real, "lower"), num(*real, "active"),
                      num(*real, "inactive"));
          break;
        case Columns::standard:
          out += strf("  -> %-28s %-7s %-6llu %-10llu %-10llu\n", rname.c_str(),
                      fwd_name(str(*real, "fwd")).c_str(), num(*real, "weight"),
                      num(*real, "active"), num(*real, "inactive"));
          break;
      }
    }
  }
  return out;
}

std::string format_connections(const Json& conns_result) {
  std::string out = "IPVS connection entries\n";
  out += strf("pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination");
  for (const Json& conn : list(conns_result, "connections")) {
    unsigned long long expires = num(conn, "expires");
    std::string expire = strf("%02llu:%02llu", expires / 60, expires % 60);
    out += strf("%-3s %-6s %-11s %-18s %-18s %s\n", upper(str(conn, "proto")).c_str(),
                expire.c_str(), str(conn, "state").c_str(), str(conn, "client").c_str(),
                str(conn, "vip").c_str(), str(conn, "real").c_str());
  }
  return out;
}

std::string format_timeouts(const Json& list_result) {
  const Json& t = field(list_result, "timeouts");
  return strf("Timeout (tcp tcpfin udp): %llu %llu %llu\n", num(t, "tcp"), num(t, "tcpfin"),
              num(t, "udp"));
}

std::string format_laddrs(const Json& services, bool sort) {
  // DPVS ipvsadm's list_laddrs layout; vsgate counts no port conflicts, so CONFLICTS is 0
  // unless the daemon sends "conflicts".
  std::string out =
      strf("%-20s %-8s %-20s %-10s %-10s\n", "VIP:VPORT", "TOTAL", "SNAT_IP", "CONFLICTS", "CONNS");
  static const Json kEmpty = Json::array();
  for (const Json* svc : sorted(services.is_array() ? services : kEmpty, sort, true)) {
    const Json& laddrs = list(*svc, "laddrs");
    std::string vname = addr_port(str(*svc, "vip"), str(*svc, "port"));
    out += strf("%-20s %-8zu \n", vname.c_str(), laddrs.size());
    for (const Json& l : laddrs) {
      out += strf("%-20s %-8s %-20s %-10llu %-10llu\n", "", "", str(l, "laddr").c_str(),
                  num(l, "conflicts"), num(l, "conns"));
    }
  }
  return out;
}

std::string format(const Command& command, const Json& result) {
  try {
    switch (command.view) {
      case View::none:
        return {};
      case View::services:
        return format_services(result, command.list);
      case View::connections:
        return format_connections(result);
      case View::timeouts:
        return format_timeouts(result);
      case View::laddrs:
        if (command.cmd == "lb.laddr.get") {
          Json svc = command.service;
          svc["laddrs"] = field(result, "laddrs");
          return format_laddrs(Json::array({svc}));
        }
        return format_laddrs(field(result, "services"));
    }
  } catch (...) {
    // Only allocation failures.
  }
  return {};
}

std::string usage() {
  return "ipvsadm syntax (the first argument that is an option selects it):\n"
         "  vsgatectl -A|-E -t|-u VIP:PORT [-s SCHEDULER] [-p [SECONDS]]\n"
         "  vsgatectl -D -t|-u VIP:PORT\n"
         "  vsgatectl -C\n"
         "  vsgatectl -a|-e -t|-u VIP:PORT -r RIP[:PORT] [-b|-m|-g|-i] [-w WEIGHT] [-x UPPER]"
         " [-y LOWER]\n"
         "  vsgatectl -d -t|-u VIP:PORT -r RIP[:PORT]\n"
         "  vsgatectl -L|-l [-n] [--stats|--rate|--thresholds|-c|--timeout] [--exact] [--nosort]\n"
         "               [-t|-u VIP:PORT]\n"
         "  vsgatectl -Z [-t|-u VIP:PORT]\n"
         "  vsgatectl --set TCP TCPFIN UDP\n"
         "  vsgatectl --add-laddr|--del-laddr -z LADDR -t|-u VIP:PORT -F PORT\n"
         "  vsgatectl --get-laddr|-G [-t|-u VIP:PORT]\n"
         "Schedulers: wlc (default), rr, wrr, lc, sh, mh. Forwarding: -b FULLNAT (default),\n"
         "-m masquerading (NAT), -g direct routing, -i IPIP tunnel. -p alone is 300 seconds.\n"
         "Addresses and ports are numeric IPv4 (no name lookups; -n is implied).\n";
}

}  // namespace vsgate::vsgatectl::ipvsadm
