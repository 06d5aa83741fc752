// vsgate-snmp without net-snmp: the snapshot built from the daemon's replies, the indexes that
// stay with their rows, the discontinuity time, the cache period and the settings.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon_reader.h"
#include "options.h"
#include "snapshot.h"

namespace vsgate::snmp {
namespace {

Json service_json(const std::string& vip, int port, std::vector<Json> reals,
                  const std::string& proto = "tcp") {
  return Json{
      {"proto", proto},
      {"vip", vip},
      {"port", port},
      {"scheduler", "wrr"},
      {"persistence", 300},
      {"stats",
       {{"conns", 7}, {"inpkts", 70}, {"outpkts", 60}, {"inbytes", 7000}, {"outbytes", 6000}}},
      {"rates", {{"cps", 1}, {"inpps", 2}, {"outpps", 3}, {"inbps", 4}, {"outbps", 5}}},
      {"laddrs", Json::array()},
      {"reals", reals}};
}

Json real_json(const std::string& rip, int rport, const std::string& fwd = "fullnat",
               uint64_t conns = 3) {
  return Json{{"rip", rip},
              {"rport", rport},
              {"fwd", fwd},
              {"weight", 2},
              {"upper", 10},
              {"lower", 5},
              {"active", 1},
              {"inactive", 2},
              {"stats",
               {{"conns", conns},
                {"inpkts", 30},
                {"outpkts", 20},
                {"inbytes", 3000},
                {"outbytes", 5000000000ull}}},
              {"rates", {{"cps", 1}, {"inpps", 2}, {"outpps", 3}, {"inbps", 4}, {"outbps", 5}}}};
}

DaemonReplies replies(std::vector<Json> services = {}) {
  DaemonReplies r;
  r.status = {{"version", "0.1.0"},  {"dpdk", "DPDK 22.11"},   {"pid", 42},    {"started_us", 1000},
              {"uptime_ms", 123456}, {"stats_reset_us", 1000}, {"workers", 2}, {"ports", 2}};
  r.port_show = {{"ports",
                  {{{"id", 1},
                    {"name", "dpdk1"},
                    {"driver", "net_af_xdp"},
                    {"mac", "02:00:00:00:00:02"},
                    {"link_up", false},
                    {"speed_mbps", 0}},
                   {{"id", 0},
                    {"name", "dpdk0"},
                    {"driver", "net_ixgbe"},
                    {"mac", "aa:bb:cc:dd:ee:ff"},
                    {"link_up", true},
                    {"speed_mbps", 10000}}}}};
  auto port_stats = [](int id, uint64_t base) {
    return Json{{"id", id},
                {"name", "x"},
                {"ipackets", base + 1},
                {"opackets", base + 2},
                {"ibytes", base + 3},
                {"obytes", base + 4},
                {"imissed", base + 5},
                {"ierrors", base + 6},
                {"oerrors", base + 7},
                {"rx_nombuf", base + 8},
                {"nic_drop_ratio", 0.0},
                {"xstats", Json::object()}};
  };
  r.port_stats = {{"ports", {port_stats(0, 0), port_stats(1, 0x100000000ull)}}};
  auto lcore = [](int worker, int lcore_id) {
    return Json{{"lcore", lcore_id},
                {"worker", worker},
                {"rx_iterations", 1000},
                {"rx_packets", 11},
                {"rx_bursts", 3},
                {"avg_rx_burst", 3.6},
                {"rx_queues", Json::array()},
                {"tx_packets", 12},
                {"tx_drops", 13},
                {"punted", 14},
                {"punt_drops", 15},
                {"injected", 16},
                {"inject_drops", 17},
                {"forwarded", 18},
                {"dropped", Json::object()},
                {"dropped_total", 19}};
  };
  r.lcore_stats = {{"lcores", {lcore(1, 2), lcore(0, 1)}},
                   {"total", Json::object()},
                   {"exception_path", Json::object()}};
  r.lb_list = {{"services", services}, {"timeouts", {{"tcp", 900}, {"tcpfin", 120}, {"udp", 300}}}};
  return r;
}

TEST(SnmpSnapshot, ParsesEveryTable) {
  auto s = parse_snapshot(replies({service_json(
      "10.0.0.100", 80, {real_json("10.0.1.11", 80), real_json("10.0.1.12", 8080, "dr", 4)})}));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(s->reachable);
  EXPECT_EQ(s->version, "0.1.0");
  EXPECT_EQ(s->uptime_ms, 123456u);
  EXPECT_EQ(s->workers, 2u);
  // Ports in id order, index = id + 1, port.show joined with port.stats.
  ASSERT_EQ(s->ports.size(), 2u);
  EXPECT_EQ(s->ports[0].index, 1u);
  EXPECT_EQ(s->ports[0].name, "dpdk0");
  EXPECT_EQ(s->ports[0].driver, "net_ixgbe");
  EXPECT_EQ(s->ports[0].mac, (std::array<uint8_t, 6>{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}));
  EXPECT_TRUE(s->ports[0].link_up);
  EXPECT_EQ(s->ports[0].speed_mbps, 10000u);
  EXPECT_EQ(s->ports[0].ipackets, 1u);
  EXPECT_EQ(s->ports[0].rx_nombuf, 8u);
  EXPECT_EQ(s->ports[1].index, 2u);
  EXPECT_FALSE(s->ports[1].link_up);
  EXPECT_EQ(s->ports[1].ibytes, 0x100000003ull);  // above 2^32, unchanged
  // Lcores in worker order.
  ASSERT_EQ(s->lcores.size(), 2u);
  EXPECT_EQ(s->lcores[0].index, 1u);
  EXPECT_EQ(s->lcores[0].lcore, 1u);
  EXPECT_EQ(s->lcores[1].index, 2u);
  EXPECT_EQ(s->lcores[1].lcore, 2u);
  EXPECT_EQ(s->lcores[1].rx_iterations, 1000u);
  EXPECT_EQ(s->lcores[1].inject_drops, 17u);
  EXPECT_EQ(s->lcores[1].dropped, 19u);
  // Services and reals.
  ASSERT_EQ(s->services.size(), 1u);
  const ServiceRow& v = s->services[0];
  EXPECT_EQ(v.proto, Protocol::tcp);
  EXPECT_EQ(v.addr, *IpAddr::parse("10.0.0.100"));
  EXPECT_EQ(v.port, 80);
  EXPECT_EQ(v.scheduler, "wrr");
  EXPECT_EQ(v.persistence, 300u);
  EXPECT_EQ(v.stats.conns, 7u);
  EXPECT_EQ(v.rates.outbps, 5u);
  ASSERT_EQ(v.reals.size(), 2u);
  EXPECT_EQ(v.reals[1].addr, *IpAddr::parse("10.0.1.12"));
  EXPECT_EQ(v.reals[1].port, 8080);
  EXPECT_EQ(v.reals[1].fwd, Fwd::dr);
  EXPECT_EQ(v.reals[0].weight, 2u);
  EXPECT_EQ(v.reals[0].upper, 10u);
  EXPECT_EQ(v.reals[0].lower, 5u);
  EXPECT_EQ(v.reals[0].stats.outbytes, 5000000000ull);
  EXPECT_EQ(s->total_conns(), 7u);
  EXPECT_EQ(s->current_conns(), 6u);  // (1 + 2) per real
}

TEST(SnmpSnapshot, ParsesIpv6Addresses) {
  auto s = parse_snapshot(replies({service_json(
      "2001:db8::100", 80, {real_json("2001:db8:1::11", 80), real_json("10.0.1.12", 8080)})}));
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(s->services.size(), 1u);
  EXPECT_EQ(s->services[0].addr, *IpAddr::parse("2001:db8::100"));
  ASSERT_EQ(s->services[0].reals.size(), 2u);
  EXPECT_EQ(s->services[0].reals[0].addr, *IpAddr::parse("2001:db8:1::11"));
  EXPECT_EQ(s->services[0].reals[1].addr, *IpAddr::parse("10.0.1.12"));
}

TEST(SnmpSnapshot, MalformedRepliesAreErrorsNotCrashes) {
  auto r = replies();
  r.status.erase("uptime_ms");
  auto s = parse_snapshot(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("status: no 'uptime_ms'"), std::string::npos) << s.message();

  r = replies({service_json("10.0.0.300", 80, {})});
  s = parse_snapshot(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not an IP address: 10.0.0.300"), std::string::npos);

  r = replies({service_json("10.0.0.1", 80, {real_json("10.0.1.1", 80, "masq")})});
  EXPECT_FALSE(parse_snapshot(r).ok());

  r = replies();
  r.port_show["ports"][0]["mac"] = "02:00:00:00:00";
  EXPECT_FALSE(parse_snapshot(r).ok());

  r = replies();
  r.lcore_stats = Json::array();
  EXPECT_FALSE(parse_snapshot(r).ok());

  r = replies();
  r.port_stats["ports"][0]["ipackets"] = "12";
  EXPECT_FALSE(parse_snapshot(r).ok());
}

// Indexes stay with their rows as others come and go; numbers are not reused.
TEST(SnmpRowIndexes, StayWithTheirRows) {
  RowIndexes idx;
  auto snap = [&](std::vector<Json> services) {
    auto s = parse_snapshot(replies(std::move(services)));
    EXPECT_TRUE(s.ok()) << s.message();
    Snapshot out = s.ok() ? s.value() : Snapshot{};
    idx.assign(out);
    return out;
  };
  auto a = [](std::vector<Json> reals) { return service_json("10.0.0.1", 80, reals); };
  auto b = [](std::vector<Json> reals) { return service_json("10.0.0.2", 80, reals); };
  auto c = [](std::vector<Json> reals) { return service_json("10.0.0.1", 80, reals, "udp"); };
  Snapshot s1 = snap({a({real_json("10.0.1.1", 80), real_json("10.0.1.2", 80)}), b({})});
  ASSERT_EQ(s1.services.size(), 2u);
  EXPECT_EQ(s1.services[0].index, 1u);
  EXPECT_EQ(s1.services[1].index, 2u);
  EXPECT_EQ(s1.services[0].reals[0].index, 1u);
  EXPECT_EQ(s1.services[0].reals[1].index, 2u);

  // The daemon lists them in another order, a service appears before them, a real server is
  // added before the existing ones: every existing row keeps its index.
  Snapshot s2 =
      snap({c({}), b({}),
            a({real_json("10.0.1.0", 80), real_json("10.0.1.2", 80), real_json("10.0.1.1", 80)})});
  ASSERT_EQ(s2.services.size(), 3u);
  EXPECT_EQ(s2.services[0].index, 1u);  // sorted by index
  EXPECT_EQ(s2.services[0].addr.bytes[3], 1);
  EXPECT_EQ(s2.services[0].proto, Protocol::tcp);
  EXPECT_EQ(s2.services[1].index, 2u);
  EXPECT_EQ(s2.services[1].addr.bytes[3], 2);
  EXPECT_EQ(s2.services[2].index, 3u);
  EXPECT_EQ(s2.services[2].proto, Protocol::udp);
  const auto& reals = s2.services[0].reals;
  ASSERT_EQ(reals.size(), 3u);
  EXPECT_EQ(reals[0].index, 1u);
  EXPECT_EQ(reals[0].addr.bytes[3], 1);
  EXPECT_EQ(reals[1].index, 2u);
  EXPECT_EQ(reals[1].addr.bytes[3], 2);
  EXPECT_EQ(reals[2].index, 3u);
  EXPECT_EQ(reals[2].addr.bytes[3], 0);

  // An unreachable daemon changes nothing; what comes back keeps its index.
  Snapshot down;
  idx.assign(down);
  Snapshot s3 = snap({b({}), a({real_json("10.0.1.2", 80)})});
  EXPECT_EQ(s3.services[0].index, 1u);
  EXPECT_EQ(s3.services[0].reals[0].index, 2u);
  EXPECT_EQ(s3.services[1].index, 2u);

  // Removed rows lose their index: added again, they get new numbers.
  Snapshot s4 = snap({a({real_json("10.0.1.1", 80)}), c({})});
  EXPECT_EQ(s4.services[0].index, 1u);
  EXPECT_EQ(s4.services[0].reals[0].index, 4u);
  EXPECT_EQ(s4.services[1].index, 4u);
}

TEST(SnmpDiscontinuity, ChangesOnRestartResetAndReturn) {
  Discontinuity d;
  Snapshot s;
  s.reachable = true;
  s.started_us = 100;
  s.stats_reset_us = 100;
  EXPECT_EQ(d.ticks(10), 0u);
  d.update(s, 50);
  EXPECT_EQ(d.ticks(55), 50u);  // first reading
  d.update(s, 60);
  EXPECT_EQ(d.ticks(60), 50u);  // nothing happened
  s.stats_reset_us = 200;       // lb.zero
  d.update(s, 70);
  EXPECT_EQ(d.ticks(70), 70u);
  Snapshot down;
  d.update(down, 80);
  EXPECT_EQ(d.ticks(80), 70u);
  d.update(s, 90);  // back (same epoch: the connection broke, counters may have moved unseen)
  EXPECT_EQ(d.ticks(90), 90u);
  s.started_us = 300;  // restarted between two readings
  s.stats_reset_us = 300;
  d.update(s, 100);
  EXPECT_EQ(d.ticks(100), 100u);
}

// snmpd restarted: sysUpTime starts from 0 again, an older discontinuity reads 0, never a time
// ahead of sysUpTime; the next one is stamped on the new clock.
TEST(SnmpDiscontinuity, AgentRestartMakesOlderDiscontinuitiesZero) {
  Discontinuity d;
  Snapshot s;
  s.reachable = true;
  s.started_us = 100;
  s.stats_reset_us = 100;
  d.update(s, 5000);
  EXPECT_EQ(d.ticks(6000), 5000u);
  EXPECT_EQ(d.ticks(30), 0u);
  d.update(s, 40);
  EXPECT_EQ(d.ticks(50), 0u);
  s.stats_reset_us = 200;
  d.update(s, 60);
  EXPECT_EQ(d.ticks(70), 60u);
}

TEST(SnmpStateSource, ReadsOncePerCachePeriodAndNeverKeepsStaleRows) {
  int reads = 0;
  bool up = true;
  uint32_t ticks = 10;
  StateSource src(
      [&]() -> Result<Snapshot> {
        ++reads;
        if (!up) return make_error("cannot connect");
        return parse_snapshot(replies({service_json("10.0.0.1", 80, {})}));
      },
      [&] { return ticks; }, std::chrono::milliseconds(200));
  auto a = src.get();
  auto b = src.get();
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_TRUE(a->reachable);
  EXPECT_EQ(a->services.at(0).index, 1u);
  EXPECT_EQ(src.discontinuity_ticks(), 10u);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  up = false;
  ticks = 40;
  auto c = src.get();
  EXPECT_EQ(reads, 2);
  EXPECT_FALSE(c->reachable);
  EXPECT_TRUE(c->services.empty());
  EXPECT_TRUE(c->ports.empty());
  EXPECT_EQ(c->error, "cannot connect");
  EXPECT_EQ(a->services.size(), 1u);  // a holder of the old snapshot still has it
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  up = true;
  ticks = 70;
  auto d = src.get();
  EXPECT_TRUE(d->reachable);
  EXPECT_EQ(d->services.at(0).index, 1u);
  EXPECT_EQ(src.discontinuity_ticks(), 70u);
}

// DaemonReader against a socket nobody listens on: an error naming it, no exception, no hang.
TEST(SnmpDaemonReader, UnreachableDaemon) {
  DaemonReader r("/nonexistent/vsgate-snmp-test.sock", 200);
  auto s = r.read();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/vsgate-snmp-test.sock"), std::string::npos);
}

// ---- settings
struct Args {
  explicit Args(std::vector<std::string> a) : words(std::move(a)) {
    ptrs.push_back("vsgate-snmp");
    for (auto& w : words) ptrs.push_back(w.c_str());
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  const char* const* argv() const { return ptrs.data(); }
  std::vector<std::string> words;
  std::vector<const char*> ptrs;
};

Result<Invocation> parse(std::vector<std::string> words) {
  Args a(std::move(words));
  return parse_invocation(a.argc(), a.argv());
}

class SnmpOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vsgate-snmp-test.XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& text) {
    std::string path = dir_ + "/vsgate.conf";
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(SnmpOptions, Defaults) {
  auto inv = parse({});
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_EQ(inv->action, Action::run);
  EXPECT_EQ(inv->settings.agentx_socket, "/var/agentx/master");
  EXPECT_EQ(inv->settings.control_socket, "/run/vsgate/control.sock");
  EXPECT_EQ(inv->settings.cache_seconds, 1u);
  EXPECT_EQ(inv->settings.log_level, LogLevel::info);
}

TEST_F(SnmpOptions, CommandLine) {
  auto inv = parse({"--agentx-socket", "tcp:127.0.0.1:7050", "--control-socket", "/tmp/c.sock",
                    "--cache-seconds", "5", "--log-level", "DEBUG"});
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_EQ(inv->settings.agentx_socket, "tcp:127.0.0.1:7050");
  EXPECT_EQ(inv->settings.control_socket, "/tmp/c.sock");
  EXPECT_EQ(inv->settings.cache_seconds, 5u);
  EXPECT_EQ(inv->settings.log_level, LogLevel::debug);
  EXPECT_EQ(parse({"--help"})->action, Action::help);
  EXPECT_EQ(parse({"--version"})->action, Action::version);
}

TEST_F(SnmpOptions, BadCommandLines) {
  EXPECT_NE(parse({"--cache-seconds", "0"}).message().find("out of range (1..3600)"),
            std::string::npos);
  EXPECT_FALSE(parse({"--cache-seconds", "x"}).ok());
  EXPECT_NE(parse({"--agentx-socket", "master"}).message().find("--agentx-socket: 'master'"),
            std::string::npos);
  EXPECT_FALSE(parse({"--control-socket", "rel/c.sock"}).ok());
  EXPECT_FALSE(parse({"--log-level", "loud"}).ok());
  EXPECT_FALSE(parse({"--agentx"}).ok());  // no guessing of abbreviations
  EXPECT_NE(parse({"extra"}).message().find("unexpected argument 'extra'"), std::string::npos);
}

TEST_F(SnmpOptions, ConfigFileUnderCommandLine) {
  const std::string conf = write(
      "[global]\ncontrol_socket = /run/g/control.sock\n"
      "[snmp]\nagentx_socket = /tmp/ax/master\ncache_seconds = 3\nlog_level = warning\n");
  auto inv = parse({"--config", conf});
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_EQ(inv->settings.agentx_socket, "/tmp/ax/master");
  EXPECT_EQ(inv->settings.control_socket, "/run/g/control.sock");  // the daemon's
  EXPECT_EQ(inv->settings.cache_seconds, 3u);
  EXPECT_EQ(inv->settings.log_level, LogLevel::warning);
  EXPECT_EQ(inv->settings.config_path, conf);
  inv = parse({"--config", conf, "--cache-seconds", "9", "--agentx-socket", "tcp:h:705"});
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_EQ(inv->settings.cache_seconds, 9u);
  EXPECT_EQ(inv->settings.agentx_socket, "tcp:h:705");

  const std::string conf2 = write("[snmp]\ncontrol_socket = /run/s/c.sock\n");
  inv = parse({"--config", conf2});
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_EQ(inv->settings.control_socket, "/run/s/c.sock");
}

TEST_F(SnmpOptions, InvalidConfigFileIsReportedInFull) {
  const std::string conf = write("[snmp]\ncache_seconds = 0\nlog_level = loud\n");
  auto inv = parse({"--config", conf});
  ASSERT_FALSE(inv.ok());
  EXPECT_NE(inv.message().find("snmp.cache_seconds: '0'"), std::string::npos) << inv.message();
  EXPECT_NE(inv.message().find("snmp.log_level: 'loud'"), std::string::npos) << inv.message();
  EXPECT_FALSE(parse({"--config", dir_ + "/missing.conf"}).ok());
}

}  // namespace
}  // namespace vsgate::snmp
