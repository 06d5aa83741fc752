// The values vsgate-snmp's table handlers put into responses (net-snmp types), Counter64 above
// 2^32 in particular, and the binary's command line.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include "mib.h"
#include "values.h"

namespace vsgate::snmp {
namespace {

// A variable as a handler fills it; freed afterwards.
struct Var {
  Var() { v = snmp_varlist_add_variable(&v, kOid, 3, ASN_NULL, nullptr, 0); }
  ~Var() { snmp_free_varbind(v); }
  netsnmp_variable_list* v = nullptr;
  static constexpr oid kOid[] = {1, 3, 6};
};

// The value as it travels: BER-encoded and decoded again, as the manager sees it.
uint64_t over_the_wire(const netsnmp_variable_list* var) {
  EXPECT_EQ(var->type, ASN_COUNTER64);
  u_char buf[64];
  size_t len = sizeof buf;
  EXPECT_NE(
      asn_build_unsigned_int64(buf, &len, ASN_COUNTER64, var->val.counter64, sizeof(counter64)),
      nullptr);
  const size_t used = sizeof buf - len;
  size_t in_len = used;
  u_char type = 0;
  counter64 back{};
  EXPECT_NE(asn_parse_unsigned_int64(buf, &in_len, &type, &back, sizeof back), nullptr);
  EXPECT_EQ(type, ASN_COUNTER64);
  return from_counter64(back);
}

uint32_t u32_of(const netsnmp_variable_list* var) {
  return static_cast<uint32_t>(*var->val.integer);
}

TEST(SnmpValues, Counter64KeepsEveryBit) {
  for (uint64_t v :
       {uint64_t{0}, uint64_t{1}, uint64_t{0xffffffff}, uint64_t{0x100000000},
        uint64_t{0x100000001}, uint64_t{5000000000}, uint64_t{0x123456789abcdef0}, UINT64_MAX}) {
    const counter64 c = to_counter64(v);
    EXPECT_EQ(c.high, v >> 32) << v;
    EXPECT_EQ(c.low, v & 0xffffffffu) << v;
    EXPECT_EQ(from_counter64(c), v);
    Var var;
    ASSERT_EQ(set_counter64(var.v, v), 0);
    EXPECT_EQ(over_the_wire(var.v), v) << v;
  }
}

TEST(SnmpValues, Gauge32Saturates) {
  EXPECT_EQ(saturate32(7), 7u);
  EXPECT_EQ(saturate32(0xffffffffull), 0xffffffffu);
  EXPECT_EQ(saturate32(0x100000000ull), 0xffffffffu);
  Var var;
  ASSERT_EQ(set_unsigned(var.v, ASN_GAUGE, 0x100000005ull), 0);
  EXPECT_EQ(var.v->type, ASN_GAUGE);
  EXPECT_EQ(u32_of(var.v), 0xffffffffu);
}

// What the port table handler answers for a port whose byte counter crossed 2^32.
TEST(SnmpColumns, PortRowAboveTwoToThe32) {
  PortRow p;
  p.index = 1;
  p.name = "dpdk0";
  p.driver = "net_af_xdp";
  p.mac = {2, 0, 0, 0, 0, 1};
  p.link_up = true;
  p.speed_mbps = 10000;
  p.ipackets = 0x1;
  p.ibytes = 0x1234567890ull;  // > 2^32
  p.rx_nombuf = 0xffffffffffull;
  Var v;
  ASSERT_TRUE(port_column(&p, 2, v.v));
  EXPECT_EQ(v.v->type, ASN_OCTET_STR);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(v.v->val.string), v.v->val_len), "dpdk0");
  ASSERT_TRUE(port_column(&p, 4, v.v));
  ASSERT_EQ(v.v->val_len, 6u);
  EXPECT_EQ(v.v->val.string[5], 1);
  ASSERT_TRUE(port_column(&p, 5, v.v));
  EXPECT_EQ(*v.v->val.integer, 1);  // up(1)
  ASSERT_TRUE(port_column(&p, 6, v.v));
  EXPECT_EQ(u32_of(v.v), 10000u);
  ASSERT_TRUE(port_column(&p, 9, v.v));  // vsgatePortIBytes
  EXPECT_EQ(over_the_wire(v.v), 0x1234567890ull);
  ASSERT_TRUE(port_column(&p, 14, v.v));  // vsgatePortRxNoMbuf
  EXPECT_EQ(over_the_wire(v.v), 0xffffffffffull);
  EXPECT_FALSE(port_column(&p, 15, v.v));
  EXPECT_FALSE(port_column(&p, 1, v.v));  // the index is not-accessible
}

TEST(SnmpColumns, LcoreRow) {
  LcoreRow l;
  l.lcore = 3;
  l.rx_iterations = 0x200000000ull;
  l.dropped = 42;
  Var v;
  ASSERT_TRUE(lcore_column(&l, 2, v.v));
  EXPECT_EQ(u32_of(v.v), 3u);
  ASSERT_TRUE(lcore_column(&l, 3, v.v));
  EXPECT_EQ(over_the_wire(v.v), 0x200000000ull);
  ASSERT_TRUE(lcore_column(&l, 12, v.v));
  EXPECT_EQ(over_the_wire(v.v), 42u);
  EXPECT_FALSE(lcore_column(&l, 13, v.v));
}

TEST(SnmpColumns, VirtualAndRealServerRows) {
  ServiceRow s;
  s.proto = Protocol::udp;
  s.addr = *IpAddr::parse("10.0.0.100");
  s.port = 53;
  s.scheduler = "mh";
  s.persistence = 300;
  s.stats = {1, 2, 3, 0x300000000ull, 5};
  s.rates = {6, 7, 8, 0x500000000ull, 10};
  s.reals.resize(2);
  Var v;
  ASSERT_TRUE(service_column(&s, 2, v.v));
  EXPECT_EQ(*v.v->val.integer, 2);  // udp(2)
  ASSERT_TRUE(service_column(&s, 3, v.v));
  EXPECT_EQ(*v.v->val.integer, 1);  // ipv4(1)
  ASSERT_TRUE(service_column(&s, 4, v.v));
  ASSERT_EQ(v.v->val_len, 4u);
  EXPECT_EQ(v.v->val.string[3], 100);
  ASSERT_TRUE(service_column(&s, 5, v.v));
  EXPECT_EQ(u32_of(v.v), 53u);
  ASSERT_TRUE(service_column(&s, 8, v.v));
  EXPECT_EQ(u32_of(v.v), 2u);
  ASSERT_TRUE(service_column(&s, 9, v.v));  // StatsConns
  EXPECT_EQ(over_the_wire(v.v), 1u);
  ASSERT_TRUE(service_column(&s, 12, v.v));  // StatsInBytes
  EXPECT_EQ(over_the_wire(v.v), 0x300000000ull);
  ASSERT_TRUE(service_column(&s, 17, v.v));  // RateInBPS: Gauge32, saturated
  EXPECT_EQ(v.v->type, ASN_GAUGE);
  EXPECT_EQ(u32_of(v.v), 0xffffffffu);
  ASSERT_TRUE(service_column(&s, 22, v.v));  // RateInBPS64: in full
  EXPECT_EQ(over_the_wire(v.v), 0x500000000ull);
  ASSERT_TRUE(service_column(&s, 23, v.v));  // RateOutBPS64
  EXPECT_EQ(over_the_wire(v.v), 10u);
  EXPECT_FALSE(service_column(&s, 24, v.v));

  RealRow r;
  r.addr = *IpAddr::parse("10.0.1.11");
  r.port = 8080;
  r.fwd = Fwd::tunnel;
  r.weight = 3;
  r.active = 4;
  r.inactive = 5;
  r.stats.outbytes = 0x987654321ull;
  ASSERT_TRUE(real_column(&r, 4, v.v));
  EXPECT_EQ(u32_of(v.v), 8080u);
  ASSERT_TRUE(real_column(&r, 5, v.v));
  EXPECT_EQ(*v.v->val.integer, 4);  // tunnel(4)
  ASSERT_TRUE(real_column(&r, 6, v.v));
  EXPECT_EQ(u32_of(v.v), 3u);
  ASSERT_TRUE(real_column(&r, 9, v.v));
  EXPECT_EQ(u32_of(v.v), 4u);
  ASSERT_TRUE(real_column(&r, 10, v.v));
  EXPECT_EQ(u32_of(v.v), 5u);
  ASSERT_TRUE(real_column(&r, 15, v.v));  // StatsOutBytes
  EXPECT_EQ(over_the_wire(v.v), 0x987654321ull);
  ASSERT_TRUE(real_column(&r, 25, v.v));
  EXPECT_FALSE(real_column(&r, 26, v.v));
}

// InetAddressType/InetAddress (RFC 4001): ipv4(1) with 4 bytes, ipv6(2) with 16.
TEST(SnmpColumns, Ipv6AddressesAreIpv6InetAddresses) {
  ServiceRow s;
  s.addr = *IpAddr::parse("2001:db8::100");
  Var v;
  ASSERT_TRUE(service_column(&s, 3, v.v));
  EXPECT_EQ(*v.v->val.integer, 2);  // ipv6(2)
  ASSERT_TRUE(service_column(&s, 4, v.v));
  ASSERT_EQ(v.v->val_len, 16u);
  EXPECT_EQ(
      std::vector<uint8_t>(v.v->val.string, v.v->val.string + 16),
      (std::vector<uint8_t>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00}));

  RealRow r;
  r.addr = *IpAddr::parse("fe80::1");
  ASSERT_TRUE(real_column(&r, 2, v.v));
  EXPECT_EQ(*v.v->val.integer, 2);  // ipv6(2)
  ASSERT_TRUE(real_column(&r, 3, v.v));
  ASSERT_EQ(v.v->val_len, 16u);
  EXPECT_EQ(v.v->val.string[0], 0xfe);
  EXPECT_EQ(v.v->val.string[15], 1);
  r.addr = *IpAddr::parse("10.0.1.11");
  ASSERT_TRUE(real_column(&r, 2, v.v));
  EXPECT_EQ(*v.v->val.integer, 1);  // ipv4(1)
  ASSERT_TRUE(real_column(&r, 3, v.v));
  ASSERT_EQ(v.v->val_len, 4u);
  EXPECT_EQ(v.v->val.string[3], 11);
}

// ---- the binary's command line
struct RunResult {
  int status = -1;
  std::string out;
};
RunResult run(const std::string& args) {
  RunResult r;
  FILE* p = popen((std::string(VSGATE_SNMP_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(SnmpBinary, HelpVersionAndBadOptions) {
  RunResult r = run("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* opt : {"--agentx-socket", "--control-socket", "--cache-seconds", "--log-level",
                          "--config", "--version"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt << " missing from:\n" << r.out;
  r = run("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind(std::string("vsgate-snmp ") + VSGATE_VERSION, 0), 0u) << r.out;
  r = run("--cache-seconds 0");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--cache-seconds"), std::string::npos) << r.out;
  r = run("--bogus");
  EXPECT_EQ(r.status, 2);
}

}  // namespace
}  // namespace vsgate::snmp
