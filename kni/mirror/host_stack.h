// HostStackMirror: what the host stack knows about the exception-path interfaces (neighbours,
// addresses, routes), kept in sync from rtnetlink events, dumps and /proc/net/arp. The host stack
// is the source of truth (operators configure dpdk0.kni with ip or networkd); the control lcore
// publishes this model to the data plane and uses generation() to tell when to republish.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/net_types.h"
#include "common/result.h"
#include "kni/mirror/netlink.h"
#include "kni/mirror/proc_arp.h"

namespace vsgate {

// Entries hold IPv4 or IPv6 (the decoder produces IPv4 only for now); every list sorts IPv4
// before IPv6.
struct HostNeighbour {
  IpAddr ip;
  MacAddr mac;
  uint16_t port_id = 0;
  int ifindex = 0;

  auto operator<=>(const HostNeighbour&) const = default;
};

struct HostAddress {
  IpPrefix prefix;  // interface address and prefix length, e.g. 10.0.0.1/24
  uint16_t port_id = 0;
  int ifindex = 0;

  auto operator<=>(const HostAddress&) const = default;
};

struct HostRoute {
  IpPrefix dst;    // normalized network, e.g. 10.1.0.0/16
  IpAddr gateway;  // of dst's family; zero: directly connected
  uint16_t port_id = 0;
  int ifindex = 0;
  uint32_t priority = 0;  // metric; among routes to one dst the lowest wins, as in the kernel

  auto operator<=>(const HostRoute&) const = default;
};

class HostStackMirror {
 public:
  // Interfaces that matter; events about any other interface are ignored. Tracking an interface
  // does not load its state: follow with a resync (resync_from_kernel).
  void track(int ifindex, uint16_t port_id, std::string ifname);
  void untrack(int ifindex);  // and forget its neighbours, addresses and routes
  bool tracked(int ifindex) const { return tracked_.contains(ifindex); }
  std::optional<int> tracked_ifindex(std::string_view ifname) const;

  // Applies one netlink event; true if the mirror changed.
  //  - neighbours: usable states with a MAC set the entry, others (and deletions) remove it;
  //  - routes: only table main, type unicast, through a tracked oif (or, without oif, a gateway
  //    inside a tracked interface's prefix). A new route that does not qualify removes what it
  //    replaced: the kernel announces "ip route replace" with RTM_NEWROUTE only.
  bool apply(const HostEvent& event);

  // /proc/net/arp is authoritative for the complete set: the neighbours of tracked interfaces
  // become exactly the complete entries listed. ifindex_of maps a device name to its index.
  bool resync_neighbours(const std::vector<ProcArpEntry>& entries,
                         const std::function<std::optional<int>(const std::string&)>& ifindex_of);
  // Same, mapping device names through the names given to track().
  bool resync_neighbours(const std::vector<ProcArpEntry>& entries);

  // Replaces neighbours, addresses and routes with a full dump (RtnlSocket::dump_all); deleted
  // events in it are ignored. True if the result differs from before.
  bool reset_from_dump(const std::vector<HostEvent>& dump);

  // Sorted; routes() has one entry per destination: the lowest metric.
  std::vector<HostNeighbour> neighbours() const;
  std::vector<HostAddress> addresses() const;
  std::vector<HostRoute> routes() const;
  // Incremented by every call that changes the mirror.
  uint64_t generation() const { return generation_; }

 private:
  struct Interface {
    uint16_t port_id = 0;
    std::string ifname;
  };
  struct NeighValue {
    MacAddr mac;
    uint16_t port_id = 0;
    int ifindex = 0;
    bool operator==(const NeighValue&) const = default;
  };
  struct RouteKey {
    IpPrefix dst;
    uint32_t priority = 0;
    auto operator<=>(const RouteKey&) const = default;
  };
  struct RouteValue {
    IpAddr gateway;
    uint16_t port_id = 0;
    int ifindex = 0;
    bool operator==(const RouteValue&) const = default;
  };
  using AddrKey = std::pair<int, IpPrefix>;  // ifindex, prefix

  bool apply_neigh(const NeighEvent& ev);
  bool apply_addr(const AddrEvent& ev);
  bool apply_route(const RouteEvent& ev);
  std::optional<int> route_ifindex(const RouteEvent& ev) const;
  bool bump(bool changed) {
    if (changed) ++generation_;
    return changed;
  }

  std::map<int, Interface> tracked_;
  std::map<IpAddr, NeighValue> neighbours_;
  std::map<AddrKey, uint16_t> addresses_;  // -> port_id
  std::map<RouteKey, RouteValue> routes_;
  uint64_t generation_ = 0;
};

// Rebuilds the mirror from the kernel: applies queued events, dumps neighbours, addresses and
// routes, replaces the mirror's content and applies the events that raced with the dump (every
// event is a set or a remove, so replaying them on top converges). Clears the socket's resync
// flags; if the dump fails they are raised again and the mirror keeps its previous content.
Status resync_from_kernel(RtnlSocket& events, HostStackMirror& mirror);

}  // namespace vsgate
