// LbRegistry: what the workers see is immutable (an edit publishes a new snapshot and leaves the
// old one as it was), real-server slots are reused only once no table entry names them, and a
// reused slot starts its counters from zero.
#include "lb/registry.h"

#include <gtest/gtest.h>

namespace vsgate {
namespace {

ServiceKey svc(const char* vip, uint16_t port) {
  return {Proto::tcp, *IpAddr::parse(vip), L4Port::from_host(port)};
}
RealServerSpec real(const char* rip, uint16_t port, FwdMode fwd = FwdMode::nat,
                    uint32_t weight = 1) {
  return {{*IpAddr::parse(rip), L4Port::from_host(port)}, fwd, weight, {}, {}};
}
std::unique_ptr<const LbSnapshot> snapshot(LbRegistry& reg) {
  auto s = reg.snapshot();
  EXPECT_TRUE(s.ok()) << s.message();
  return std::move(s.value());
}
const RealServer& only_real(const LbRegistry& reg, const ServiceKey& k) {
  return *reg.find(k)->reals.front();
}

TEST(Registry, AnEditLeavesPublishedSnapshotsAsTheyWere) {
  LbRegistry reg(2);
  const ServiceKey k = svc("10.0.0.100", 80);
  ASSERT_TRUE(reg.add_service({k, SchedulerKind::wrr, {}}).ok());
  ASSERT_TRUE(reg.add_real(k, real("10.0.1.2", 80, FwdMode::nat, 3)).ok());
  auto before = snapshot(reg);
  const uint32_t slot = only_real(reg, k).slot;
  ASSERT_NE(before->real(slot), nullptr);

  RealServerSpec edit{{*IpAddr::parse("10.0.1.2"), L4Port::from_host(80)}, FwdMode::dr, 7, {}, {}};
  ASSERT_TRUE(reg.edit_real(k, edit).ok());
  auto after = snapshot(reg);

  EXPECT_EQ(before->real(slot)->fwd, FwdMode::nat) << "a worker reading the old snapshot";
  EXPECT_EQ(before->real(slot)->weight, 3u);
  EXPECT_EQ(before->services.front().sched->dests().front().weight, 3u);
  EXPECT_EQ(after->real(slot)->fwd, FwdMode::dr);
  EXPECT_EQ(after->real(slot)->weight, 7u);
  EXPECT_EQ(after->services.front().sched->dests().front().weight, 7u);
  EXPECT_NE(before->services.front().sched_version, after->services.front().sched_version);
}

// The registry takes the family-generic keys and is where they become the workers' compact
// IPv4 ones: it refuses IPv6 with the model's message, and the snapshot holds the IPv4 keys.
TEST(Registry, TakesGenericKeysAndPublishesCompactIpv4Ones) {
  LbRegistry reg(1);
  EXPECT_NE(reg.add_service({svc("2001:db8::100", 80), SchedulerKind::rr, {}})
                .message()
                .find(kIpv6NotSupported),
            std::string::npos);
  const ServiceKey k = svc("10.0.0.100", 80);
  ASSERT_TRUE(reg.add_service({k, SchedulerKind::rr, {}}).ok());
  EXPECT_NE(reg.add_real(k, real("2001:db8::11", 80)).message().find("address family"),
            std::string::npos);
  EXPECT_NE(
      reg.add_laddr(k, *IpAddr::parse("2001:db8::1"), "dpdk1", 1).message().find("address family"),
      std::string::npos);
  ASSERT_TRUE(reg.add_real(k, real("10.0.1.2", 8080)).ok());
  ASSERT_TRUE(reg.add_laddr(k, *IpAddr::parse("10.0.1.1"), "dpdk1", 1).ok());
  auto snap = snapshot(reg);
  ASSERT_EQ(snap->services.size(), 1u);
  EXPECT_EQ(snap->services[0].key,
            (Ipv4ServiceKey{Proto::tcp, *Ipv4Addr::parse("10.0.0.100"), L4Port::from_host(80)}));
  EXPECT_EQ(snap->real(only_real(reg, k).slot)->key,
            (Ipv4RealServerKey{*Ipv4Addr::parse("10.0.1.2"), L4Port::from_host(8080)}));
  EXPECT_TRUE(snap->is_vip(Ipv4Addr::parse("10.0.0.100")->be));
  EXPECT_TRUE(snap->is_laddr(Ipv4Addr::parse("10.0.1.1")->be));
  EXPECT_EQ(reg.del_laddr(k, *IpAddr::parse("2001:db8::1")).message(), "No such local address");
  EXPECT_TRUE(reg.del_laddr(k, *IpAddr::parse("10.0.1.1")).ok());
}

// The registry refuses what the model refuses: one real server too many for a service, with
// the model's words (check_real_count), and changes nothing. Up to the limit, every scheduler
// builds its table and the snapshot holds every real server.
TEST(Registry, RefusesOneRealServerTooManyPerServiceWithTheModelsMessage) {
  LbRegistry reg(2);
  const ServiceKey k = svc("10.0.0.100", 80);
  ASSERT_TRUE(reg.add_service({k, SchedulerKind::mh, {}}).ok());
  auto key = [](uint32_t i) {
    return RealServerKey{IpAddr::from_v4(Ipv4Addr::from_host((10u << 24) | (1u << 16) | i)),
                         L4Port::from_host(80)};
  };
  for (uint32_t i = 0; i < kMaxRealServersPerService; ++i)
    ASSERT_TRUE(reg.add_real(k, {key(i), FwdMode::nat, i % 3, {}, {}}).ok()) << i;
  const auto before = reg.generation();
  const Status st = reg.add_real(k, {key(kMaxRealServersPerService), FwdMode::nat, 1, {}, {}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            check_real_count(key(kMaxRealServersPerService), kMaxRealServersPerService)->message());
  EXPECT_NE(st.message().find("a service has at most 4096 real servers"), std::string::npos);
  EXPECT_EQ(reg.generation(), before) << "a refusal changes nothing";
  EXPECT_EQ(reg.find(k)->reals.size(), kMaxRealServersPerService);
  for (SchedulerKind kind : {SchedulerKind::rr, SchedulerKind::wrr, SchedulerKind::lc,
                             SchedulerKind::wlc, SchedulerKind::sh, SchedulerKind::mh}) {
    ASSERT_TRUE(reg.edit_service({k, kind, {}}).ok());
    auto s = snapshot(reg);
    ASSERT_EQ(s->services.size(), 1u);
    EXPECT_EQ(s->services[0].reals.size(), kMaxRealServersPerService) << scheduler_name(kind);
    EXPECT_EQ(s->services[0].sched->dests().size(), kMaxRealServersPerService);
    if (kind == SchedulerKind::wrr || kind == SchedulerKind::sh || kind == SchedulerKind::mh) {
      EXPECT_FALSE(s->services[0].sched->table().empty()) << scheduler_name(kind);
    }
  }
}

TEST(Registry, SchedulerTablesAreRebuiltOnlyForServicesThatChanged) {
  LbRegistry reg(1);
  const ServiceKey a = svc("10.0.0.100", 80), b = svc("10.0.0.101", 80);
  for (const auto& k : {a, b}) {
    ASSERT_TRUE(reg.add_service({k, SchedulerKind::mh, {}}).ok());
    ASSERT_TRUE(reg.add_real(k, real("10.0.1.2", 80)).ok());
  }
  auto first = snapshot(reg);
  ASSERT_TRUE(reg.add_real(b, real("10.0.1.3", 80)).ok());
  auto second = snapshot(reg);
  ASSERT_EQ(first->services.size(), 2u);
  ASSERT_EQ(first->services[0].key, to_ipv4(a));
  EXPECT_EQ(first->services[0].sched, second->services[0].sched) << "a is unchanged: same table";
  EXPECT_EQ(first->services[0].sched_version, second->services[0].sched_version);
  EXPECT_NE(first->services[1].sched, second->services[1].sched);
  EXPECT_EQ(second->services[1].sched->dests().size(), 2u);
  reg.set_timeouts(10, 0, 0);
  auto third = snapshot(reg);
  EXPECT_EQ(third->services[1].sched, second->services[1].sched) << "timeouts need no rebuild";
}

TEST(Registry, ARemovedRealServersSlotWaitsForItsLastConnection) {
  LbRegistry reg(2);
  const ServiceKey k = svc("10.0.0.100", 80);
  ASSERT_TRUE(reg.add_service({k, SchedulerKind::rr, {}}).ok());
  ASSERT_TRUE(reg.add_real(k, real("10.0.1.2", 80)).ok());
  const uint32_t slot = only_real(reg, k).slot;
  // Worker 1 holds a connection to it, and has counted traffic.
  RealServerCounters& c = reg.counters().at(1, slot);
  c.live.add(1);
  c.inactive.add(1);
  c.conns.inc();
  c.inpkts.add(5);

  ASSERT_TRUE(reg.del_real(k, only_real(reg, k).key).ok());
  const uint64_t removed_in = reg.generation();
  auto snap = snapshot(reg);
  ASSERT_NE(snap->real(slot), nullptr) << "the connection still forwards to it";
  EXPECT_EQ(snap->real(slot)->key.ip.str(), "10.0.1.2");
  EXPECT_TRUE(snap->services.front().reals.empty()) << "but no new connection goes there";

  // Every worker has passed the removal, but the connection is still there.
  reg.release_removed(removed_in);
  ASSERT_TRUE(reg.add_real(k, real("10.0.1.3", 80)).ok());
  EXPECT_NE(only_real(reg, k).slot, slot) << "slot reused while a connection names it";
  ASSERT_TRUE(reg.del_real(k, only_real(reg, k).key).ok());

  // The connection goes (one store), but a worker may still hold a snapshot from before the
  // removal and create a new one: not yet.
  c.inactive.add(-1);
  c.live.add(-1);
  reg.release_removed(removed_in - 1);
  ASSERT_TRUE(reg.add_real(k, real("10.0.1.4", 80)).ok());
  EXPECT_NE(only_real(reg, k).slot, slot) << "reused within the grace period";
  ASSERT_TRUE(reg.del_real(k, only_real(reg, k).key).ok());

  reg.release_removed(reg.generation());
  ASSERT_TRUE(reg.add_real(k, real("10.0.1.5", 80)).ok());
  const RealServer& reused = only_real(reg, k);
  EXPECT_EQ(reused.slot, slot);
  EXPECT_EQ(reg.stats(reused).conns, 0u) << "the new real server does not inherit counts";
  EXPECT_EQ(reg.stats(reused).inpkts, 0u);
  auto later = snapshot(reg);
  EXPECT_EQ(later->real(slot)->key.ip.str(), "10.0.1.5");
  EXPECT_EQ(snap->real(slot)->key.ip.str(), "10.0.1.2") << "old snapshots keep what they said";
}

TEST(Registry, RemovedRealServersTrafficStillCountsForTheService) {
  LbRegistry reg(1);
  const ServiceKey k = svc("10.0.0.100", 80);
  ASSERT_TRUE(reg.add_service({k, SchedulerKind::rr, {}}).ok());
  ASSERT_TRUE(reg.add_real(k, real("10.0.1.2", 80)).ok());
  reg.counters().at(0, only_real(reg, k).slot).inpkts.add(9);
  ASSERT_TRUE(reg.del_real(k, only_real(reg, k).key).ok());
  EXPECT_EQ(reg.find(k)->zero_removed.inpkts, 9u);
}

TEST(Registry, LoweringTheUpperThresholdKeepsTheOverloadFlagRaisingItClearsIt) {
  LbRegistry reg(1);
  const ServiceKey k = svc("10.0.0.100", 80);
  ASSERT_TRUE(reg.add_service({k, SchedulerKind::rr, {}}).ok());
  RealServerSpec r = real("10.0.1.2", 80);
  r.upper = 2;
  ASSERT_TRUE(reg.add_real(k, r).ok());
  const uint32_t slot = only_real(reg, k).slot;
  reg.counters().at(0, slot).inactive.add(2);
  reg.update_overload();
  EXPECT_TRUE(reg.counters().overloaded(slot));
  r.upper = 1;
  ASSERT_TRUE(reg.edit_real(k, r).ok());
  EXPECT_TRUE(reg.counters().overloaded(slot));
  r.upper = 10;
  ASSERT_TRUE(reg.edit_real(k, r).ok());
  EXPECT_FALSE(reg.counters().overloaded(slot)) << "IPVS: a raised upper threshold clears it";
}

}  // namespace
}  // namespace vsgate
