// Vocabulary of the load balancer: virtual services, real servers, forwarding modes.
#pragma once

#include <netinet/in.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/net_types.h"

namespace vsgate {

inline constexpr unsigned kMaxWorkers = 64;

enum class Proto : uint8_t { tcp = IPPROTO_TCP, udp = IPPROTO_UDP };

// Per real server, as in ipvsadm: -b FULLNAT (DPVS), -m NAT (Masq), -g DR (Route), -i TUNNEL.
enum class FwdMode : uint8_t { fullnat, nat, dr, tunnel };

enum class SchedulerKind : uint8_t { rr, wrr, lc, wlc, sh, mh };

// A virtual service and a real server as the control side names them: the model, the config,
// the control protocol, vsgatectl and LbRegistry's interface. Family-generic, so that an IPv6
// address reaches the model, which refuses it until the data plane forwards IPv6 (lb/model.h).
struct ServiceKey {
  Proto proto = Proto::tcp;
  IpAddr vip;
  L4Port port;
  auto operator<=>(const ServiceKey&) const = default;
};

struct RealServerKey {
  IpAddr ip;
  L4Port port;
  auto operator<=>(const RealServerKey&) const = default;
};

// The same keys as the workers hold them (LbSnapshot, schedulers): IPv4, compact. Ordered as
// the keys above order IPv4 ones.
struct Ipv4ServiceKey {
  Proto proto = Proto::tcp;
  Ipv4Addr vip;
  L4Port port;
  auto operator<=>(const Ipv4ServiceKey&) const = default;
};

struct Ipv4RealServerKey {
  Ipv4Addr ip;
  L4Port port;
  auto operator<=>(const Ipv4RealServerKey&) const = default;
};

// The one conversion, made by LbRegistry from keys the model accepted (IPv4 only).
constexpr Ipv4ServiceKey to_ipv4(const ServiceKey& k) { return {k.proto, k.vip.v4(), k.port}; }
constexpr Ipv4RealServerKey to_ipv4(const RealServerKey& k) { return {k.ip.v4(), k.port}; }

// Names as ipvsadm prints and parses them.
std::string_view proto_name(Proto p);              // "TCP" / "UDP"
std::string_view fwd_mode_name(FwdMode m);         // "FullNat" "Masq" "Route" "Tunnel"
std::string_view scheduler_name(SchedulerKind k);  // "rr" "wrr" "lc" "wlc" "sh" "mh"
std::optional<SchedulerKind> parse_scheduler(std::string_view name);
std::optional<FwdMode> parse_fwd_mode(std::string_view name);  // fullnat|nat|dr|tunnel (config)
std::string_view fwd_mode_word(FwdMode m);  // the word parse_fwd_mode takes (config, JSON)

}  // namespace vsgate
