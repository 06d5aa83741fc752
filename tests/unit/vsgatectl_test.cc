// vsgatectl: command-line parsing, table formatting, and the program end to end (in-process via
// run() and as the built binary).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ctrl/control_server.h"
#include "lb/model.h"
#include "lb/model_json.h"
#include "vsgatectl/cli.h"
#include "vsgatectl/format.h"

extern char** environ;

namespace vsgate::vsgatectl {
namespace {

using Args = std::vector<std::string>;

Invocation parse_ok(const Args& args, const char* env = nullptr) {
  auto inv = parse_command_line(args, env);
  EXPECT_TRUE(inv.ok()) << (inv.ok() ? "" : inv.message());
  return inv.ok() ? *inv : Invocation{};
}

std::string parse_error(const Args& args) {
  auto inv = parse_command_line(args, nullptr);
  EXPECT_FALSE(inv.ok());
  return inv.ok() ? "" : inv.message();
}

// ---- parsing ----

TEST(VsgatectlParse, EachCommand) {
  struct Case {
    Args args;
    const char* cmd;
    Json args_json;
  };
  for (const Case& c : {
           Case{{"port", "show"}, "port.show", Json::object()},
           Case{{"port", "stats"}, "port.stats", Json::object()},
           Case{{"port", "stats", "dpdk1"}, "port.stats", Json{{"name", "dpdk1"}}},
           Case{{"lcore", "stats"}, "lcore.stats", Json::object()},
           Case{{"neigh", "show"}, "neigh.show", Json::object()},
           Case{{"route", "show"}, "route.show", Json::object()},
           Case{{"addr", "show"}, "addr.show", Json::object()},
           Case{{"version"}, "version", Json::object()},
       }) {
    Invocation inv = parse_ok(c.args);
    EXPECT_EQ(inv.mode, Mode::command);
    EXPECT_EQ(inv.command, c.cmd);
    EXPECT_EQ(inv.args, c.args_json) << c.cmd;
    EXPECT_EQ(inv.global.socket, "/run/vsgate/control.sock");
    EXPECT_FALSE(inv.global.json);
    EXPECT_EQ(inv.global.timeout_ms, 5000);
  }
}

TEST(VsgatectlParse, GlobalOptionsBeforeAndAfterTheCommand) {
  Invocation inv =
      parse_ok({"--json", "--socket", "/tmp/x.sock", "--timeout", "250", "port", "show"});
  EXPECT_TRUE(inv.global.json);
  EXPECT_EQ(inv.global.socket, "/tmp/x.sock");
  EXPECT_EQ(inv.global.timeout_ms, 250);
  EXPECT_EQ(inv.command, "port.show");

  inv = parse_ok({"port", "stats", "dpdk0", "--json", "--socket=/tmp/y.sock", "--timeout=9"});
  EXPECT_TRUE(inv.global.json);
  EXPECT_EQ(inv.global.socket, "/tmp/y.sock");
  EXPECT_EQ(inv.global.timeout_ms, 9);
  EXPECT_EQ(inv.args, (Json{{"name", "dpdk0"}}));
}

TEST(VsgatectlParse, SocketFromEnvironmentUnlessGiven) {
  EXPECT_EQ(parse_ok({"port", "show"}, "/env.sock").global.socket, "/env.sock");
  EXPECT_EQ(parse_ok({"--socket", "/opt.sock", "port", "show"}, "/env.sock").global.socket,
            "/opt.sock");
  EXPECT_EQ(parse_ok({"port", "show"}, "").global.socket, "/run/vsgate/control.sock");
}

TEST(VsgatectlParse, HelpAndVersion) {
  EXPECT_EQ(parse_ok({"--help"}).mode, Mode::help);
  EXPECT_EQ(parse_ok({"-h"}).mode, Mode::help);
  EXPECT_EQ(parse_ok({"help"}).mode, Mode::help);
  EXPECT_EQ(parse_ok({"port", "show", "--help"}).mode, Mode::help);
  EXPECT_EQ(parse_ok({"--version"}).mode, Mode::version);
}

TEST(VsgatectlParse, BadUsage) {
  EXPECT_EQ(parse_error({"--json"}), "missing command");
  EXPECT_EQ(parse_error({"frobnicate"}), "unknown command 'frobnicate'");
  EXPECT_EQ(parse_error({"port"}), "'port' needs a subcommand: show, stats");
  EXPECT_EQ(parse_error({"port", "delete"}),
            "unknown command 'port delete' (expected: show, stats)");
  EXPECT_EQ(parse_error({"port", "show", "dpdk0"}), "too many arguments for 'port show'");
  EXPECT_EQ(parse_error({"port", "stats", "a", "b"}), "too many arguments for 'port stats'");
  EXPECT_EQ(parse_error({"version", "x"}), "too many arguments for 'version'");
  EXPECT_EQ(parse_error({"port", "show", "--bogus"}), "unrecognised option '--bogus'");
  EXPECT_EQ(parse_error({"--timeout", "abc", "port", "show"}),
            "the argument ('abc') for option '--timeout' is invalid");
  EXPECT_EQ(parse_error({"--timeout", "0", "port", "show"}),
            "--timeout must be a positive number of milliseconds");
  EXPECT_EQ(parse_error({"port", "show", "--socket"}),
            "the required argument for option '--socket' is missing");
  EXPECT_EQ(parse_error({"--socket", "", "port", "show"}), "--socket needs a path");
  EXPECT_EQ(parse_error({"--json=yes", "port", "show"}),
            "option '--json' does not take any arguments");
  // No abbreviations: they would collide with ipvsadm's long options later.
  EXPECT_EQ(parse_error({"port", "show", "--js"}), "unrecognised option '--js'");
}

TEST(VsgatectlParse, IpvsadmStyleIsRecognised) {
  Invocation inv = parse_ok({"-A", "-t", "10.0.0.1:80", "-s", "rr"});
  EXPECT_EQ(inv.mode, Mode::ipvsadm);
  EXPECT_EQ(inv.ipvsadm_args, (Args{"-A", "-t", "10.0.0.1:80", "-s", "rr"}));

  inv = parse_ok({"--socket", "/s.sock", "--json", "-L", "-n", "--stats"});
  EXPECT_EQ(inv.mode, Mode::ipvsadm);
  EXPECT_EQ(inv.global.socket, "/s.sock");
  EXPECT_TRUE(inv.global.json);
  EXPECT_EQ(inv.ipvsadm_args, (Args{"-L", "-n", "--stats"}));

  // A long option that is not a global one selects ipvsadm mode too (--add-laddr, --stats...).
  inv = parse_ok({"--add-laddr", "-z", "10.0.0.9", "-t", "10.0.0.1:80", "-F", "dpdk0"});
  EXPECT_EQ(inv.mode, Mode::ipvsadm);
  EXPECT_EQ(inv.command, "lb.laddr.add");
  EXPECT_EQ(inv.args, (Json{{"proto", "tcp"},
                            {"vip", "10.0.0.1"},
                            {"port", 80},
                            {"laddr", "10.0.0.9"},
                            {"port_name", "dpdk0"}}));
  // ipvsadm errors are usage errors of parse_command_line.
  EXPECT_EQ(parse_error({"--json", "-L", "-s", "rr"}),
            "Illegal 'scheduler' option with the 'list' command");
  EXPECT_EQ(parse_error({"--bogus"}), "unrecognised option '--bogus'");
  // A global option's value is not mistaken for the first argument.
  inv = parse_ok({"--socket", "-weird.sock", "port", "show"});
  EXPECT_EQ(inv.mode, Mode::command);
  EXPECT_EQ(inv.global.socket, "-weird.sock");
}

// ---- formatting ----

const Json kPortShow = Json::parse(R"({"ports": [
  {"id": 0, "name": "dpdk0", "device": "net_af_xdp0,iface=veth0", "driver": "net_af_xdp",
   "mac": "02:00:00:00:00:01", "mtu": 1500, "link_up": true, "speed_mbps": 10000,
   "duplex": "full", "rx_queues": 1, "tx_queues": 1,
   "kni": "dpdk0.kni", "kni_backend": "tap", "kni_ifindex": 7},
  {"id": 1, "name": "uplink", "device": "0000:03:00.0", "driver": "net_ixgbe",
   "mac": "aa:bb:cc:dd:ee:ff", "mtu": 9000, "link_up": false, "speed_mbps": 0,
   "duplex": "half", "rx_queues": 16, "tx_queues": 16,
   "kni": "", "kni_backend": "", "kni_ifindex": 0}]})");

TEST(VsgatectlFormat, PortShow) {
  EXPECT_EQ(format_port_show(kPortShow),
            "ID  NAME    DRIVER      MAC                 MTU  LINK  SPEED  RXQ  TXQ  KNI\n"
            " 0  dpdk0   net_af_xdp  02:00:00:00:00:01  1500  up      10G    1    1  dpdk0.kni\n"
            " 1  uplink  net_ixgbe   aa:bb:cc:dd:ee:ff  9000  down      -   16   16  -\n");
}

TEST(VsgatectlFormat, EmptyAndMalformedResultsStillPrintHeaders) {
  EXPECT_EQ(format_port_show(Json::object()),
            "ID  NAME  DRIVER  MAC  MTU  LINK  SPEED  RXQ  TXQ  KNI\n");
  EXPECT_EQ(format_neigh_show(Json{{"neighbours", "oops"}}), "IP  MAC  PORT  KNI\n");
  // Unknown or mistyped fields print as "-", extra ones are ignored.
  EXPECT_EQ(format_addr_show(Json::parse(R"({"addresses": [{"address": 5, "extra": 1}, 7]})")),
            "ADDRESS  PORT  KNI\n"
            "5        -     -\n"
            "-        -     -\n");
}

TEST(VsgatectlFormat, PortStats) {
  Json result = Json::parse(R"({"ports": [
    {"id": 0, "name": "dpdk0", "ipackets": 10, "opackets": 9, "ibytes": 980, "obytes": 882,
     "imissed": 0, "ierrors": 0, "oerrors": 0, "rx_nombuf": 0, "nic_drop_ratio": 0.0,
     "xstats": {"rx_good_packets": 10, "tx_good_packets": 9, "rx_q0_errors": 0}},
    {"id": 1, "name": "dpdk1", "ipackets": 18446744073709551615, "opackets": 0, "ibytes": 0,
     "obytes": 0, "imissed": 250, "ierrors": 1, "oerrors": 2, "rx_nombuf": 3,
     "nic_drop_ratio": 0.0123, "xstats": {}}]})");
  EXPECT_EQ(format_port_stats(result),
            "dpdk0 (port 0)\n"
            "  ipackets           10\n"
            "  opackets            9\n"
            "  ibytes            980\n"
            "  obytes            882\n"
            "  imissed             0\n"
            "  ierrors             0\n"
            "  oerrors             0\n"
            "  rx_nombuf           0\n"
            "  nic_drop_ratio  0.00%\n"
            "  xstats:\n"
            "    rx_good_packets  10\n"
            "    rx_q0_errors      0\n"
            "    tx_good_packets   9\n"
            "\n"
            "dpdk1 (port 1)\n"
            "  ipackets        18446744073709551615\n"
            "  opackets                           0\n"
            "  ibytes                             0\n"
            "  obytes                             0\n"
            "  imissed                          250\n"
            "  ierrors                            1\n"
            "  oerrors                            2\n"
            "  rx_nombuf                          3\n"
            "  nic_drop_ratio                 1.23%\n");
}

TEST(VsgatectlFormat, LcoreStats) {
  Json result = Json::parse(R"({"lcores": [
    {"lcore": 1, "worker": 0, "rx_iterations": 123456, "rx_packets": 10, "rx_bursts": 8,
     "avg_rx_burst": 1.25,
     "rx_queues": [{"port": "dpdk0", "queue": 0, "packets": 10},
                   {"port": "dpdk1", "queue": 0, "packets": 0}],
     "tx_packets": 9, "tx_drops": 0, "punted": 4, "punt_drops": 0, "injected": 5,
     "inject_drops": 0, "forwarded": 2,
     "dropped": {"runt": 0, "bad_ipv4": 3, "no_route": 1}, "dropped_total": 4},
    {"lcore": 12, "worker": 1, "rx_iterations": 99, "rx_packets": 0, "rx_bursts": 0,
     "avg_rx_burst": 0, "rx_queues": [{"port": "dpdk0", "queue": 1, "packets": 0}],
     "tx_packets": 0, "tx_drops": 0, "punted": 0, "punt_drops": 0, "injected": 0,
     "inject_drops": 0, "forwarded": 0, "dropped": {"runt": 0}, "dropped_total": 0}],
    "total": {"rx_iterations": 123555, "rx_packets": 10, "rx_bursts": 8, "avg_rx_burst": 1.25,
     "tx_packets": 9, "tx_drops": 0, "punted": 4, "punt_drops": 0, "injected": 5,
     "inject_drops": 0, "forwarded": 2, "dropped": {"runt": 0, "bad_ipv4": 3, "no_route": 1},
     "dropped_total": 4},
    "exception_path": {"to_host": 4, "to_host_drops": 0, "from_host": 5, "from_host_drops": 1}})");
  EXPECT_EQ(format_lcore_stats(result),
            "LCORE  WORKER  RX-ITER  RX-PKTS  AVG-BURST  TX-PKTS  TX-DROP  PUNT  PUNT-DROP  INJECT"
            "  INJECT-DROP  FWD  DROP\n"
            "    1       0   123456       10       1.25        9        0     4          0       5"
            "            0    2     4\n"
            "   12       1       99        0       0.00        0        0     0          0       0"
            "            0    0     0\n"
            "total           123555       10       1.25        9        0     4          0       5"
            "            0    2     4\n"
            "\n"
            "rx queues:\n"
            "LCORE  PORT   QUEUE  PACKETS\n"
            "    1  dpdk0      0       10\n"
            "    1  dpdk1      0        0\n"
            "   12  dpdk0      1        0\n"
            "\n"
            "drops by reason:\n"
            "LCORE  REASON    PACKETS\n"
            "    1  bad_ipv4        3\n"
            "    1  no_route        1\n"
            "\n"
            "exception path: to host 4 (drops 0), from host 5 (drops 1)\n");

  result["lcores"][0]["dropped"] = {{"runt", 0}};
  result.erase("total");  // older daemons: no total row
  EXPECT_NE(format_lcore_stats(result).find("\ndrops by reason: none\n"), std::string::npos);
}

TEST(VsgatectlFormat, NeighRouteAddr) {
  EXPECT_EQ(format_neigh_show(Json::parse(R"({"neighbours": [
    {"ip": "10.0.0.2", "mac": "aa:bb:cc:dd:ee:ff", "port": "dpdk0", "kni": "dpdk0.kni"},
    {"ip": "192.168.100.254", "mac": "02:00:00:00:00:09", "port": "dpdk1", "kni": "dpdk1.kni"}
  ]})")),
            "IP               MAC                PORT   KNI\n"
            "10.0.0.2         aa:bb:cc:dd:ee:ff  dpdk0  dpdk0.kni\n"
            "192.168.100.254  02:00:00:00:00:09  dpdk1  dpdk1.kni\n");
  EXPECT_EQ(format_route_show(Json::parse(R"({"routes": [
    {"prefix": "10.0.1.0/24", "gateway": "", "port": "dpdk1", "kni": "dpdk1.kni"},
    {"prefix": "0.0.0.0/0", "gateway": "10.0.0.254", "port": "dpdk0", "kni": "dpdk0.kni"}
  ]})")),
            "PREFIX       GATEWAY     PORT   KNI\n"
            "10.0.1.0/24  -           dpdk1  dpdk1.kni\n"
            "0.0.0.0/0    10.0.0.254  dpdk0  dpdk0.kni\n");
  EXPECT_EQ(format_addr_show(Json::parse(R"({"addresses": [
    {"address": "10.0.0.1/24", "port": "dpdk0", "kni": "dpdk0.kni"}]})")),
            "ADDRESS      PORT   KNI\n"
            "10.0.0.1/24  dpdk0  dpdk0.kni\n");
}

// route show / neigh show end with the state of the data plane's table, from daemons that send it.
TEST(VsgatectlFormat, RouteAndNeighShowSayWhetherTheDataPlaneTableIsStale) {
  Json result = Json::parse(R"({"routes": [
    {"prefix": "10.0.1.0/24", "gateway": "", "port": "dpdk1", "kni": "dpdk1.kni"}],
    "fib": {"state": "ok", "installed": 1, "wanted": 1, "stale_since_us": 0, "failed_builds": 0,
            "reason": "", "retry_in_ms": 0}})");
  EXPECT_EQ(format_route_show(result),
            "PREFIX       GATEWAY  PORT   KNI\n"
            "10.0.1.0/24  -        dpdk1  dpdk1.kni\n"
            "\n"
            "routes in the data plane: 1 (in step with the host)\n");
  result["fib"] = Json::parse(R"J({"state": "stale", "installed": 4096, "wanted": 5000,
    "stale_since_us": 1700000000000000, "failed_builds": 3,
    "reason": "too many routes: 5000 (max 4096)", "retry_in_ms": 8000})J");
  EXPECT_EQ(format_route_show(result),
            "PREFIX       GATEWAY  PORT   KNI\n"
            "10.0.1.0/24  -        dpdk1  dpdk1.kni\n"
            "\n"
            "routes in the data plane: 4096 of 5000, STALE since 2023-11-14 22:13:20 UTC (the "
            "last good table is kept): too many routes: 5000 (max 4096)\n"
            "  3 failed builds, next retry in 8000 ms\n");
  Json neigh = Json{{"neighbours", Json::array()}, {"fib", {{"state", "ok"}, {"installed", 0}}}};
  EXPECT_EQ(format_neigh_show(neigh),
            "IP  MAC  PORT  KNI\n\nneighbours in the data plane: 0 (in step with the host)\n");
}

TEST(VsgatectlFormat, VersionJsonAndDispatch) {
  Json version = {{"version", "0.1.0"}, {"dpdk", "DPDK 22.11.11"}};
  EXPECT_EQ(format_version(version), "vsgated 0.1.0 (DPDK 22.11.11)\n");
  EXPECT_EQ(format_result("version", version), "vsgated 0.1.0 (DPDK 22.11.11)\n");
  EXPECT_EQ(format_json(version),
            "{\n  \"dpdk\": \"DPDK 22.11.11\",\n  \"version\": \"0.1.0\"\n}\n");
  EXPECT_EQ(format_result("future.cmd", Json{{"a", 1}}), "{\n  \"a\": 1\n}\n");
}

TEST(VsgatectlFormat, Helpers) {
  EXPECT_EQ(format_speed(Json(10000)), "10G");
  EXPECT_EQ(format_speed(Json(2500)), "2.5G");
  EXPECT_EQ(format_speed(Json(100)), "100M");
  EXPECT_EQ(format_speed(Json(0)), "-");
  EXPECT_EQ(format_speed(Json(4294967295u)), "-");
  EXPECT_EQ(format_speed(Json("fast")), "-");
  EXPECT_EQ(format_percent(0.0), "0.00%");
  EXPECT_EQ(format_percent(0.5), "50.00%");
  EXPECT_EQ(format_percent(1.0), "100.00%");
  EXPECT_EQ(format_percent(1e-7), "<0.01%");
}

TEST(VsgatectlFormat, TableAlignment) {
  Table t({{"NAME"}, {"COUNT", Table::Align::right}, {"NOTE"}});
  t.add_row({"a", "1", ""});
  t.add_row({"longer", "12345678", "x"});
  t.add_row({"short"});
  EXPECT_EQ(t.render(),
            "NAME       COUNT  NOTE\n"
            "a              1\n"
            "longer  12345678  x\n"
            "short\n");
  EXPECT_EQ(t.render(false, "> "),
            "> a              1\n"
            "> longer  12345678  x\n"
            "> short\n");
}

// ---- the program ----

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};

RunResult run_in_process(const Args& args, const char* env = nullptr) {
  std::ostringstream out, err;
  RunResult r;
  r.status = run(args, env, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vsgatectl-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs the built vsgatectl binary with `args` and VSGATE_SOCKET=env_socket (unset when null).
RunResult run_binary(const Args& args, const char* env_socket = nullptr) {
  TempDir dir;
  std::string out_path = dir.path() + "/out", err_path = dir.path() + "/err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::vector<std::string> argv_storage = {VSGATECTL_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("VSGATE_SOCKET=")) env_storage.push_back(*e);
  }
  if (env_socket != nullptr) env_storage.push_back(std::string("VSGATE_SOCKET=") + env_socket);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  RunResult r;
  pid_t pid;
  int rc = posix_spawn(&pid, VSGATECTL_BINARY, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << VSGATECTL_BINARY;
  if (rc != 0) return r;
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

TEST(VsgatectlRun, DaemonNotRunning) {
  TempDir dir;
  std::string path = dir.path() + "/control.sock";
  std::string expected = "vsgatectl: cannot connect to " + path +
                         ": No such file or directory (is vsgated running?)\n";
  RunResult r = run_in_process({"--socket", path, "port", "show"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, expected);
  EXPECT_EQ(r.out, "");

  r = run_binary({"port", "show"}, path.c_str());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, expected);
  EXPECT_EQ(r.out, "");
}

TEST(VsgatectlRun, DefaultSocketPathInTheMessage) {
  if (std::filesystem::exists("/run/vsgate/control.sock")) GTEST_SKIP() << "a vsgated is running";
  RunResult r = run_binary({"version"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "vsgatectl: cannot connect to /run/vsgate/control.sock: No such file or directory "
            "(is vsgated running?)\n");
}

TEST(VsgatectlRun, UsageErrorsExitTwoWithHint) {
  RunResult r = run_in_process({"frobnicate"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "vsgatectl: unknown command 'frobnicate'\n"
            "Try 'vsgatectl --help' for more information.\n");
  r = run_binary({});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vsgatectl: missing command\nTry 'vsgatectl --help' for more information.\n");
  r = run_binary({"-A", "-t", "10.0.0.1:80", "-s", "rr", "-r", "10.0.1.2"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "vsgatectl: Illegal 'real-server' option with the 'add-service' command\n"
            "Try 'vsgatectl --help' for more information.\n");
  EXPECT_EQ(r.out, "");
  r = run_binary({"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w", "x"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "vsgatectl: illegal weight specified\n"
            "Try 'vsgatectl --help' for more information.\n");
}

TEST(VsgatectlRun, HelpAndVersion) {
  RunResult r = run_binary({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(r.out.starts_with("Usage: vsgatectl [OPTIONS] COMMAND...\n")) << r.out;
  for (const char* s :
       {"port show", "port stats [NAME]", "lcore stats", "neigh show", "route show", "addr show",
        "version", "--socket PATH", "--json", "--timeout MS", "VSGATE_SOCKET",
        "vsgatectl [OPTIONS] IPVSADM-OPTIONS...", "vsgatectl -A|-E -t|-u VIP:PORT",
        "vsgatectl -a|-e -t|-u VIP:PORT -r RIP[:PORT] [-b|-m|-g|-i]", "--get-laddr|-G",
        "-b FULLNAT (default)", "-p alone is 300 seconds", "no name lookups"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  r = run_binary({"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, std::string("vsgatectl ") + VSGATE_VERSION + "\n");
}

// Against a real ControlServer with canned handlers.
class VsgatectlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ControlServerOptions options;
    options.path = dir_.path() + "/control.sock";
    auto server = ControlServer::listen(options);
    ASSERT_TRUE(server.ok()) << server.message();
    server_ = std::move(server.value());
    server_->commands().add("version", [](const Json&) -> Result<Json> {
      return Json{{"version", "0.1.0"}, {"dpdk", "DPDK 22.11.11"}};
    });
    server_->commands().add("port.show", [](const Json&) -> Result<Json> { return kPortShow; });
    server_->commands().add("port.stats", [](const Json& args) -> Result<Json> {
      auto name = required_string_arg(args, "name");
      if (!name) return name.error();
      return make_error("no such port: " + *name);
    });
    add_lb_handlers();
    thread_ = std::thread([this] {
      while (!stop_.load()) server_->poll(5);
    });
  }
  // A tiny stateful load balancer, enough for -A, -a and -L: it records every request.
  void add_lb_handlers() {
    auto stats = Json{{"conns", 0}, {"inpkts", 0}, {"outpkts", 0}, {"inbytes", 0}, {"outbytes", 0}};
    auto rates = Json{{"cps", 0}, {"inpps", 0}, {"outpps", 0}, {"inbps", 0}, {"outbps", 0}};
    auto find = [this](const Json& args) -> Json* {
      for (Json& svc : lb_services_) {
        if (svc["proto"] == args["proto"] && svc["vip"] == args["vip"] &&
            svc["port"] == args["port"])
          return &svc;
      }
      return nullptr;
    };
    server_->commands().add("lb.service.add", [=, this](const Json& args) -> Result<Json> {
      std::lock_guard lock(lb_mu_);
      lb_requests_.push_back({{"cmd", "lb.service.add"}, {"args", args}});
      if (find(args) != nullptr) return make_error("lb.service.add: Service already exists");
      lb_services_.push_back({{"proto", args["proto"]},
                              {"vip", args["vip"]},
                              {"port", args["port"]},
                              {"scheduler", args.value("scheduler", "rr")},
                              {"persistence", args.value("persistence", 0)},
                              {"stats", stats},
                              {"rates", rates},
                              {"laddrs", Json::array()},
                              {"reals", Json::array()}});
      return Json::object();
    });
    server_->commands().add("lb.real.add", [=, this](const Json& args) -> Result<Json> {
      std::lock_guard lock(lb_mu_);
      lb_requests_.push_back({{"cmd", "lb.real.add"}, {"args", args}});
      Json* svc = find(args);
      if (svc == nullptr) return make_error("lb.real.add: No such service");
      (*svc)["reals"].push_back({{"rip", args["rip"]},
                                 {"rport", args["rport"]},
                                 {"fwd", args["fwd"]},
                                 {"weight", args["weight"]},
                                 {"upper", 0},
                                 {"lower", 0},
                                 {"active", 0},
                                 {"inactive", 0},
                                 {"stats", stats},
                                 {"rates", rates}});
      return Json::object();
    });
    server_->commands().add("lb.list", [this](const Json& args) -> Result<Json> {
      std::lock_guard lock(lb_mu_);
      lb_requests_.push_back({{"cmd", "lb.list"}, {"args", args}});
      return Json{{"services", lb_services_},
                  {"timeouts", {{"tcp", 900}, {"tcpfin", 120}, {"udp", 300}}}};
    });
  }
  std::vector<Json> lb_requests() {
    std::lock_guard lock(lb_mu_);
    return lb_requests_;
  }
  void TearDown() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::string socket() const { return server_->path(); }

  TempDir dir_;
  std::unique_ptr<ControlServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex lb_mu_;
  Json lb_services_ = Json::array();
  std::vector<Json> lb_requests_;
};

TEST_F(VsgatectlServerTest, HumanAndJsonOutput) {
  RunResult r = run_in_process({"port", "show"}, socket().c_str());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, format_port_show(kPortShow));
  EXPECT_EQ(r.err, "");

  r = run_binary({"--socket", socket(), "--json", "port", "show"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kPortShow.dump(2) + "\n");

  r = run_binary({"version"}, socket().c_str());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "vsgated 0.1.0 (DPDK 22.11.11)\n");
}

TEST_F(VsgatectlServerTest, DaemonErrorReply) {
  RunResult r = run_binary({"port", "stats", "dpdk9"}, socket().c_str());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "vsgatectl: no such port: dpdk9\n");
  EXPECT_EQ(r.out, "");
  r = run_in_process({"neigh", "show"}, socket().c_str());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "vsgatectl: unknown command 'neigh.show'\n");
}

// The ipvsadm syntax through the built binary: add a service and a real server, list them.
TEST_F(VsgatectlServerTest, IpvsadmAddAndList) {
  RunResult r = run_binary({"--socket", socket(), "-A", "-t", "10.0.0.100:80", "-s", "wrr"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  r = run_binary({"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-w", "3"}, socket().c_str());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  r = run_binary({"-L", "-n"}, socket().c_str());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  10.0.0.100:80 wrr\n"
            "  -> 10.0.1.2:80                  FullNat 3      0          0         \n");
  Json svc = {{"proto", "tcp"}, {"vip", "10.0.0.100"}, {"port", 80}};
  std::vector<Json> expected = {
      {{"cmd", "lb.service.add"},
       {"args", {{"proto", "tcp"}, {"vip", "10.0.0.100"}, {"port", 80}, {"scheduler", "wrr"}}}},
      {{"cmd", "lb.real.add"},
       {"args",
        {{"proto", "tcp"},
         {"vip", "10.0.0.100"},
         {"port", 80},
         {"rip", "10.0.1.2"},
         {"rport", 80},
         {"fwd", "fullnat"},
         {"weight", 3}}}},
      {{"cmd", "lb.list"}, {"args", Json::object()}},
  };
  EXPECT_EQ(lb_requests(), expected);

  // The daemon's refusal: exit 1 with its message.
  r = run_binary({"-A", "-t", "10.0.0.100:80"}, socket().c_str());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "vsgatectl: lb.service.add: Service already exists\n");
}

// vsgatectl -a against the daemon's rules (an LbModel behind lb.* as in vsgated): the
// (kMaxRealServersPerService + 1)-th real server of a service is refused with the model's
// message, the same as `vsgated --check` and lb.real.add print (tests/unit/lb_model_test.cc).
TEST(VsgatectlRun, OneRealServerTooManyIsRefusedWithTheModelsMessage) {
  TempDir dir;
  ControlServerOptions options;
  options.path = dir.path() + "/control.sock";
  auto server = ControlServer::listen(options);
  ASSERT_TRUE(server.ok()) << server.message();
  LbModel model;
  std::mutex mu;
  for (const char* cmd : {"lb.service.add", "lb.real.add"})
    server.value()->commands().add(cmd,
                                   [&, cmd = std::string(cmd)](const Json& args) -> Result<Json> {
                                     std::lock_guard lock(mu);
                                     if (auto st = apply_json_command(model, cmd, args); !st)
                                       return st.error();
                                     return Json::object();
                                   });
  const ServiceKey k{Proto::tcp, *IpAddr::parse("10.0.0.100"), L4Port::from_host(80)};
  auto key = [](uint32_t i) {
    return RealServerKey{IpAddr::from_v4(Ipv4Addr::from_host((10u << 24) | (1u << 16) | i)),
                         L4Port::from_host(80)};
  };
  {
    std::lock_guard lock(mu);
    ASSERT_TRUE(model.add_service({k, SchedulerKind::rr, {}}, Origin::control));
    for (uint32_t i = 0; i + 1 < kMaxRealServersPerService; ++i)
      ASSERT_TRUE(model.add_real(k, {key(i), FwdMode::nat, 0u, {}, {}}, Origin::control));
  }
  std::atomic<bool> stop{false};
  std::thread t([&] {
    while (!stop.load()) server.value()->poll(5);
  });
  // The 4096th is accepted, the 4097th refused.
  RunResult r = run_binary({"-a", "-t", "10.0.0.100:80", "-r", "10.1.15.255", "-m", "-w", "0"},
                           options.path.c_str());
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_binary({"-a", "-t", "10.0.0.100:80", "-r", "10.1.16.0", "-m"}, options.path.c_str());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(
      r.err,
      "vsgatectl: " +
          check_real_count(key(kMaxRealServersPerService), kMaxRealServersPerService)->message() +
          "\n");
  EXPECT_NE(r.err.find("a service has at most 4096 real servers"), std::string::npos);
  stop = true;
  t.join();
  std::lock_guard lock(mu);
  EXPECT_EQ(model.find(k)->reals.size(), kMaxRealServersPerService);
}

}  // namespace
}  // namespace vsgate::vsgatectl
