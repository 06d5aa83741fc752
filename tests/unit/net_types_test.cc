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
