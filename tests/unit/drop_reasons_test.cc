// Drop reasons: each module declares its own (ipv4/drop_reasons.h, lb/drop_reasons.h), lcore/
// counts them by id, and the names users see (lcore.stats "dropped", vsgatectl, the packet
// tests) are composed in app/drop_reasons.h. The names and their order are an interface:
// scripts and the e2e tests read them.
#include "app/drop_reasons.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace vsgate {

// A module that comes later (a SYN proxy, say) adds its set after the load balancer's
// without touching lcore/.
enum class LaterDrop : uint8_t { first_thing, second_thing, count };
template <>
struct DropReasonSet<LaterDrop> {
  static constexpr size_t first = kDropReasonsEnd<LbDrop>;
  static constexpr std::array<std::string_view, 2> names{"later_first_thing", "later_second_thing"};
};

namespace {

// The names as they were when one enum in lcore/ listed them all, and the reasons added since at
// the end: a rename or a reorder must show here first.
const std::vector<std::string> kExpectedNames{"runt",
                                              "ipv4_truncated",
                                              "ipv4_bad_header",
                                              "ipv4_bad_checksum",
                                              "l4_bad_header",
                                              "lb_fragment",
                                              "lb_vip_no_service",
                                              "lb_tcp_no_conn",
                                              "lb_no_dest",
                                              "lb_conn_table_full",
                                              "lb_no_local_port",
                                              "lb_no_neighbour",
                                              "lb_too_big",
                                              "lb_src_port_zero",
                                              "lb_icmp_bad_checksum",
                                              "lb_icmp_fragment",
                                              "lb_icmp_rate_limited"};

struct Reason {
  DropId id;
  std::string_view name;
};

template <DropReasonEnum E>
void add_all(std::vector<Reason>& out) {
  for (size_t r = 0; r < static_cast<size_t>(E::count); ++r)
    out.push_back({drop_id(static_cast<E>(r)), drop_name(static_cast<E>(r))});
}

std::vector<Reason> every_reason() {
  std::vector<Reason> all;
  add_all<Ipv4Drop>(all);
  add_all<LbDrop>(all);
  return all;
}

TEST(DropReasons, ComposedNamesAreThoseUsersKnow) {
  ASSERT_EQ(kDropReasonNames.size(), kExpectedNames.size());
  for (size_t i = 0; i < kExpectedNames.size(); ++i)
    EXPECT_EQ(kDropReasonNames[i], kExpectedNames[i]) << "id " << i;
}

TEST(DropReasons, EveryReasonHasItsOwnIdAndName) {
  std::set<size_t> ids;
  std::set<std::string_view> names;
  for (const Reason& r : every_reason()) {
    const auto id = static_cast<size_t>(r.id);
    EXPECT_LT(id, kMaxDropReasons) << r.name;
    EXPECT_NE(r.id, kNoDrop) << r.name;
    EXPECT_TRUE(ids.insert(id).second) << "id " << id << " twice (" << r.name << ")";
    EXPECT_FALSE(r.name.empty()) << "id " << id;
    EXPECT_TRUE(names.insert(r.name).second) << r.name << " twice";
    // The module's name for it is the one reported under its id.
    EXPECT_EQ(drop_reason_name(r.id), r.name);
  }
  EXPECT_EQ(ids.size(), kDropReasonNames.size());  // every id reported, none left out
  EXPECT_EQ(names.size(), kExpectedNames.size());
}

TEST(DropReasons, SetsFollowOneAnother) {
  static_assert(DropReasonSet<Ipv4Drop>::first == 0);
  static_assert(DropReasonSet<LbDrop>::first == kDropReasonsEnd<Ipv4Drop>);
  static_assert(kDropReasonsEnd<LbDrop> == kDropReasonNames.size());
  static_assert(kDropReasonNames.size() <= kMaxDropReasons);
  // drop_id() is a constant: usable where a constant is required.
  static_assert(drop_id(Ipv4Drop::runt) == DropId{0});
  static_assert(drop_id(LbDrop::vip_no_service) == DropId{6});
  static_assert(drop_id(LbDrop::too_big) == DropId{12});
  EXPECT_EQ(drop_name(Ipv4Drop::fragment), "lb_fragment");
  EXPECT_EQ(drop_name(LbDrop::no_local_port), "lb_no_local_port");
  EXPECT_EQ(drop_reason_name(kNoDrop), "");
}

TEST(DropReasons, ALaterModuleAddsItsSetWithoutChangingLcore) {
  static_assert(drop_reason_set_fits<LaterDrop>());
  constexpr auto names = drop_reason_names<Ipv4Drop, LbDrop, LaterDrop>();
  ASSERT_EQ(names.size(), kExpectedNames.size() + 2);
  for (size_t i = 0; i < kExpectedNames.size(); ++i) EXPECT_EQ(names[i], kExpectedNames[i]);
  EXPECT_EQ(names[static_cast<size_t>(drop_id(LaterDrop::second_thing))], "later_second_thing");

  auto s = std::make_unique<WorkerStats>();
  s->drop(LaterDrop::second_thing);
  s->drop(LbDrop::too_big);
  s->drop(drop_id(LbDrop::too_big));  // what the worker does with a Decision's reason
  EXPECT_EQ(s->dropped[static_cast<size_t>(drop_id(LaterDrop::second_thing))].get(), 1u);
  EXPECT_EQ(s->dropped[static_cast<size_t>(drop_id(LbDrop::too_big))].get(), 2u);
  EXPECT_EQ(s->dropped_total(), 3u);
}

}  // namespace
}  // namespace vsgate
