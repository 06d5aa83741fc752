// One table of load-balancer specs, each run through both ways in: the INI loader behind
// `vsgated --check` and the lb.* control commands (JSON args -> lb/model_json.h -> LbModel).
// Both must accept or refuse it, and warn or not, alike.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "lb/model.h"
#include "lb/model_json.h"

// The table leaves out the fields a case does not set.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace vsgate {
namespace {

struct Real {
  std::string rip;
  std::optional<uint64_t> rport;
  std::string fwd = "fullnat";
  std::optional<uint64_t> weight, upper, lower;
  // Applied with lb.real.edit after the add; the file gets the result (fields merged).
  std::optional<std::string> edit_fwd;
  std::optional<uint64_t> edit_weight, edit_upper, edit_lower;
};

struct Laddr {
  std::string ip;
  std::string port = "dpdk1";
};

struct Svc {
  std::string proto = "tcp";
  std::string vip = "10.0.0.100";
  uint64_t port = 80;
  std::optional<uint64_t> persistence;
  std::vector<Real> reals;
  std::vector<Laddr> laddrs;
};

struct Case {
  const char* name;
  std::vector<Svc> services;
  bool accepted;
  bool warns = false;
  const char* says = nullptr;  // both ways, the refusal contains this
};

std::string ini(const std::vector<Svc>& services) {
  std::string t = "[port.dpdk1]\ndevice = net_tap1\n[port.dpdk2]\ndevice = net_tap2\n";
  for (size_t i = 0; i < services.size(); ++i) {
    const Svc& s = services[i];
    t += "[service.s" + std::to_string(i) + "]\nprotocol = " + s.proto + "\nvip = " + s.vip +
         "\nport = " + std::to_string(s.port) + "\n";
    if (s.persistence) t += "persistence = " + std::to_string(*s.persistence) + "\n";
    if (!s.laddrs.empty()) {
      t += "local_addresses = ";
      for (size_t j = 0; j < s.laddrs.size(); ++j)
        t += (j ? ", " : "") + s.laddrs[j].ip + "@" + s.laddrs[j].port;
      t += "\n";
    }
    for (const Real& r : s.reals) {
      const bool v6 = r.rip.find(':') != std::string::npos;
      t += "real_server " + (v6 && r.rport ? "[" + r.rip + "]" : r.rip) +
           (r.rport ? ":" + std::to_string(*r.rport) : "") + " = " + r.edit_fwd.value_or(r.fwd);
      auto opt = [&t](const char* k, std::optional<uint64_t> v, std::optional<uint64_t> e) {
        if (e) v = e;
        if (v) t += std::string(" ") + k + "=" + std::to_string(*v);
      };
      opt("weight", r.weight, r.edit_weight);
      opt("upper", r.upper, r.edit_upper);
      opt("lower", r.lower, r.edit_lower);
      t += "\n";
    }
  }
  return t;
}

struct Verdict {
  bool accepted = true;
  bool warns = false;
  std::string why;
};

Verdict through_config(const std::vector<Svc>& services) {
  std::string dir = (std::filesystem::temp_directory_path() / "vsgate-lb-model-test.XXXXXX");
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/vsgate.conf";
  std::ofstream(path) << ini(services);
  auto r = load_config(path);
  std::filesystem::remove_all(dir);
  Verdict v{r.ok(), !r.warnings.empty(), {}};
  for (const auto& e : r.errors) v.why += e + "\n";
  for (const auto& w : r.warnings) v.why += "warning: " + w + "\n";
  return v;
}

// In the ipvsadm/DPVS order: -A, then -a (and -e), then --add-laddr, service by service.
Verdict through_control(const std::vector<Svc>& services) {
  LbModel m;
  m.set_port_names({"dpdk1", "dpdk2"});
  Verdict v;
  auto run = [&](const std::string& cmd, const Json& args) {
    if (!v.accepted) return;
    if (auto st = apply_json_command(m, cmd, args); !st) {
      v.accepted = false;
      v.why = cmd + " " + args.dump() + ": " + st.message();
    }
  };
  for (const Svc& s : services) {
    const Json id{{"proto", s.proto}, {"vip", s.vip}, {"port", s.port}};
    Json add = id;
    if (s.persistence) add["persistence"] = *s.persistence;
    run("lb.service.add", add);
    for (const Real& r : s.reals) {
      Json a = id;
      a["rip"] = r.rip;
      if (r.rport) a["rport"] = *r.rport;
      a["fwd"] = r.fwd;
      if (r.weight) a["weight"] = *r.weight;
      if (r.upper) a["upper"] = *r.upper;
      if (r.lower) a["lower"] = *r.lower;
      run("lb.real.add", a);
      if (!(r.edit_fwd || r.edit_weight || r.edit_upper || r.edit_lower)) continue;
      Json e = id;
      e["rip"] = r.rip;
      if (r.rport) e["rport"] = *r.rport;
      if (r.edit_fwd) e["fwd"] = *r.edit_fwd;
      if (r.edit_weight) e["weight"] = *r.edit_weight;
      if (r.edit_upper) e["upper"] = *r.edit_upper;
      if (r.edit_lower) e["lower"] = *r.edit_lower;
      run("lb.real.edit", e);
    }
    for (const Laddr& l : s.laddrs) {
      Json a = id;
      a["laddr"] = l.ip;
      a["port_name"] = l.port;
      run("lb.laddr.add", a);
    }
  }
  if (v.accepted) {
    v.warns = !m.check().empty();
    for (const auto& w : m.check()) v.why += "warning: " + w.message + "\n";
  }
  return v;
}

Real nat(std::string rip) { return Real{.rip = std::move(rip), .fwd = "nat"}; }

// `n` NAT real servers 10.1.x.y (weight 0 for all but the first, like a pool being drained).
std::vector<Real> many(uint32_t n) {
  std::vector<Real> v;
  for (uint32_t i = 0; i < n; ++i)
    v.push_back({.rip = "10.1." + std::to_string(i >> 8) + "." + std::to_string(i & 0xff),
                 .fwd = "nat",
                 .weight = i == 0 ? 1 : 0});
  return v;
}
// The refusal of one real server too many, the same from the file and the control socket (the
// file names the server as written in it, the control socket as the model prints it).
constexpr const char* kTooManyRealsWhat =
    "would be real server 4097 of the service: a service has at most 4096 real servers "
    "(quiesced ones, weight 0, count too)";
const std::string kTooManyReals = std::string("'10.1.16.0:80' ") + kTooManyRealsWhat;

// clang-format off
const Case kCases[] = {
    {"minimal nat service", {{.reals = {nat("10.0.1.11")}}}, true},
    {"service without real servers", {{}}, true},
    {"udp service", {{.proto = "udp", .port = 53, .reals = {nat("10.0.1.11")}}}, true},
    // addresses
    {"vip 0.0.0.0", {{.vip = "0.0.0.0"}}, false},
    {"vip loopback", {{.vip = "127.0.0.1"}}, false},
    {"vip multicast", {{.vip = "224.0.0.1"}}, false},
    {"vip broadcast", {{.vip = "255.255.255.255"}}, false},
    {"port 0", {{.port = 0}}, false},
    {"port 65535", {{.port = 65535}}, true},
    {"persistence at the limit", {{.persistence = kMaxPersistenceS}}, true},
    {"persistence above the limit", {{.persistence = kMaxPersistenceS + 1}}, false},
    {"same service twice", {{}, {}}, false},
    {"same vip, other port", {{}, {.port = 81}}, true},
    {"same vip and port, other protocol", {{}, {.proto = "udp"}}, true},
    // real servers
    {"real server 0.0.0.0", {{.reals = {nat("0.0.0.0")}}}, false},
    {"real server loopback", {{.reals = {nat("127.0.0.2")}}}, false},
    {"real server port 0", {{.reals = {{.rip = "10.0.1.11", .rport = 0, .fwd = "nat"}}}}, false},
    {"real server twice", {{.reals = {nat("10.0.1.11"), {.rip = "10.0.1.11", .rport = 80, .fwd = "dr"}}}}, false},
    {"real server on two ports", {{.reals = {nat("10.0.1.11"), {.rip = "10.0.1.11", .rport = 81, .fwd = "nat"}}}}, true},
    {"weight 0", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .weight = 0}}}}, true},
    {"weight 65535", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .weight = 65535}}}}, true},
    {"weight 65536", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .weight = 65536}}}}, false},
    {"upper only", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .upper = 100}}}}, true},
    {"upper = lower", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .upper = 100, .lower = 100}}}}, true},
    {"upper at its limit", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .upper = UINT32_MAX}}}}, true},
    {"lower > upper", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .upper = 10, .lower = 20}}}}, false},
    {"lower without upper", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .lower = 5}}}}, false},
    {"nat on another port", {{.reals = {{.rip = "10.0.1.11", .rport = 8080, .fwd = "nat"}}}}, true},
    {"dr on the service port", {{.reals = {{.rip = "10.0.1.11", .rport = 80, .fwd = "dr"}}}}, true},
    {"dr on another port", {{.reals = {{.rip = "10.0.1.11", .rport = 8080, .fwd = "dr"}}}}, false},
    {"tunnel on another port", {{.reals = {{.rip = "10.0.1.11", .rport = 8080, .fwd = "tunnel"}}}}, false},
    {"real server = its vip", {{.reals = {nat("10.0.0.100")}}}, false},
    {"real server = another service's vip", {{.reals = {nat("10.0.0.101")}}, {.vip = "10.0.0.101"}}, false},
    {"real server = a later service's local address",
     {{.reals = {nat("10.0.1.1")}}, {.vip = "10.0.0.101", .laddrs = {{"10.0.1.1"}}}}, false},
    {"real server in two services", {{.reals = {nat("10.0.1.11")}}, {.port = 81, .reals = {nat("10.0.1.11")}}}, true},
    {"4096 real servers in a service", {{.reals = many(kMaxRealServersPerService)}}, true},
    {"4097 real servers in a service", {{.reals = many(kMaxRealServersPerService + 1)}}, false, false, kTooManyRealsWhat},
    {"4096 real servers in each of two services",
     {{.reals = many(kMaxRealServersPerService)}, {.port = 81, .reals = many(kMaxRealServersPerService)}}, true},
    // edits (the file gets the merged result)
    {"edit weight", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .edit_weight = 5}}}}, true},
    {"edit weight out of range", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .edit_weight = 70000}}}}, false},
    {"edit lower above the current upper", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .upper = 10, .edit_lower = 20}}}}, false},
    {"edit upper and lower together", {{.reals = {{.rip = "10.0.1.11", .fwd = "nat", .upper = 10, .edit_upper = 30, .edit_lower = 20}}}}, true},
    {"edit to dr on another port", {{.reals = {{.rip = "10.0.1.11", .rport = 8080, .fwd = "nat", .edit_fwd = "dr"}}}}, false},
    // local addresses
    {"fullnat with a local address", {{.reals = {{.rip = "10.0.1.11"}}, .laddrs = {{"10.0.1.1"}}}}, true},
    {"fullnat before its local address is a warning", {{.reals = {{.rip = "10.0.1.11"}}}}, true, true},
    {"local address = a vip", {{.laddrs = {{"10.0.0.101"}}}, {.vip = "10.0.0.101"}}, false},
    {"local address = its own vip", {{.laddrs = {{"10.0.0.100"}}}}, false},
    {"local address loopback", {{.laddrs = {{"127.0.0.1"}}}}, false},
    {"local address on an unknown port", {{.laddrs = {{"10.0.1.1", "dpdk9"}}}}, false},
    {"local address = a real server", {{.reals = {nat("10.0.1.1")}, .laddrs = {{"10.0.1.1"}}}}, false},
    {"shared local address, same port, same fullnat real server",
     {{.reals = {{.rip = "10.0.1.11", .rport = 8080}}, .laddrs = {{"10.0.1.1"}}},
      {.port = 8080, .reals = {{.rip = "10.0.1.11"}}, .laddrs = {{"10.0.1.1"}, {"10.0.1.2"}}}},
     true},
    {"shared local address on another port",
     {{.laddrs = {{"10.0.1.1", "dpdk1"}}}, {.port = 81, .laddrs = {{"10.0.1.1", "dpdk2"}}}}, false},
    // IPv6: parsed everywhere, refused by the model until the data plane forwards it
    {"vip IPv6", {{.vip = "2001:db8::100"}}, false, false, kIpv6NotSupported},
    {"udp vip IPv6", {{.proto = "udp", .vip = "2001:db8::100", .port = 53}}, false, false, kIpv6NotSupported},
    {"IPv6 service with IPv6 real servers",
     {{.vip = "2001:db8::100", .reals = {nat("2001:db8::11"), {.rip = "2001:db8::12", .rport = 8080, .fwd = "nat"}}}},
     false, false, kIpv6NotSupported},
    {"IPv6 service with a local address", {{.vip = "2001:db8::100", .laddrs = {{"2001:db8::1"}}}}, false, false, kIpv6NotSupported},
    {"IPv6 real server of an IPv4 service", {{.reals = {nat("2001:db8::11")}}}, false, false, "address family"},
    {"IPv6 real server with a port of an IPv4 service",
     {{.reals = {{.rip = "2001:db8::11", .rport = 8080, .fwd = "nat"}}}}, false, false, "address family"},
    {"IPv4-mapped IPv6 real server of an IPv4 service", {{.reals = {nat("::ffff:10.0.1.11")}}}, false, false, "address family"},
    {"IPv6 local address of an IPv4 service", {{.laddrs = {{"2001:db8::1"}}}}, false, false, "address family"},
    {"IPv6 local address beside an IPv4 one",
     {{.reals = {{.rip = "10.0.1.11"}}, .laddrs = {{"10.0.1.1"}, {"2001:db8::1"}}}}, false, false, "address family"},
};
// clang-format on

class LbModelTable : public ::testing::TestWithParam<Case> {};

TEST_P(LbModelTable, ConfigAndControlAgree) {
  const Case& c = GetParam();
  const Verdict file = through_config(c.services);
  const Verdict control = through_control(c.services);
  EXPECT_EQ(file.accepted, c.accepted) << "--check:\n" << file.why << ini(c.services);
  EXPECT_EQ(control.accepted, c.accepted) << "control: " << control.why;
  EXPECT_EQ(file.warns, c.warns) << file.why;
  EXPECT_EQ(control.warns, c.warns) << control.why;
  if (c.says) {
    EXPECT_NE(file.why.find(c.says), std::string::npos) << "--check:\n" << file.why;
    EXPECT_NE(control.why.find(c.says), std::string::npos) << "control: " << control.why;
  }
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string n;
  for (const char* p = info.param.name; *p; ++p)
    n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Specs, LbModelTable, ::testing::ValuesIn(kCases), CaseName);

// ---- the model alone: messages, origins, undo

TEST(LbModel, KeepsTheIpvsadmMessages) {
  LbModel m;
  const ServiceKey k{Proto::tcp, *IpAddr::parse("10.0.0.100"), L4Port::from_host(80)};
  const RealServerKey rk{*IpAddr::parse("10.0.1.11"), L4Port::from_host(80)};
  EXPECT_EQ(m.edit_service({k, {}, {}}).message(), "No such service");
  EXPECT_EQ(m.del_service(k).message(), "No such service");
  EXPECT_EQ(m.add_real(k, {rk, {}, {}, {}, {}}, Origin::control).message(), "Service not defined");
  ASSERT_TRUE(m.add_service({k, {}, {}}, Origin::control));
  EXPECT_EQ(m.add_service({k, {}, {}}, Origin::control).message(), "Service already exists");
  EXPECT_EQ(m.edit_real(k, {rk, {}, {}, {}, {}}).message(), "No such destination");
  EXPECT_EQ(m.del_real(k, rk).message(), "No such destination");
  ASSERT_TRUE(m.add_real(k, {rk, FwdMode::nat, {}, {}, {}}, Origin::control));
  EXPECT_EQ(m.add_real(k, {rk, {}, {}, {}, {}}, Origin::control).message(),
            "Destination already exists");
  EXPECT_EQ(m.del_laddr(k, *IpAddr::parse("10.0.1.1")).message(), "No such local address");
  ASSERT_TRUE(m.add_laddr(k, {*IpAddr::parse("10.0.1.1"), "dpdk1"}, Origin::control));
  EXPECT_EQ(m.add_laddr(k, {*IpAddr::parse("10.0.1.1"), "dpdk1"}, Origin::control).message(),
            "Local address already exists");
  EXPECT_EQ(
      m.add_real(k,
                 {{*IpAddr::parse("10.0.0.100"), L4Port::from_host(80)}, FwdMode::nat, {}, {}, {}},
                 Origin::control)
          .message(),
      "'10.0.0.100:80' is the vip of TCP 10.0.0.100:80 (a real server cannot be the load "
      "balancer itself)");
  Refusal why;
  EXPECT_FALSE(m.edit_real(k, {rk, {}, {}, 10, 20}, &why));
  EXPECT_EQ(why.field, Field::lower);
  EXPECT_EQ(why.message(),
            "'lower=20' is above upper=10 (IPVS refuses a lower threshold above the upper one)");
  // Nothing changed by the refusal.
  EXPECT_EQ(m.find(k)->reals.at(0).upper, 0u);
  EXPECT_FALSE(m.set_timeouts(kMaxTimeoutS + 1, 0, 0));
  EXPECT_TRUE(m.set_timeouts(kMaxTimeoutS, 0, 30));
  EXPECT_EQ(m.udp_timeout_s(), 30u);
}

TEST(LbModel, RefusesIpv6WithOneMessage) {
  LbModel m;
  m.set_port_names({"dpdk1"});
  const ServiceKey v6{Proto::tcp, *IpAddr::parse("2001:db8::100"), L4Port::from_host(80)};
  Refusal why;
  EXPECT_FALSE(m.add_service({v6, {}, {}}, Origin::control, {}, &why));
  EXPECT_EQ(why.field, Field::vip);
  EXPECT_EQ(why.message(),
            "'2001:db8::100' is an IPv6 address: IPv6 services are not supported yet (the data "
            "plane forwards IPv4 only)");
  EXPECT_TRUE(m.services().empty());
  // The rules alone say the same for a real server and a local address of an IPv6 service.
  const RealServerSpec r6{{*IpAddr::parse("2001:db8::11"), L4Port::from_host(80)}, {}, {}, {}, {}};
  ASSERT_FALSE(check_real_spec(v6, r6).empty());
  EXPECT_EQ(check_real_spec(v6, r6).front().message(),
            std::string("'[2001:db8::11]:80' ") + kIpv6NotSupported);
  ASSERT_FALSE(check_laddr_spec(v6, {*IpAddr::parse("2001:db8::1"), "dpdk1"}).empty());
  EXPECT_EQ(check_laddr_spec(v6, {*IpAddr::parse("2001:db8::1"), "dpdk1"}).front().message(),
            std::string("'2001:db8::1' ") + kIpv6NotSupported);

  // Mixed families: refused as such, and nothing changes.
  const ServiceKey v4{Proto::tcp, *IpAddr::parse("10.0.0.100"), L4Port::from_host(80)};
  ASSERT_TRUE(m.add_service({v4, {}, {}}, Origin::control));
  EXPECT_FALSE(m.add_real(v4, r6, Origin::control, &why));
  EXPECT_EQ(why.field, Field::real);
  EXPECT_EQ(why.message(),
            "'[2001:db8::11]:80' is an IPv6 address, but the service's vip 10.0.0.100 is IPv4 (a "
            "service's real servers and local addresses have its address family)");
  EXPECT_FALSE(m.add_laddr(v4, {*IpAddr::parse("2001:db8::1"), "dpdk1"}, Origin::control, &why));
  EXPECT_EQ(why.field, Field::laddr);
  EXPECT_EQ(why.message(),
            "'2001:db8::1' is an IPv6 address, but the service's vip 10.0.0.100 is IPv4 (a "
            "service's real servers and local addresses have its address family)");
  EXPECT_TRUE(m.find(v4)->reals.empty());
  EXPECT_TRUE(m.find(v4)->laddrs.empty());
  EXPECT_EQ(m.del_laddr(v4, *IpAddr::parse("2001:db8::1")).message(), "No such local address");

  // The JSON commands parse IPv6 and reach the same rule (not a syntax error).
  EXPECT_EQ(apply_json_command(m, "lb.service.add",
                               {{"proto", "udp"}, {"vip", "2001:DB8::100"}, {"port", 53}})
                .message(),
            std::string("'2001:db8::100' ") + kIpv6NotSupported);
  EXPECT_EQ(apply_json_command(m, "lb.real.add",
                               {{"proto", "tcp"},
                                {"vip", "10.0.0.100"},
                                {"port", 80},
                                {"rip", "2001:db8::11"},
                                {"fwd", "nat"}})
                .message(),
            "'[2001:db8::11]:80' is an IPv6 address, but the service's vip 10.0.0.100 is IPv4 (a "
            "service's real servers and local addresses have its address family)");
}

// The per-service limit: the (kMaxRealServersPerService + 1)-th real server of a service is
// refused with check_real_count()'s message and changes nothing; another service, or the same
// one after a removal, may still take one.
TEST(LbModel, RefusesOneRealServerTooManyPerService) {
  LbModel m;
  const ServiceKey k{Proto::tcp, *IpAddr::parse("10.0.0.100"), L4Port::from_host(80)};
  const ServiceKey k2{Proto::tcp, *IpAddr::parse("10.0.0.100"), L4Port::from_host(81)};
  ASSERT_TRUE(m.add_service({k, SchedulerKind::rr, {}}, Origin::control));
  ASSERT_TRUE(m.add_service({k2, SchedulerKind::rr, {}}, Origin::control));
  auto key = [](uint32_t i) {
    return RealServerKey{IpAddr::from_v4(Ipv4Addr::from_host((10u << 24) | (1u << 16) | i)),
                         L4Port::from_host(80)};
  };
  for (uint32_t i = 0; i < kMaxRealServersPerService; ++i)
    ASSERT_TRUE(m.add_real(k, {key(i), FwdMode::nat, 0u, {}, {}}, Origin::control)) << i;
  Refusal why;
  EXPECT_FALSE(m.add_real(k, {key(kMaxRealServersPerService), FwdMode::nat, {}, {}, {}},
                          Origin::control, &why));
  EXPECT_EQ(why.field, Field::real);
  EXPECT_EQ(why.message(), kTooManyReals);
  ASSERT_TRUE(check_real_count(key(kMaxRealServersPerService), kMaxRealServersPerService));
  EXPECT_EQ(check_real_count(key(kMaxRealServersPerService), kMaxRealServersPerService)->message(),
            kTooManyReals);
  EXPECT_FALSE(check_real_count(key(0), kMaxRealServersPerService - 1));
  EXPECT_EQ(m.find(k)->reals.size(), kMaxRealServersPerService);
  // Through the JSON command, the same words.
  EXPECT_EQ(apply_json_command(m, "lb.real.add",
                               {{"proto", "tcp"},
                                {"vip", "10.0.0.100"},
                                {"port", 80},
                                {"rip", "10.1.16.0"},
                                {"fwd", "nat"}})
                .message(),
            kTooManyReals);
  // The limit is per service, and a removal makes room.
  EXPECT_TRUE(
      m.add_real(k2, {key(kMaxRealServersPerService), FwdMode::nat, {}, {}, {}}, Origin::control));
  ASSERT_TRUE(m.del_real(k, key(7)));
  EXPECT_TRUE(
      m.add_real(k, {key(kMaxRealServersPerService), FwdMode::nat, {}, {}, {}}, Origin::control));
}

TEST(LbModel, RecordsWhereEachObjectCameFrom) {
  LbModel m;
  const ServiceKey k{Proto::tcp, *IpAddr::parse("10.0.0.100"), L4Port::from_host(80)};
  ASSERT_TRUE(m.add_service({k, SchedulerKind::wrr, {}}, Origin::file, "service.web"));
  ASSERT_TRUE(m.add_real(k, {{*IpAddr::parse("10.0.1.11"), L4Port::from_host(80)}, {}, {}, {}, {}},
                         Origin::control));
  ASSERT_TRUE(m.add_laddr(k, {*IpAddr::parse("10.0.1.1"), "dpdk1"}, Origin::file));
  const ModelService* s = m.find(k);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->origin, Origin::file);
  EXPECT_EQ(s->name, "service.web");
  EXPECT_EQ(s->scheduler, SchedulerKind::wrr);
  EXPECT_EQ(s->reals.at(0).origin, Origin::control);
  EXPECT_EQ(s->laddrs.at(0).origin, Origin::file);
  EXPECT_EQ(origin_name(Origin::control), "control");
}

TEST(LbModel, JsonTranslatorKeepsTypeErrors) {
  LbModel m;
  EXPECT_EQ(apply_json_command(m, "lb.service.add",
                               {{"proto", "sctp"}, {"vip", "10.0.0.1"}, {"port", 80}})
                .message(),
            "proto must be tcp or udp, not 'sctp'");
  EXPECT_EQ(apply_json_command(m, "lb.service.add",
                               {{"proto", "tcp"}, {"vip", "10.0.0.1"}, {"port", 65536}})
                .message(),
            "port must be 1..65535");
  EXPECT_EQ(
      apply_json_command(m, "lb.service.add",
                         {{"proto", "tcp"}, {"vip", "10.0.0.1"}, {"port", 80}, {"scheduler", "x"}})
          .message(),
      "unknown scheduler 'x'");
  EXPECT_EQ(
      apply_json_command(m, "lb.service.add", {{"proto", "tcp"}, {"vip", "10.0.0.1"}, {"port", 0}})
          .message(),
      "'0' is out of range (1..65535)");
  EXPECT_EQ(apply_json_command(m, "lb.timeouts.set", {{"tcp", 5000000000ULL}}).message(),
            "tcp out of range (0..4294967295)");
}

}  // namespace
}  // namespace vsgate
