#include "common/net_types.h"

#include <gtest/gtest.h>

using namespace std::string_view_literals;

namespace vsgate {
namespace {

TEST(Ipv4Addr, ParsesDottedQuadIntoNetworkOrder) {
  auto a = Ipv4Addr::parse("10.0.0.1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host(), 0x0a000001u);
  const auto* b = reinterpret_cast<const uint8_t*>(&a->be);
  EXPECT_EQ(b[0], 10);  // first byte on the wire
  EXPECT_EQ(b[3], 1);
  EXPECT_EQ(a->str(), "10.0.0.1");
}

TEST(Ipv4Addr, RejectsEverythingElse) {
  for (auto bad : {""sv, "10.0.0"sv, "10.0.0.256"sv, "10.0.0.1 "sv, " 10.0.0.1"sv, "a.b.c.d"sv,
                   "10.0.0.1/24"sv, "1.2.3.4.5"sv, "10.0.0.1\0junk"sv, "0x0a.0.0.1"sv})
    EXPECT_FALSE(Ipv4Addr::parse(bad)) << bad;
}

TEST(Ipv4Prefix, ParsesAndNormalizes) {
  auto p = Ipv4Prefix::parse("10.0.0.77/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->len, 24);
  EXPECT_EQ(p->str(), "10.0.0.77/24");
  EXPECT_EQ(p->network().str(), "10.0.0.0");
  EXPECT_TRUE(p->contains(*Ipv4Addr::parse("10.0.0.200")));
  EXPECT_FALSE(p->contains(*Ipv4Addr::parse("10.0.1.1")));
  EXPECT_EQ(Ipv4Prefix::parse("10.1.2.3")->len, 32);
  auto any = Ipv4Prefix::parse("0.0.0.0/0");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->contains(*Ipv4Addr::parse("8.8.8.8")));
  for (auto bad : {"10.0.0.0/33"sv, "10.0.0.0/"sv, "10.0.0.0/-1"sv, "10.0.0.0/2a"sv, "/24"sv})
    EXPECT_FALSE(Ipv4Prefix::parse(bad)) << bad;
}

TEST(MacAddr, ParsesAndFormats) {
  auto m = MacAddr::parse("02:AB:cd:00:00:ff");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->str(), "02:ab:cd:00:00:ff");
  EXPECT_FALSE(m->is_zero());
  EXPECT_TRUE(MacAddr::parse("00:00:00:00:00:00")->is_zero());
  for (auto bad :
       {"02:ab:cd:00:00"sv, "02-ab-cd-00-00-ff"sv, "02:ab:cd:00:00:fg"sv, "02:ab:cd:00:00:ff:"sv})
    EXPECT_FALSE(MacAddr::parse(bad)) << bad;
}

TEST(L4Port, NetworkOrder) {
  auto p = L4Port::from_host(80);
  EXPECT_EQ(p.host(), 80);
  EXPECT_EQ(p.be, 0x5000);
}

}  // namespace
}  // namespace vsgate

namespace vsgate {
namespace {

TEST(IpAddr, HoldsIpv4AsTheDataPlaneKeysIt) {
  auto a = IpAddr::parse("10.0.0.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4(), *Ipv4Addr::parse("10.0.0.1"));
  EXPECT_EQ(a->str(), "10.0.0.1");
  EXPECT_EQ(IpAddr::from_v4(*Ipv4Addr::parse("192.168.7.9")).str(), "192.168.7.9");
  EXPECT_EQ(a->size(), 4u);
}

TEST(IpAddr, ParsesIpv6InCanonicalForm) {
  auto a = IpAddr::parse("2001:DB8:0:0:0:0:0:1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v6());
  EXPECT_EQ(a->str(), "2001:db8::1");  // RFC 5952
  EXPECT_EQ(a->bytes[0], 0x20);
  EXPECT_EQ(a->bytes[15], 1);
  EXPECT_EQ(IpAddr::parse("::ffff:10.0.0.1")->str(), "::ffff:10.0.0.1");
  EXPECT_TRUE(IpAddr::parse("::ffff:10.0.0.1")->is_v6()) << "mapped forms stay IPv6";
  for (auto bad : {""sv, "2001:db8::1::2"sv, "2001:db8:::1"sv, "[2001:db8::1]"sv, "fe80::1%eth0"sv,
                   "2001:db8::1\0x"sv, "10.0.0.1/24"sv, "2001:db8::g"sv})
    EXPECT_FALSE(IpAddr::parse(bad)) << bad;
}

TEST(IpAddr, OrdersIpv4BeforeIpv6AndNumerically) {
  EXPECT_LT(*IpAddr::parse("10.0.0.2"), *IpAddr::parse("10.0.0.10"));
  EXPECT_LT(*IpAddr::parse("255.255.255.255"), *IpAddr::parse("::1"));
  EXPECT_LT(*IpAddr::parse("2001:db8::2"), *IpAddr::parse("2001:db8::10"));
}

TEST(IpAddr, UnicastExcludesWhatCannotBeAHost) {
  for (auto good : {"10.0.0.1"sv, "192.0.2.7"sv, "2001:db8::1"sv, "fd00::5"sv})
    EXPECT_TRUE(IpAddr::parse(good)->is_unicast()) << good;
  for (auto bad : {"0.0.0.0"sv, "0.1.2.3"sv, "127.0.0.1"sv, "224.0.0.5"sv, "240.0.0.1"sv,
                   "255.255.255.255"sv, "::"sv, "::1"sv, "ff02::1"sv, "fe80::1"sv})
    EXPECT_FALSE(IpAddr::parse(bad)->is_unicast()) << bad;
}

TEST(IpPrefix, BothFamilies) {
  auto p = IpPrefix::parse("10.0.0.77/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->network().str(), "10.0.0.0/24");
  EXPECT_TRUE(p->contains(*IpAddr::parse("10.0.0.200")));
  EXPECT_FALSE(p->contains(*IpAddr::parse("10.0.1.1")));
  EXPECT_FALSE(p->contains(*IpAddr::parse("::a00:1"))) << "never across families";
  auto q = IpPrefix::parse("2001:db8:aa::1/45");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->network().str(), "2001:db8:a8::/45");
  EXPECT_TRUE(q->contains(*IpAddr::parse("2001:db8:af::9")));
  EXPECT_FALSE(q->contains(*IpAddr::parse("2001:db8:b0::9")));
  EXPECT_EQ(IpPrefix::parse("2001:db8::1")->len, 128);
  EXPECT_EQ(IpPrefix::parse("10.1.2.3")->len, 32);
  EXPECT_TRUE(IpPrefix::parse("::/0")->contains(*IpAddr::parse("2001:db8::1")));
  for (auto bad : {"10.0.0.0/33"sv, "2001:db8::/129"sv, "2001:db8::/"sv, "/64"sv})
    EXPECT_FALSE(IpPrefix::parse(bad)) << bad;
}

TEST(Endpoint, ParsesAndPrintsBothFamilies) {
  auto a = Endpoint::parse("10.0.0.1:80");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port.host(), 80);
  EXPECT_EQ(a->str(), "10.0.0.1:80");
  auto b = Endpoint::parse("[2001:DB8::1]:443");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->addr.is_v6());
  EXPECT_EQ(b->str(), "[2001:db8::1]:443");
  for (auto bad :
       {"10.0.0.1"sv, "10.0.0.1:0"sv, "10.0.0.1:65536"sv, "10.0.0.1:"sv, "2001:db8::1:80"sv,
        "[2001:db8::1]"sv, "[2001:db8::1]80"sv, "[10.0.0.1:80"sv, ":80"sv})
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
}

}  // namespace
}  // namespace vsgate
