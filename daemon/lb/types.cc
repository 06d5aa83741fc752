#include "lb/types.h"

namespace vsgate {

std::string_view proto_name(Proto p) { return p == Proto::tcp ? "TCP" : "UDP"; }

std::string_view fwd_mode_name(FwdMode m) {
  switch (m) {
    case FwdMode::fullnat:
      return "FullNat";
    case FwdMode::nat:
      return "Masq";
    case FwdMode::dr:
      return "Route";
    case FwdMode::tunnel:
      return "Tunnel";
  }
  return "?";
}

std::string_view scheduler_name(SchedulerKind k) {
  switch (k) {
    case SchedulerKind::rr:
      return "rr";
    case SchedulerKind::wrr:
      return "wrr";
    case SchedulerKind::lc:
      return "lc";
    case SchedulerKind::wlc:
      return "wlc";
    case SchedulerKind::sh:
      return "sh";
    case SchedulerKind::mh:
      return "mh";
  }
  return "?";
}

std::optional<SchedulerKind> parse_scheduler(std::string_view n) {
  for (auto k : {SchedulerKind::rr, SchedulerKind::wrr, SchedulerKind::lc, SchedulerKind::wlc,
                 SchedulerKind::sh, SchedulerKind::mh})
    if (n == scheduler_name(k)) return k;
  return std::nullopt;
}

std::optional<FwdMode> parse_fwd_mode(std::string_view n) {
  if (n == "fullnat") return FwdMode::fullnat;
  if (n == "nat") return FwdMode::nat;
  if (n == "dr") return FwdMode::dr;
  if (n == "tunnel") return FwdMode::tunnel;
  return std::nullopt;
}

std::string_view fwd_mode_word(FwdMode m) {
  switch (m) {
    case FwdMode::fullnat:
      return "fullnat";
    case FwdMode::nat:
      return "nat";
    case FwdMode::dr:
      return "dr";
    case FwdMode::tunnel:
      return "tunnel";
  }
  return "?";
}

}  // namespace vsgate
