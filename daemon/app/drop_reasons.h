// Every module's drop reasons, in id order: the names under "dropped" in lcore.stats (and so in
// vsgatectl and VSGATE-MIB's drop total), in vsgate-bench and in the packet tests. lcore/
// counts drops by id only; a module that drops packets declares its reasons (ipv4/drop_reasons.h,
// lb/drop_reasons.h) and adds its set here, after the one its ids follow.
#pragma once

#include <cstddef>
#include <string_view>

#include "ipv4/drop_reasons.h"
#include "lb/drop_reasons.h"
#include "lcore/io_stats.h"

namespace vsgate {

inline constexpr auto kDropReasonNames = drop_reason_names<Ipv4Drop, LbDrop>();

// The name of a counted reason; "" for kNoDrop or an id no module declares.
constexpr std::string_view drop_reason_name(DropId id) {
  const auto i = static_cast<size_t>(id);
  return i < kDropReasonNames.size() ? kDropReasonNames[i] : std::string_view{};
}

}  // namespace vsgate
