// vsgatectl's ipvsadm syntax: arguments -> control requests, ipvsadm's error messages, and the
// listings byte for byte. The expected listings follow ipvsadm.c's printf formats
// (print_title, print_service_entry, print_largenum, print_conn, list_timeout) and DPVS's
// list_laddrs, trailing blanks included.
#include "vsgatectl/ipvsadm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ctrl/control_server.h"
#include "lb/model.h"
#include "lb/model_json.h"
#include "vsgatectl/cli.h"

namespace vsgate::vsgatectl {
namespace {

using Args = std::vector<std::string>;
using ipvsadm::ListFormat;
using ipvsadm::View;
using Columns = ListFormat::Columns;

ipvsadm::Command parse_ok(const Args& args) {
  auto c = ipvsadm::parse(args);
  EXPECT_TRUE(c.ok()) << ::testing::PrintToString(args) << ": " << (c.ok() ? "" : c.message());
  return c.ok() ? *c : ipvsadm::Command{};
}

std::string parse_error(const Args& args) {
  auto c = ipvsadm::parse(args);
  EXPECT_FALSE(c.ok()) << ::testing::PrintToString(args);
  return c.ok() ? "" : c.message();
}

const Json kSvc80 = {{"proto", "tcp"}, {"vip", "10.0.0.100"}, {"port", 80}};
const Json kSvc53 = {{"proto", "udp"}, {"vip", "10.0.0.100"}, {"port", 53}};

Json with(Json base, const Json& extra) {
  for (const auto& [k, v] : extra.items()) base[k] = v;
  return base;
}

struct Case {
  Args args;
  const char* cmd;
  Json json;
};

void expect_requests(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    ipvsadm::Command cmd = parse_ok(c.args);
    EXPECT_EQ(cmd.cmd, c.cmd) << ::testing::PrintToString(c.args);
    EXPECT_EQ(cmd.args, c.json) << ::testing::PrintToString(c.args);
  }
}

// ---- arguments -> requests ----

TEST(IpvsadmParse, VirtualServices) {
  expect_requests({
      // No -s: the daemon's default scheduler (wlc, as ipvsadm); no -p: not persistent.
      {{"-A", "-t", "10.0.0.100:80"}, "lb.service.add", kSvc80},
      {{"-A", "-t", "10.0.0.100:80", "-s", "wrr"},
       "lb.service.add",
       with(kSvc80, {{"scheduler", "wrr"}})},
      {{"-A", "-u", "10.0.0.100:53", "-s", "sh", "-p"},
       "lb.service.add",
       with(kSvc53, {{"scheduler", "sh"}, {"persistence", 300}})},
      {{"-A", "-t", "10.0.0.100:443", "-p", "600", "-s", "mh"},
       "lb.service.add",
       {{"proto", "tcp"},
        {"vip", "10.0.0.100"},
        {"port", 443},
        {"persistence", 600},
        {"scheduler", "mh"}}},
      // Port 0 is allowed for persistent services, as in ipvsadm.
      {{"-A", "-t", "10.0.0.100", "-p"},
       "lb.service.add",
       {{"proto", "tcp"}, {"vip", "10.0.0.100"}, {"port", 0}, {"persistence", 300}}},
      {{"-A", "-t", "10.0.0.100:80", "-p", "2678400"},
       "lb.service.add",
       with(kSvc80, {{"persistence", 2678400}})},
      // -E sends only what is given: the rest of the service stays as it is (as DPVS).
      {{"-E", "-t", "10.0.0.100:80", "-s", "lc"},
       "lb.service.edit",
       with(kSvc80, {{"scheduler", "lc"}})},
      {{"-E", "-t", "10.0.0.100:80", "-p", "60"},
       "lb.service.edit",
       with(kSvc80, {{"persistence", 60}})},
      {{"-E", "-t", "10.0.0.100:80"}, "lb.service.edit", kSvc80},
      {{"-D", "-t", "10.0.0.100:80"}, "lb.service.del", kSvc80},
      {{"-D", "-u", "10.0.0.100:53"}, "lb.service.del", kSvc53},
      {{"-C"}, "lb.clear", Json::object()},
  });
  for (const char* s : {"rr", "wrr", "lc", "wlc", "sh", "mh"}) {
    EXPECT_EQ(parse_ok({"-A", "-t", "10.0.0.100:80", "-s", s}).args["scheduler"], s);
  }
}

TEST(IpvsadmParse, RealServers) {
  Json real = {{"rip", "10.0.1.2"}, {"rport", 80}};
  expect_requests({
      // Defaults: FULLNAT (vsgate's, where ipvsadm has -g), weight 1, port of the service.
      {{"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2"},
       "lb.real.add",
       with(with(kSvc80, real), {{"fwd", "fullnat"}, {"weight", 1}})},
      {{"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2:8080", "-m", "-w", "3"},
       "lb.real.add",
       with(kSvc80, {{"rip", "10.0.1.2"}, {"rport", 8080}, {"fwd", "nat"}, {"weight", 3}})},
      {{"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2:80", "-b", "-w", "0", "-x", "1000", "-y",
        "800"},
       "lb.real.add",
       with(with(kSvc80, real),
            {{"fwd", "fullnat"}, {"weight", 0}, {"upper", 1000}, {"lower", 800}})},
      {{"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-w", "65535"},
       "lb.real.add",
       with(with(kSvc80, real), {{"fwd", "fullnat"}, {"weight", 65535}})},
      // Direct routing and tunnelling keep the service port, whatever -r says (as ipvsadm).
      {{"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2:8080", "-g"},
       "lb.real.add",
       with(with(kSvc80, real), {{"fwd", "dr"}, {"weight", 1}})},
      {{"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2:8080", "-i"},
       "lb.real.add",
       with(with(kSvc80, real), {{"fwd", "tunnel"}, {"weight", 1}})},
      {{"-a", "-u", "10.0.0.100:53", "-r", "10.0.1.3", "-x", "0", "-y", "2147483647"},
       "lb.real.add",
       with(kSvc53, {{"rip", "10.0.1.3"},
                     {"rport", 53},
                     {"fwd", "fullnat"},
                     {"weight", 1},
                     {"upper", 0},
                     {"lower", 2147483647}})},
      // -e sends only what is given.
      {{"-e", "-t", "10.0.0.100:80", "-r", "10.0.1.2:8080", "-w", "5"},
       "lb.real.edit",
       with(kSvc80, {{"rip", "10.0.1.2"}, {"rport", 8080}, {"weight", 5}})},
      {{"-e", "-t", "10.0.0.100:80", "-r", "10.0.1.2"}, "lb.real.edit", with(kSvc80, real)},
      {{"-e", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-m", "-x", "5", "-y", "2"},
       "lb.real.edit",
       with(with(kSvc80, real), {{"fwd", "nat"}, {"upper", 5}, {"lower", 2}})},
      {{"-e", "-t", "10.0.0.100:80", "-r", "10.0.1.2:8080", "-g"},
       "lb.real.edit",
       with(with(kSvc80, real), {{"fwd", "dr"}})},
      {{"-d", "-t", "10.0.0.100:80", "-r", "10.0.1.2:8080"},
       "lb.real.del",
       with(kSvc80, {{"rip", "10.0.1.2"}, {"rport", 8080}})},
      {{"-d", "-u", "10.0.0.100:53", "-r", "10.0.1.3"},
       "lb.real.del",
       with(kSvc53, {{"rip", "10.0.1.3"}, {"rport", 53}})},
  });
}

TEST(IpvsadmParse, ListZeroSetLaddr) {
  expect_requests({
      {{"-L"}, "lb.list", Json::object()},
      {{"-L", "-n"}, "lb.list", Json::object()},
      {{"-l"}, "lb.list", Json::object()},
      {{"-Ln"}, "lb.list", Json::object()},
      {{"-nL"}, "lb.list", Json::object()},
      {{"-L", "-n", "-t", "10.0.0.100:80"}, "lb.list", kSvc80},
      {{"-L", "--stats", "--exact"}, "lb.list", Json::object()},
      {{"-L", "-n", "-c"}, "lb.conns", Json::object()},
      // vsgate extension: one service's connections (ipvsadm refuses -c with -t).
      {{"-L", "-c", "-u", "10.0.0.100:53"}, "lb.conns", kSvc53},
      {{"-L", "--timeout"}, "lb.list", Json::object()},
      {{"-Z"}, "lb.zero", Json::object()},
      {{"-Z", "-u", "10.0.0.100:53"}, "lb.zero", kSvc53},
      {{"--set", "900", "120", "300"},
       "lb.timeouts.set",
       {{"tcp", 900}, {"tcpfin", 120}, {"udp", 300}}},
      {{"--set", "0", "0", "2678400"},
       "lb.timeouts.set",
       {{"tcp", 0}, {"tcpfin", 0}, {"udp", 2678400}}},
      {{"--add-laddr", "-z", "10.0.1.1", "-t", "10.0.0.100:80", "-F", "dpdk1"},
       "lb.laddr.add",
       with(kSvc80, {{"laddr", "10.0.1.1"}, {"port_name", "dpdk1"}})},
      {{"--del-laddr", "-z", "10.0.1.1", "-t", "10.0.0.100:80", "-F", "dpdk1"},
       "lb.laddr.del",
       with(kSvc80, {{"laddr", "10.0.1.1"}, {"port_name", "dpdk1"}})},
      // DPVS's short forms.
      {{"-P", "-t", "10.0.0.100:80", "-z", "10.0.1.1", "-F", "dpdk1"},
       "lb.laddr.add",
       with(kSvc80, {{"laddr", "10.0.1.1"}, {"port_name", "dpdk1"}})},
      {{"-Q", "-t", "10.0.0.100:80", "-z", "10.0.1.1", "-F", "dpdk1"},
       "lb.laddr.del",
       with(kSvc80, {{"laddr", "10.0.1.1"}, {"port_name", "dpdk1"}})},
      {{"--get-laddr", "-t", "10.0.0.100:80"}, "lb.laddr.get", kSvc80},
      {{"-G", "-t", "10.0.0.100:80"}, "lb.laddr.get", kSvc80},
      // Without a service: every service's laddrs, from lb.list.
      {{"--get-laddr"}, "lb.list", Json::object()},
  });
}

TEST(IpvsadmParse, ListViewsAndFormats) {
  ipvsadm::Command c = parse_ok({"-L", "-n"});
  EXPECT_EQ(c.view, View::services);
  EXPECT_EQ(c.list.columns, Columns::standard);
  EXPECT_FALSE(c.list.exact);
  EXPECT_TRUE(c.list.sort);
  EXPECT_TRUE(c.list.banner);
  EXPECT_TRUE(c.service.is_null());

  c = parse_ok({"-L", "-t", "10.0.0.100:80"});
  EXPECT_FALSE(c.list.banner);  // ipvsadm's list_service: no version line
  EXPECT_EQ(c.service, kSvc80);

  EXPECT_EQ(parse_ok({"-L", "--stats"}).list.columns, Columns::stats);
  EXPECT_EQ(parse_ok({"-L", "--rate"}).list.columns, Columns::rate);
  EXPECT_EQ(parse_ok({"-L", "--thresholds"}).list.columns, Columns::thresholds);
  EXPECT_EQ(parse_ok({"-L", "--rate", "--stats"}).list.columns, Columns::stats);  // as ipvsadm
  EXPECT_TRUE(parse_ok({"-L", "--rate", "--exact"}).list.exact);
  EXPECT_TRUE(parse_ok({"-L", "-X"}).list.exact);
  EXPECT_FALSE(parse_ok({"-L", "--nosort"}).list.sort);
  EXPECT_TRUE(parse_ok({"-L", "--sort"}).list.sort);
  EXPECT_EQ(parse_ok({"-L", "-c"}).view, View::connections);
  EXPECT_EQ(parse_ok({"-L", "--timeout"}).view, View::timeouts);
  EXPECT_EQ(parse_ok({"--get-laddr"}).view, View::laddrs);
  EXPECT_EQ(parse_ok({"-G", "-t", "10.0.0.100:80"}).view, View::laddrs);
  for (const Args& a :
       {Args{"-A", "-t", "10.0.0.100:80"}, Args{"-C"}, Args{"-Z"}, Args{"--set", "1", "2", "3"}}) {
    EXPECT_EQ(parse_ok(a).view, View::none);
  }
}

TEST(IpvsadmParse, LongFormsMatchShortForms) {
  struct Pair {
    Args long_form, short_form;
  };
  for (const Pair& p : {
           Pair{{"--add-service", "--tcp-service", "10.0.0.100:80", "--scheduler", "wrr",
                 "--persistent", "600"},
                {"-A", "-t", "10.0.0.100:80", "-s", "wrr", "-p", "600"}},
           Pair{{"--add-service", "--tcp-service=10.0.0.100:80", "--persistent=600"},
                {"-A", "-t", "10.0.0.100:80", "-p", "600"}},
           Pair{{"--add-service", "--tcp-service", "10.0.0.100:80", "--persistent"},
                {"-A", "-t", "10.0.0.100:80", "-p"}},
           Pair{{"--edit-service", "--udp-service=10.0.0.100:53", "--scheduler=rr"},
                {"-E", "-u", "10.0.0.100:53", "-s", "rr"}},
           Pair{{"--delete-service", "--tcp-service", "10.0.0.100:80"},
                {"-D", "-t", "10.0.0.100:80"}},
           Pair{{"--clear"}, {"-C"}},
           Pair{{"--add-server", "--tcp-service", "10.0.0.100:80", "--real-server", "10.0.1.2:8080",
                 "--masquerading", "--weight", "3", "--u-threshold", "10", "--l-threshold", "5"},
                {"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2:8080", "-m", "-w", "3", "-x", "10",
                 "-y", "5"}},
           Pair{{"--add-server", "-t", "10.0.0.100:80", "--real-server=10.0.1.2", "--gatewaying"},
                {"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-g"}},
           Pair{{"--add-server", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "--ipip"},
                {"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-i"}},
           Pair{{"--add-server", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "--fullnat"},
                {"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-b"}},
           Pair{{"--edit-server", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "--weight=7"},
                {"-e", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-w", "7"}},
           Pair{{"--delete-server", "-t", "10.0.0.100:80", "--real-server", "10.0.1.2"},
                {"-d", "-t", "10.0.0.100:80", "-r", "10.0.1.2"}},
           Pair{{"--list", "--numeric", "--connection"}, {"-L", "-n", "-c"}},
           Pair{{"--list", "--tcp-service", "10.0.0.100:80"}, {"-l", "-t", "10.0.0.100:80"}},
           Pair{{"--zero", "--udp-service", "10.0.0.100:53"}, {"-Z", "-u", "10.0.0.100:53"}},
           Pair{{"--add-laddr", "--laddr", "10.0.1.1", "-t", "10.0.0.100:80", "--ifname", "dpdk1"},
                {"-P", "-z", "10.0.1.1", "-t", "10.0.0.100:80", "-F", "dpdk1"}},
           Pair{{"--get-laddr", "--tcp-service=10.0.0.100:80"}, {"-G", "-t", "10.0.0.100:80"}},
       }) {
    ipvsadm::Command l = parse_ok(p.long_form), s = parse_ok(p.short_form);
    EXPECT_EQ(l.cmd, s.cmd) << ::testing::PrintToString(p.long_form);
    EXPECT_EQ(l.args, s.args) << ::testing::PrintToString(p.long_form);
    EXPECT_EQ(l.view, s.view) << ::testing::PrintToString(p.long_form);
  }
  ipvsadm::Command l = parse_ok({"--list", "--stats", "--exact", "--nosort"});
  EXPECT_EQ(l.list.columns, Columns::stats);
  EXPECT_TRUE(l.list.exact);
  EXPECT_FALSE(l.list.sort);
}

TEST(IpvsadmParse, OptionGrammar) {
  const Json add80 = kSvc80;
  // Clustered short options; a value is the rest of the cluster or the next argument.
  EXPECT_EQ(parse_ok({"-At", "10.0.0.100:80"}).args, add80);
  EXPECT_EQ(parse_ok({"-A", "-t10.0.0.100:80"}).args, add80);
  EXPECT_EQ(parse_ok({"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-mw3"}).args,
            with(kSvc80, {{"rip", "10.0.1.2"}, {"rport", 80}, {"fwd", "nat"}, {"weight", 3}}));
  ipvsadm::Command c = parse_ok({"-Lnc"});
  EXPECT_EQ(c.cmd, "lb.conns");
  // -p's value is optional: taken from the cluster, or from the next argument unless that is
  // an option.
  EXPECT_EQ(parse_ok({"-A", "-t", "10.0.0.100:80", "-p600"}).args["persistence"], 600);
  EXPECT_EQ(parse_ok({"-A", "-t", "10.0.0.100:80", "-p", "-s", "rr"}).args,
            with(kSvc80, {{"persistence", 300}, {"scheduler", "rr"}}));
  EXPECT_EQ(parse_ok({"-A", "-p", "-t", "10.0.0.100:80"}).args["persistence"], 300);
  EXPECT_EQ(parse_ok({"-A", "-t", "10.0.0.100:80", "-p"}).args["persistence"], 300);
  EXPECT_EQ(parse_ok({"-A", "-t", "10.0.0.100:80", "--persistent", "--scheduler", "wrr"}).args,
            with(kSvc80, {{"persistence", 300}, {"scheduler", "wrr"}}));
  // The command need not come first (ipvsadm wants it first; vsgate does not mind).
  EXPECT_EQ(parse_ok({"-t", "10.0.0.100:80", "-s", "rr", "-A"}).args,
            with(kSvc80, {{"scheduler", "rr"}}));
  // "--" ends the options; "-" alone is a word.
  EXPECT_EQ(parse_ok({"--set", "--", "900", "120", "300"}).args,
            (Json{{"tcp", 900}, {"tcpfin", 120}, {"udp", 300}}));
  EXPECT_EQ(parse_error({"-L", "-"}), "unexpected argument -");
  // vsgatectl's global options are also accepted among the ipvsadm ones.
  c = parse_ok({"-L", "-n", "--json", "--socket", "/s.sock"});
  EXPECT_TRUE(c.json);
  EXPECT_EQ(c.socket.value_or(""), "/s.sock");
  EXPECT_EQ(parse_ok({"-L", "--socket=/t.sock"}).socket.value_or(""), "/t.sock");
  EXPECT_FALSE(parse_ok({"-L"}).json);
  EXPECT_FALSE(parse_ok({"-L"}).socket.has_value());
  // Help and version, anywhere.
  EXPECT_TRUE(parse_ok({"-h"}).help);
  EXPECT_TRUE(parse_ok({"-L", "--help"}).help);
  EXPECT_TRUE(parse_ok({"-A", "-h", "--bogus"}).help);
  EXPECT_TRUE(parse_ok({"-v"}).version);
  EXPECT_TRUE(parse_ok({"--version"}).version);
}

TEST(IpvsadmParse, AddressesAreNumericIpv4) {
  EXPECT_EQ(parse_ok({"-D", "-t", "255.255.255.255:65535"}).args,
            (Json{{"proto", "tcp"}, {"vip", "255.255.255.255"}, {"port", 65535}}));
  EXPECT_EQ(parse_ok({"-D", "-t", "0.0.0.0:0"}).args,
            (Json{{"proto", "tcp"}, {"vip", "0.0.0.0"}, {"port", 0}}));
  for (const char* bad : {"10.0.0.300:80",
                          "80",
                          "host.example:80",
                          "localhost:80",
                          "10.0.0.1:",
                          "10.0.0.1:65536",
                          "10.0.0.1:http",
                          "10.0.0.1:-1",
                          "10.0.0.1:+80",
                          "10.1:80",
                          "",
                          ":80",
                          "10.0.0.1:80:80",
                          "10.0.0.1 :80",
                          "[10.0.0.1]:80",
                          "[::1",
                          "[::1]80",
                          "[::1]:",
                          "[::1]:65536",
                          "::1:80:x",
                          "2001:db8::zz",
                          "[2001:db8::1]:http"}) {
    EXPECT_EQ(parse_error({"-D", "-t", bad}), "illegal virtual server address[:port] specified")
        << bad;
    EXPECT_EQ(parse_error({"-d", "-t", "10.0.0.1:80", "-r", bad}),
              "illegal real server address[:port] specified")
        << bad;
  }
  for (const char* bad : {"10.0.1", "10.0.1.1:80", "dpdk1", ""}) {
    EXPECT_EQ(parse_error({"--add-laddr", "-t", "10.0.0.1:80", "-F", "dpdk1", "-z", bad}),
              "illegal local address")
        << bad;
  }
}

// IPv6 addresses parse as ipvsadm writes them ("[ADDR]:PORT", "[ADDR]" or a bare ADDR, which
// has no port) and go to the daemon, whose model refuses them with its one message: never a
// usage error here.
TEST(IpvsadmParse, Ipv6AddressesParseAndTheModelRefusesThem) {
  EXPECT_EQ(parse_ok({"-A", "-t", "[2001:DB8::1]:80", "-s", "rr"}).args,
            (Json{{"proto", "tcp"}, {"vip", "2001:db8::1"}, {"port", 80}, {"scheduler", "rr"}}));
  EXPECT_EQ(parse_ok({"-D", "-u", "[::1]:53"}).args,
            (Json{{"proto", "udp"}, {"vip", "::1"}, {"port", 53}}));
  EXPECT_EQ(parse_ok({"-D", "-t", "::1"}).args,
            (Json{{"proto", "tcp"}, {"vip", "::1"}, {"port", 0}}));
  EXPECT_EQ(parse_ok({"-D", "-t", "[::1]"}).args,
            (Json{{"proto", "tcp"}, {"vip", "::1"}, {"port", 0}}));
  EXPECT_EQ(
      parse_ok({"-a", "-t", "10.0.0.100:80", "-r", "[2001:db8::11]:8080", "-m"}).args,
      with(kSvc80, {{"rip", "2001:db8::11"}, {"rport", 8080}, {"fwd", "nat"}, {"weight", 1}}));
  EXPECT_EQ(parse_ok({"-a", "-t", "10.0.0.100:80", "-r", "2001:db8::11", "-m"}).args,
            with(kSvc80, {{"rip", "2001:db8::11"}, {"rport", 80}, {"fwd", "nat"}, {"weight", 1}}));
  EXPECT_EQ(
      parse_ok({"--add-laddr", "-t", "10.0.0.100:80", "-F", "dpdk1", "-z", "2001:db8::5"}).args,
      with(kSvc80, {{"laddr", "2001:db8::5"}, {"port_name", "dpdk1"}}));

  // What the daemon does with them: its model's refusal (lb/model.h), as for the file.
  LbModel m;
  m.set_port_names({"dpdk1"});
  auto apply = [&m](const Args& args) {
    const ipvsadm::Command c = parse_ok(args);
    return apply_json_command(m, c.cmd, c.args);
  };
  EXPECT_EQ(apply({"-A", "-t", "[2001:db8::1]:80", "-s", "rr"}).message(),
            std::string("'2001:db8::1' ") + kIpv6NotSupported);
  EXPECT_EQ(apply({"-A", "-u", "2001:db8::1", "-p"}).message(),
            std::string("'2001:db8::1' ") + kIpv6NotSupported);
  ASSERT_TRUE(apply({"-A", "-t", "10.0.0.100:80", "-s", "rr"}).ok());
  const std::string family =
      " is an IPv6 address, but the service's vip 10.0.0.100 is IPv4 (a service's real servers "
      "and local addresses have its address family)";
  EXPECT_EQ(apply({"-a", "-t", "10.0.0.100:80", "-r", "[2001:db8::11]:8080", "-m"}).message(),
            "'[2001:db8::11]:8080'" + family);
  EXPECT_EQ(apply({"-a", "-t", "10.0.0.100:80", "-r", "2001:db8::11", "-g"}).message(),
            "'[2001:db8::11]:80'" + family);
  EXPECT_EQ(
      apply({"--add-laddr", "-t", "10.0.0.100:80", "-F", "dpdk1", "-z", "2001:db8::5"}).message(),
      "'2001:db8::5'" + family);
  EXPECT_TRUE(
      m.find({Proto::tcp, *IpAddr::parse("10.0.0.100"), L4Port::from_host(80)})->reals.empty());
}

struct ErrorCase {
  Args args;
  const char* message;
};

void expect_errors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    EXPECT_EQ(parse_error(c.args), c.message) << ::testing::PrintToString(c.args);
  }
}

TEST(IpvsadmParse, CommandErrors) {
  expect_errors({
      {{"-n"},
       "no command specified (one of -A -E -D -C -a -e -d -L -Z --set --add-laddr --del-laddr "
       "--get-laddr)"},
      {{"-t", "10.0.0.1:80", "-s", "rr"},
       "no command specified (one of -A -E -D -C -a -e -d -L -Z --set --add-laddr --del-laddr "
       "--get-laddr)"},
      {{"-A", "-D", "-t", "10.0.0.1:80"}, "multiple commands specified"},
      {{"-L", "-l"}, "multiple commands specified"},
      {{"-LZ"}, "multiple commands specified"},
      {{"-A", "-t", "10.0.0.1:80", "-u", "10.0.0.1:80"},
       "multiple 'service-address' options specified"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-m", "-g"},
       "multiple 'forwarding-method' options specified"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-r", "10.0.1.3"},
       "multiple 'real-server' options specified"},
      {{"-A", "-t", "10.0.0.1:80", "-p", "-p"}, "multiple 'persistent' options specified"},
      {{"-L", "--stats", "--stats"}, "multiple 'stats' options specified"},
      {{"-Lnn"}, "multiple 'numeric' options specified"},
  });
}

TEST(IpvsadmParse, RequiredOptions) {
  expect_errors({
      {{"-A"}, "You need to supply the 'service-address' option for the 'add-service' command"},
      {{"-E", "-s", "rr"},
       "You need to supply the 'service-address' option for the 'edit-service' command"},
      {{"-D"}, "You need to supply the 'service-address' option for the 'delete-service' command"},
      {{"-a", "-t", "10.0.0.1:80"},
       "You need to supply the 'real-server' option for the 'add-server' command"},
      {{"-e", "-t", "10.0.0.1:80", "-w", "2"},
       "You need to supply the 'real-server' option for the 'edit-server' command"},
      {{"-d", "-r", "10.0.1.2"},
       "You need to supply the 'service-address' option for the 'delete-server' command"},
      {{"--add-laddr", "-t", "10.0.0.1:80", "-F", "dpdk1"},
       "You need to supply the 'local-address' option for the 'add-laddr' command"},
      {{"--add-laddr", "-t", "10.0.0.1:80", "-z", "10.0.1.1"},
       "You need to supply the 'ifname' option for the 'add-laddr' command"},
      {{"--del-laddr", "-z", "10.0.1.1", "-F", "dpdk1"},
       "You need to supply the 'service-address' option for the 'del-laddr' command"},
  });
}

TEST(IpvsadmParse, IllegalCombinations) {
  expect_errors({
      {{"-A", "-t", "10.0.0.1:80", "-r", "10.0.1.2"},
       "Illegal 'real-server' option with the 'add-service' command"},
      {{"-A", "-t", "10.0.0.1:80", "-w", "1"},
       "Illegal 'weight' option with the 'add-service' command"},
      {{"-A", "-t", "10.0.0.1:80", "-m"},
       "Illegal 'forwarding-method' option with the 'add-service' command"},
      {{"-A", "-n", "-t", "10.0.0.1:80"},
       "Illegal 'numeric' option with the 'add-service' command"},
      {{"-E", "-t", "10.0.0.1:80", "-x", "1"},
       "Illegal 'u-threshold' option with the 'edit-service' command"},
      {{"-D", "-t", "10.0.0.1:80", "-s", "rr"},
       "Illegal 'scheduler' option with the 'delete-service' command"},
      {{"-D", "-t", "10.0.0.1:80", "-p"},
       "Illegal 'persistent' option with the 'delete-service' command"},
      {{"-C", "-t", "10.0.0.1:80"}, "Illegal 'service-address' option with the 'flush' command"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-s", "rr"},
       "Illegal 'scheduler' option with the 'add-server' command"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-p", "30"},
       "Illegal 'persistent' option with the 'add-server' command"},
      {{"-e", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "--stats"},
       "Illegal 'stats' option with the 'edit-server' command"},
      {{"-d", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w", "2"},
       "Illegal 'weight' option with the 'delete-server' command"},
      {{"-d", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-m"},
       "Illegal 'forwarding-method' option with the 'delete-server' command"},
      {{"-L", "-s", "rr"}, "Illegal 'scheduler' option with the 'list' command"},
      {{"-L", "-r", "10.0.1.2"}, "Illegal 'real-server' option with the 'list' command"},
      {{"-L", "-z", "10.0.1.2"}, "Illegal 'local-address' option with the 'list' command"},
      {{"-Z", "-n"}, "Illegal 'numeric' option with the 'zero' command"},
      {{"-Z", "--stats"}, "Illegal 'stats' option with the 'zero' command"},
      {{"--set", "1", "2", "3", "-n"}, "Illegal 'numeric' option with the 'set' command"},
      {{"--get-laddr", "-n"}, "Illegal 'numeric' option with the 'get-laddr' command"},
      {{"--add-laddr", "-t", "10.0.0.1:80", "-z", "10.0.1.1", "-F", "dpdk1", "-w", "1"},
       "Illegal 'weight' option with the 'add-laddr' command"},
      {{"-A", "-t", "10.0.0.1:80", "-F", "dpdk1"},
       "Illegal 'ifname' option with the 'add-service' command"},
      // The first offending option in ipvsadm's option order is reported.
      {{"-A", "-t", "10.0.0.1:80", "--exact", "-r", "10.0.1.2", "-n"},
       "Illegal 'numeric' option with the 'add-service' command"},
      // -L's exclusive options and conflicts.
      {{"-L", "-c", "--timeout"},
       "The option 'timeout' conflicts with the 'connection' option in the 'list' command"},
      {{"-L", "--timeout", "-t", "10.0.0.1:80"},
       "The option 'timeout' conflicts with the 'service-address' option in the 'list' command"},
      {{"-L", "-c", "--stats"}, "options conflicts in the list command"},
      {{"-L", "-c", "--rate"}, "options conflicts in the list command"},
      {{"-L", "--timeout", "--thresholds"}, "options conflicts in the list command"},
      // ipvsadm: a service on port 0 must be persistent.
      {{"-A", "-t", "10.0.0.1"}, "Zero port specified for non-persistent service"},
      {{"-E", "-t", "10.0.0.1:0", "-s", "rr"}, "Zero port specified for non-persistent service"},
  });
}

TEST(IpvsadmParse, BadValues) {
  expect_errors({
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w", "65536"}, "illegal weight specified"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w", "-1"}, "illegal weight specified"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w", "abc"}, "illegal weight specified"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "--weight="}, "illegal weight specified"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w", "1.5"}, "illegal weight specified"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-x", "2147483648"},
       "illegal u_threshold specified"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-y", "x"}, "illegal l_threshold specified"},
      {{"-A", "-t", "10.0.0.1:80", "-s", "foo"},
       "Scheduler not found: 'foo' (one of rr, wrr, lc, wlc, sh, mh)"},
      {{"-A", "-t", "10.0.0.1:80", "-s", "RR"},
       "Scheduler not found: 'RR' (one of rr, wrr, lc, wlc, sh, mh)"},
      {{"-A", "-t", "10.0.0.1:80", "-p", "0"}, "invalid timeout value `0' specified"},
      {{"-A", "-t", "10.0.0.1:80", "-p", "2678401"}, "invalid timeout value `2678401' specified"},
      {{"-A", "-t", "10.0.0.1:80", "-p", "abc"}, "invalid timeout value `abc' specified"},
      {{"-A", "-t", "10.0.0.1:80", "--persistent="}, "invalid timeout value `' specified"},
      {{"--set", "900", "120"}, "--set option requires 3 timeout values"},
      {{"--set"}, "--set option requires 3 timeout values"},
      {{"--set", "900", "120", "x"}, "invalid timeout value `x' specified"},
      {{"--set", "2678401", "0", "0"}, "invalid timeout value `2678401' specified"},
      {{"--set", "1", "2", "3", "4"}, "unexpected argument 4"},
      {{"-L", "foo"}, "unexpected argument foo"},
      {{"-A", "-t", "10.0.0.1:80", "rr"}, "unexpected argument rr"},
      {{"--add-laddr", "-t", "10.0.0.1:80", "-z", "10.0.1.1", "--ifname="},
       "illegal ifname specified"},
      {{"-L", "--socket="}, "--socket needs a path"},
  });
}

TEST(IpvsadmParse, OptionSyntaxErrors) {
  expect_errors({
      {{"-L", "--bogus"}, "unrecognised option '--bogus'"},
      {{"-LK"}, "unrecognised option '-K'"},
      {{"-L", "--stat"}, "unrecognised option '--stat'"},  // no abbreviations
      {{"-L", "-t"}, "the required argument for option '-t' is missing"},
      {{"-L", "--tcp-service"}, "the required argument for option '--tcp-service' is missing"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w"},
       "the required argument for option '-w' is missing"},
      {{"-L", "--stats=yes"}, "option '--stats' does not take any arguments"},
      {{"--clear=1"}, "option '--clear' does not take any arguments"},
      // ipvsadm and DPVS features vsgate does not have.
      {{"-A", "-f", "1"}, "option '-f' is not supported by vsgate"},
      {{"-S"}, "option '-S' is not supported by vsgate"},
      {{"--save"}, "option '--save' is not supported by vsgate"},
      {{"-R"}, "option '-R' is not supported by vsgate"},
      {{"-A", "-t", "10.0.0.1:80", "-M", "255.255.255.0"},
       "option '-M' is not supported by vsgate"},
      {{"-L", "--daemon"}, "option '--daemon' is not supported by vsgate"},
      {{"-L", "--persistent-conn"}, "option '--persistent-conn' is not supported by vsgate"},
      {{"--start-daemon", "master"}, "option '--start-daemon' is not supported by vsgate"},
      {{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-J"},
       "option '-J' is not supported by vsgate"},
  });
}

TEST(IpvsadmParse, ThroughTheCommandLine) {
  auto inv = parse_command_line({"--socket", "/a.sock", "-A", "-t", "10.0.0.100:80"}, nullptr);
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_EQ(inv->mode, Mode::ipvsadm);
  EXPECT_EQ(inv->command, "lb.service.add");
  EXPECT_EQ(inv->args, kSvc80);
  EXPECT_EQ(inv->global.socket, "/a.sock");
  EXPECT_FALSE(inv->global.json);

  // Global options after the ipvsadm ones; --socket there beats $VSGATE_SOCKET.
  inv = parse_command_line({"-L", "-n", "--json", "--socket", "/b.sock"}, "/env.sock");
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_TRUE(inv->global.json);
  EXPECT_EQ(inv->global.socket, "/b.sock");
  EXPECT_EQ(inv->command, "lb.list");
  EXPECT_EQ(parse_command_line({"-L"}, "/env.sock")->global.socket, "/env.sock");

  // vsgatectl's --timeout MS before the first ipvsadm option, ipvsadm's --timeout after it.
  inv = parse_command_line({"--timeout", "250", "-L", "--timeout"}, nullptr);
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_EQ(inv->global.timeout_ms, 250);
  EXPECT_EQ(inv->ipvsadm.view, View::timeouts);

  EXPECT_EQ(parse_command_line({"-L", "-h"}, nullptr)->mode, Mode::help);
  EXPECT_EQ(parse_command_line({"-v"}, nullptr)->mode, Mode::version);
  auto bad = parse_command_line({"-A", "-r", "10.0.1.2", "-t", "10.0.0.1:80"}, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), "Illegal 'real-server' option with the 'add-service' command");
}

// ---- output ----

// A lb.list result: unsorted (sorting is tested), counters that cross ipvsadm's unit steps.
const Json kList = Json::parse(R"({"services": [
  {"proto": "udp", "vip": "10.0.0.100", "port": 53, "scheduler": "rr", "persistence": 0,
   "stats": {"conns": 100000000, "inpkts": 999999999, "outpkts": 1000000000,
             "inbytes": 99999999999, "outbytes": 100000000000},
   "rates": {"cps": 12, "inpps": 99999999, "outpps": 100000000, "inbps": 123456789012,
             "outbps": 100000000000000},
   "laddrs": [],
   "reals": [{"rip": "10.0.1.3", "rport": 53, "fwd": "nat", "weight": 0, "upper": 0,
              "lower": 0, "active": 0, "inactive": 12,
              "stats": {"conns": 99999999999999, "inpkts": 100000000000000, "outpkts": 0,
                        "inbytes": 18446744073709551615, "outbytes": 1},
              "rates": {"cps": 123456789, "inpps": 0, "outpps": 7, "inbps": 99999999,
                        "outbps": 100000000}}]},
  {"proto": "tcp", "vip": "10.0.0.100", "port": 80, "scheduler": "wrr", "persistence": 0,
   "stats": {"conns": 7, "inpkts": 70, "outpkts": 60, "inbytes": 4200, "outbytes": 99999999},
   "rates": {"cps": 1, "inpps": 10, "outpps": 9, "inbps": 800, "outbps": 700},
   "laddrs": [{"laddr": "10.0.1.1", "port_name": "dpdk1", "conns": 3}],
   "reals": [
     {"rip": "10.0.1.10", "rport": 8080, "fwd": "fullnat", "weight": 3, "upper": 1000,
      "lower": 800, "active": 2, "inactive": 5,
      "stats": {"conns": 4, "inpkts": 40, "outpkts": 30, "inbytes": 2400, "outbytes": 1800},
      "rates": {"cps": 1, "inpps": 5, "outpps": 4, "inbps": 400, "outbps": 300}},
     {"rip": "10.0.1.9", "rport": 80, "fwd": "dr", "weight": 1, "upper": 0, "lower": 0,
      "active": 0, "inactive": 0,
      "stats": {"conns": 0, "inpkts": 0, "outpkts": 0, "inbytes": 0, "outbytes": 0},
      "rates": {"cps": 0, "inpps": 0, "outpps": 0, "inbps": 0, "outbps": 0}},
     {"rip": "10.0.1.2", "rport": 80, "fwd": "fullnat", "weight": 3, "upper": 0, "lower": 0,
      "active": 1, "inactive": 0,
      "stats": {"conns": 3, "inpkts": 30, "outpkts": 30, "inbytes": 1800, "outbytes": 99999999},
      "rates": {"cps": 0, "inpps": 5, "outpps": 5, "inbps": 400, "outbps": 400}}]},
  {"proto": "tcp", "vip": "10.0.0.20", "port": 443, "scheduler": "sh", "persistence": 300,
   "stats": {"conns": 0, "inpkts": 0, "outpkts": 0, "inbytes": 0, "outbytes": 0},
   "rates": {"cps": 0, "inpps": 0, "outpps": 0, "inbps": 0, "outbps": 0},
   "laddrs": [{"laddr": "10.0.1.1", "port_name": "dpdk1", "conns": 0},
              {"laddr": "10.0.1.254", "port_name": "dpdk1", "conns": 1234567890123}],
   "reals": [{"rip": "192.168.100.200", "rport": 65535, "fwd": "tunnel", "weight": 65535,
              "upper": 0, "lower": 0, "active": 123456, "inactive": 0,
              "stats": {"conns": 0, "inpkts": 0, "outpkts": 0, "inbytes": 0, "outbytes": 0},
              "rates": {"cps": 0, "inpps": 0, "outpps": 0, "inbps": 0, "outbps": 0}}]}],
 "timeouts": {"tcp": 900, "tcpfin": 120, "udp": 300}})");

const Json kConns = Json::parse(R"({"connections": [
  {"proto": "tcp", "state": "ESTABLISHED", "expires": 897, "client": "10.0.0.2:40000",
   "vip": "10.0.0.100:80", "laddr": "10.0.1.1:1029", "real": "10.0.1.2:80", "fwd": "fullnat"},
  {"proto": "udp", "state": "UDP", "expires": 5, "client": "192.168.100.200:65535",
   "vip": "10.0.0.100:53", "laddr": "", "real": "10.0.1.3:53", "fwd": "nat"},
  {"proto": "tcp", "state": "SYN_RECV", "expires": 7200, "client": "10.0.0.3:1024",
   "vip": "10.0.0.20:443", "laddr": "", "real": "192.168.100.200:65535", "fwd": "tunnel"}]})");

ListFormat fmt(Columns columns, bool exact = false, bool sort = true, bool banner = true) {
  ListFormat f;
  f.columns = columns;
  f.exact = exact;
  f.sort = sort;
  f.banner = banner;
  return f;
}

TEST(IpvsadmFormat, LargeNumbers) {
  struct Case {
    uint64_t v;
    const char* human;
    const char* exact;
  };
  for (const Case& c : {
           Case{0, "        0", "        0"},
           Case{99999999, " 99999999", " 99999999"},
           Case{100000000, "  100000K", " 100000000"},
           Case{999999999, "  999999K", " 999999999"},
           Case{1000000000, "    1000M", " 1000000000"},
           Case{99999999999, "   99999M", " 99999999999"},
           Case{100000000000, "     100G", " 100000000000"},
           Case{99999999999999, "   99999G", " 99999999999999"},
           Case{100000000000000, "     100T", " 100000000000000"},
           Case{18446744073709551615u, "18446744T", " 18446744073709551615"},
       }) {
    EXPECT_EQ(ipvsadm::format_largenum(c.v, false), c.human) << c.v;
    EXPECT_EQ(ipvsadm::format_largenum(c.v, true), c.exact) << c.v;
  }
}

TEST(IpvsadmFormat, ListNumeric) {
  EXPECT_EQ(ipvsadm::format_services(kList, fmt(Columns::standard)),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  10.0.0.20:443 sh persistent 300\n"
            "  -> 192.168.100.200:65535        Tunnel  65535  123456     0         \n"
            "TCP  10.0.0.100:80 wrr\n"
            "  -> 10.0.1.2:80                  FullNat 3      1          0         \n"
            "  -> 10.0.1.9:80                  Route   1      0          0         \n"
            "  -> 10.0.1.10:8080               FullNat 3      2          5         \n"
            "UDP  10.0.0.100:53 rr\n"
            "  -> 10.0.1.3:53                  Masq    0      0          12        \n");
}

TEST(IpvsadmFormat, ListUnsorted) {
  EXPECT_EQ(ipvsadm::format_services(kList, fmt(Columns::standard, false, false)),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "UDP  10.0.0.100:53 rr\n"
            "  -> 10.0.1.3:53                  Masq    0      0          12        \n"
            "TCP  10.0.0.100:80 wrr\n"
            "  -> 10.0.1.10:8080               FullNat 3      2          5         \n"
            "  -> 10.0.1.9:80                  Route   1      0          0         \n"
            "  -> 10.0.1.2:80                  FullNat 3      1          0         \n"
            "TCP  10.0.0.20:443 sh persistent 300\n"
            "  -> 192.168.100.200:65535        Tunnel  65535  123456     0         \n");
}

TEST(IpvsadmFormat, ListOneService) {
  Json one = {{"services", Json::array({kList["services"][1]})}};
  EXPECT_EQ(ipvsadm::format_services(one, fmt(Columns::standard, false, true, false)),
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  10.0.0.100:80 wrr\n"
            "  -> 10.0.1.2:80                  FullNat 3      1          0         \n"
            "  -> 10.0.1.9:80                  Route   1      0          0         \n"
            "  -> 10.0.1.10:8080               FullNat 3      2          5         \n");
}

TEST(IpvsadmFormat, Stats) {
  EXPECT_EQ(ipvsadm::format_services(kList, fmt(Columns::stats)),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  10.0.0.20:443                       0        0        0        0        0\n"
            "  -> 192.168.100.200:65535               0        0        0        0        0\n"
            "TCP  10.0.0.100:80                       7       70       60     4200 99999999\n"
            "  -> 10.0.1.2:80                         3       30       30     1800 99999999\n"
            "  -> 10.0.1.9:80                         0        0        0        0        0\n"
            "  -> 10.0.1.10:8080                      4       40       30     2400     1800\n"
            "UDP  10.0.0.100:53                 100000K  999999K    1000M   99999M     100G\n"
            "  -> 10.0.1.3:53                    99999G     100T        018446744T        1\n");
}

TEST(IpvsadmFormat, StatsExact) {
  EXPECT_EQ(
      ipvsadm::format_services(kList, fmt(Columns::stats, true)),
      "IP Virtual Server version 1.2.1 (size=4096)\n"
      "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
      "  -> RemoteAddress:Port\n"
      "TCP  10.0.0.20:443                       0        0        0        0        0\n"
      "  -> 192.168.100.200:65535               0        0        0        0        0\n"
      "TCP  10.0.0.100:80                       7       70       60     4200 99999999\n"
      "  -> 10.0.1.2:80                         3       30       30     1800 99999999\n"
      "  -> 10.0.1.9:80                         0        0        0        0        0\n"
      "  -> 10.0.1.10:8080                      4       40       30     2400     1800\n"
      "UDP  10.0.0.100:53                100000000 999999999 1000000000 99999999999 100000000000\n"
      "  -> 10.0.1.3:53                  99999999999999 100000000000000        0 "
      "18446744073709551615        1\n");
}

TEST(IpvsadmFormat, Rate) {
  EXPECT_EQ(ipvsadm::format_services(kList, fmt(Columns::rate)),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
            "  -> RemoteAddress:Port\n"
            "TCP  10.0.0.20:443                       0        0        0        0        0\n"
            "  -> 192.168.100.200:65535               0        0        0        0        0\n"
            "TCP  10.0.0.100:80                       1       10        9      800      700\n"
            "  -> 10.0.1.2:80                         0        5        5      400      400\n"
            "  -> 10.0.1.9:80                         0        0        0        0        0\n"
            "  -> 10.0.1.10:8080                      1        5        4      400      300\n"
            "UDP  10.0.0.100:53                      12 99999999  100000K     123G     100T\n"
            "  -> 10.0.1.3:53                  123456789        0        7 99999999  100000K\n");
}

TEST(IpvsadmFormat, Thresholds) {
  EXPECT_EQ(ipvsadm::format_services(kList, fmt(Columns::thresholds)),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
            "  -> RemoteAddress:Port\n"
            "TCP  10.0.0.20:443 sh persistent 300\n"
            "  -> 192.168.100.200:65535        0          0          123456     0         \n"
            "TCP  10.0.0.100:80 wrr\n"
            "  -> 10.0.1.2:80                  0          0          1          0         \n"
            "  -> 10.0.1.9:80                  0          0          0          0         \n"
            "  -> 10.0.1.10:8080               1000       800        2          5         \n"
            "UDP  10.0.0.100:53 rr\n"
            "  -> 10.0.1.3:53                  0          0          0          12        \n");
}

TEST(IpvsadmFormat, EmptyAndMalformed) {
  const std::string head =
      "IP Virtual Server version 1.2.1 (size=4096)\n"
      "Prot LocalAddress:Port Scheduler Flags\n"
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
  EXPECT_EQ(ipvsadm::format_services(Json::object(), fmt(Columns::standard)), head);
  EXPECT_EQ(ipvsadm::format_services(Json{{"services", 5}}, fmt(Columns::standard)), head);
  // Missing fields print as zeros/empty, unknown forwarding modes as they are.
  EXPECT_EQ(ipvsadm::format_services(Json::parse(R"({"services": [
                {"proto": "tcp", "vip": "10.0.0.1", "port": 80,
                 "reals": [{"rip": "10.0.1.2", "rport": 80, "fwd": "magic", "weight": -3}, 7]},
                "junk"]})"),
                                     fmt(Columns::standard, false, false)),
            head +
                "TCP  10.0.0.1:80 \n"
                "  -> 10.0.1.2:80                  magic   0      0          0         \n"
                "  -> :                                    0      0          0         \n"
                "  : \n");
  EXPECT_EQ(ipvsadm::format_connections(Json::object()),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination\n");
  EXPECT_EQ(ipvsadm::format_timeouts(Json::object()), "Timeout (tcp tcpfin udp): 0 0 0\n");
  EXPECT_EQ(ipvsadm::format_laddrs(Json::object()),
            "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     \n");
}

TEST(IpvsadmFormat, Connections) {
  EXPECT_EQ(ipvsadm::format_connections(kConns),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination\n"
            "TCP 14:57  ESTABLISHED 10.0.0.2:40000     10.0.0.100:80      10.0.1.2:80\n"
            "UDP 00:05  UDP         192.168.100.200:65535 10.0.0.100:53      10.0.1.3:53\n"
            "TCP 120:00 SYN_RECV    10.0.0.3:1024      10.0.0.20:443      192.168.100.200:65535\n");
}

TEST(IpvsadmFormat, Timeouts) {
  EXPECT_EQ(ipvsadm::format_timeouts(kList), "Timeout (tcp tcpfin udp): 900 120 300\n");
}

TEST(IpvsadmFormat, Laddrs) {
  EXPECT_EQ(ipvsadm::format_laddrs(Json::array({kList["services"][2]})),
            "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     \n"
            "10.0.0.20:443        2        \n"
            "                              10.0.1.1             0          0         \n"
            "                              10.0.1.254           0          1234567890123\n");
  EXPECT_EQ(ipvsadm::format_laddrs(kList["services"]),
            "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     \n"
            "10.0.0.20:443        2        \n"
            "                              10.0.1.1             0          0         \n"
            "                              10.0.1.254           0          1234567890123\n"
            "10.0.0.100:80        1        \n"
            "                              10.0.1.1             0          3         \n"
            "10.0.0.100:53        0        \n");
}

TEST(IpvsadmFormat, Ipv6AddressesInBrackets) {
  // None is accepted yet (lb/model.h); when one is, it prints as ipvsadm prints IPv6.
  const Json svc = {{"proto", "tcp"},
                    {"vip", "2001:db8::1"},
                    {"port", 80},
                    {"scheduler", "rr"},
                    {"laddrs", Json::array()},
                    {"reals", Json::array({{{"rip", "2001:db8::11"}, {"rport", 8080}}})}};
  EXPECT_EQ(ipvsadm::format_laddrs(Json::array({svc})),
            "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     \n"
            "[2001:db8::1]:80     0        \n");
  const std::string list =
      ipvsadm::format_services({{"services", Json::array({svc})}}, fmt(Columns::standard));
  EXPECT_NE(list.find("TCP  [2001:db8::1]:80 rr\n"), std::string::npos) << list;
  EXPECT_NE(list.find("  -> [2001:db8::11]:8080"), std::string::npos) << list;
}

TEST(IpvsadmFormat, DispatchByView) {
  ipvsadm::Command c = parse_ok({"-L", "-n"});
  EXPECT_EQ(ipvsadm::format(c, kList), ipvsadm::format_services(kList, fmt(Columns::standard)));
  c = parse_ok({"-L", "--rate", "-t", "10.0.0.100:80"});
  EXPECT_EQ(ipvsadm::format(c, kList),
            ipvsadm::format_services(kList, fmt(Columns::rate, false, true, false)));
  EXPECT_EQ(ipvsadm::format(parse_ok({"-L", "-c"}), kConns), ipvsadm::format_connections(kConns));
  EXPECT_EQ(ipvsadm::format(parse_ok({"-L", "--timeout"}), kList),
            "Timeout (tcp tcpfin udp): 900 120 300\n");
  EXPECT_EQ(ipvsadm::format(parse_ok({"--get-laddr"}), kList),
            ipvsadm::format_laddrs(kList["services"]));
  // lb.laddr.get answers with the laddrs only; the service comes from the command line.
  Json svc = kList["services"][2];
  c = parse_ok({"--get-laddr", "-t", "10.0.0.20:443"});
  EXPECT_EQ(ipvsadm::format(c, Json{{"laddrs", svc["laddrs"]}}),
            ipvsadm::format_laddrs(Json::array({svc})));
  EXPECT_EQ(ipvsadm::format(parse_ok({"-A", "-t", "10.0.0.1:80"}), Json::object()), "");
  EXPECT_EQ(ipvsadm::format(parse_ok({"--set", "1", "2", "3"}), kList["timeouts"]), "");
}

// ---- the program, against a ControlServer with canned lb.* handlers ----

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ipvsadm-test-XXXXXX";
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

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};

class IpvsadmRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ControlServerOptions options;
    options.path = dir_.path() + "/control.sock";
    auto server = ControlServer::listen(options);
    ASSERT_TRUE(server.ok()) << server.message();
    server_ = std::move(server.value());
    for (const char* cmd : {"lb.service.add", "lb.service.edit", "lb.real.add", "lb.real.edit",
                            "lb.real.del", "lb.clear", "lb.zero", "lb.laddr.add", "lb.laddr.del"}) {
      record(cmd, [](const Json&) -> Result<Json> { return Json::object(); });
    }
    record("lb.service.del", [](const Json& args) -> Result<Json> {
      if (args.value("port", 0) == 81) return make_error("lb.service.del: No such service");
      return Json::object();
    });
    record("lb.list", [](const Json& args) -> Result<Json> {
      if (!args.contains("vip")) return kList;
      for (const Json& s : kList["services"]) {
        if (s["proto"] == args["proto"] && s["vip"] == args["vip"] && s["port"] == args["port"])
          return Json{{"services", Json::array({s})}, {"timeouts", kList["timeouts"]}};
      }
      return make_error("lb.list: No such service");
    });
    record("lb.conns", [](const Json&) -> Result<Json> { return kConns; });
    record("lb.timeouts.set", [](const Json& args) -> Result<Json> { return args; });
    record("lb.laddr.get", [](const Json&) -> Result<Json> {
      return Json{{"laddrs", kList["services"][2]["laddrs"]}};
    });
    thread_ = std::thread([this] {
      while (!stop_.load()) server_->poll(5);
    });
  }
  void TearDown() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  void record(const char* cmd, CommandHandler handler) {
    server_->commands().add(cmd, [this, cmd, handler](const Json& args) {
      std::lock_guard lock(mu_);
      requests_.push_back(Json{{"cmd", cmd}, {"args", args}});
      return handler(args);
    });
  }

  RunResult run_ipvsadm(Args args) {
    args.insert(args.begin(), {"--socket", server_->path()});
    std::ostringstream out, err;
    RunResult r;
    r.status = run(args, nullptr, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  std::vector<Json> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  TempDir dir_;
  std::unique_ptr<ControlServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Json> requests_;
};

TEST_F(IpvsadmRunTest, CommandsSendOneRequestAndPrintNothing) {
  struct Case {
    Args args;
    Json request;
  };
  for (const Case& c : {
           Case{{"-A", "-t", "10.0.0.100:80", "-s", "wrr", "-p"},
                {{"cmd", "lb.service.add"},
                 {"args", with(kSvc80, {{"scheduler", "wrr"}, {"persistence", 300}})}}},
           Case{{"-E", "-t", "10.0.0.100:80", "-s", "rr"},
                {{"cmd", "lb.service.edit"}, {"args", with(kSvc80, {{"scheduler", "rr"}})}}},
           Case{{"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-w", "3"},
                {{"cmd", "lb.real.add"},
                 {"args",
                  with(kSvc80,
                       {{"rip", "10.0.1.2"}, {"rport", 80}, {"fwd", "fullnat"}, {"weight", 3}})}}},
           Case{{"-e", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-w", "0"},
                {{"cmd", "lb.real.edit"},
                 {"args", with(kSvc80, {{"rip", "10.0.1.2"}, {"rport", 80}, {"weight", 0}})}}},
           Case{{"-d", "-t", "10.0.0.100:80", "-r", "10.0.1.2"},
                {{"cmd", "lb.real.del"},
                 {"args", with(kSvc80, {{"rip", "10.0.1.2"}, {"rport", 80}})}}},
           Case{{"-D", "-t", "10.0.0.100:80"}, {{"cmd", "lb.service.del"}, {"args", kSvc80}}},
           Case{{"-C"}, {{"cmd", "lb.clear"}, {"args", Json::object()}}},
           Case{{"-Z", "-t", "10.0.0.100:80"}, {{"cmd", "lb.zero"}, {"args", kSvc80}}},
           Case{
               {"--set", "900", "0", "300"},
               {{"cmd", "lb.timeouts.set"}, {"args", {{"tcp", 900}, {"tcpfin", 0}, {"udp", 300}}}}},
           Case{{"--add-laddr", "-z", "10.0.1.1", "-t", "10.0.0.100:80", "-F", "dpdk1"},
                {{"cmd", "lb.laddr.add"},
                 {"args", with(kSvc80, {{"laddr", "10.0.1.1"}, {"port_name", "dpdk1"}})}}},
           Case{{"--del-laddr", "-z", "10.0.1.1", "-t", "10.0.0.100:80", "-F", "dpdk1"},
                {{"cmd", "lb.laddr.del"},
                 {"args", with(kSvc80, {{"laddr", "10.0.1.1"}, {"port_name", "dpdk1"}})}}},
       }) {
    size_t before = requests().size();
    RunResult r = run_ipvsadm(c.args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "") << ::testing::PrintToString(c.args);
    EXPECT_EQ(r.err, "");
    std::vector<Json> sent = requests();
    ASSERT_EQ(sent.size(), before + 1) << ::testing::PrintToString(c.args);
    EXPECT_EQ(sent.back(), c.request);
  }
}

TEST_F(IpvsadmRunTest, Listings) {
  RunResult r = run_ipvsadm({"-L", "-n"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, ipvsadm::format_services(kList, fmt(Columns::standard)));
  EXPECT_EQ(requests().back(), (Json{{"cmd", "lb.list"}, {"args", Json::object()}}));

  r = run_ipvsadm({"-Ln", "--stats", "--exact", "-t", "10.0.0.100:53"});
  EXPECT_EQ(r.status, 1);  // a TCP service on port 53 does not exist
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "vsgatectl: lb.list: No such service\n");

  r = run_ipvsadm({"-l", "-t", "10.0.0.100:80"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  10.0.0.100:80 wrr\n"
            "  -> 10.0.1.2:80                  FullNat 3      1          0         \n"
            "  -> 10.0.1.9:80                  Route   1      0          0         \n"
            "  -> 10.0.1.10:8080               FullNat 3      2          5         \n");
  EXPECT_EQ(requests().back(), (Json{{"cmd", "lb.list"}, {"args", kSvc80}}));

  r = run_ipvsadm({"-L", "-n", "-c"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, ipvsadm::format_connections(kConns));

  r = run_ipvsadm({"-L", "--timeout"});
  EXPECT_EQ(r.out, "Timeout (tcp tcpfin udp): 900 120 300\n");

  r = run_ipvsadm({"--get-laddr", "-t", "10.0.0.20:443"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS     \n"
            "10.0.0.20:443        2        \n"
            "                              10.0.1.1             0          0         \n"
            "                              10.0.1.254           0          1234567890123\n");
  EXPECT_EQ(requests().back(),
            (Json{{"cmd", "lb.laddr.get"},
                  {"args", {{"proto", "tcp"}, {"vip", "10.0.0.20"}, {"port", 443}}}}));

  r = run_ipvsadm({"-G"});
  EXPECT_EQ(r.out, ipvsadm::format_laddrs(kList["services"]));
}

TEST_F(IpvsadmRunTest, JsonPrintsTheRawResult) {
  RunResult r = run_ipvsadm({"--json", "-L", "-n"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kList.dump(2) + "\n");
  r = run_ipvsadm({"-L", "-c", "--json"});  // laddr is only in the JSON
  EXPECT_EQ(r.out, kConns.dump(2) + "\n");
  EXPECT_NE(r.out.find("\"laddr\": \"10.0.1.1:1029\""), std::string::npos);
  r = run_ipvsadm({"--set", "1", "2", "3", "--json"});
  EXPECT_EQ(r.out, Json({{"tcp", 1}, {"tcpfin", 2}, {"udp", 3}}).dump(2) + "\n");
}

TEST_F(IpvsadmRunTest, ExitStatus) {
  // Daemon error: 1, its message, nothing on stdout.
  RunResult r = run_ipvsadm({"-D", "-t", "10.0.0.100:81"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "vsgatectl: lb.service.del: No such service\n");
  // Usage error: 2 and the hint; nothing is sent.
  size_t before = requests().size();
  r = run_ipvsadm({"-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2", "-w", "65536"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "vsgatectl: illegal weight specified\n"
            "Try 'vsgatectl --help' for more information.\n");
  r = run_ipvsadm({"-L", "-Z"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "vsgatectl: multiple commands specified\n"
            "Try 'vsgatectl --help' for more information.\n");
  EXPECT_EQ(requests().size(), before);
  // Help and version exit 0 without a daemon.
  r = run_ipvsadm({"-h"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("vsgatectl -A|-E -t|-u VIP:PORT [-s SCHEDULER] [-p [SECONDS]]"),
            std::string::npos);
}

TEST(IpvsadmRun, DaemonNotRunning) {
  TempDir dir;
  std::string path = dir.path() + "/control.sock";
  std::ostringstream out, err;
  EXPECT_EQ(run({"--socket", path, "-L", "-n"}, nullptr, out, err), 1);
  EXPECT_EQ(err.str(), "vsgatectl: cannot connect to " + path +
                           ": No such file or directory (is vsgated running?)\n");
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace vsgate::vsgatectl
