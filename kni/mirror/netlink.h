// rtnetlink for the host-stack mirror: a pure decoder for neighbour, address and route messages,
// and an event socket subscribed to their multicast groups (libmnl).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "common/net_types.h"
#include "common/result.h"

struct mnl_socket;
struct nlmsghdr;

namespace vsgate {

// A neighbour (ARP or, once decoded, NDP entry) was added, changed or deleted. The event types
// hold either family; the decoder only produces AF_INET for now (see decode_rtnl_message).
struct NeighEvent {
  bool deleted = false;
  int ifindex = 0;
  IpAddr ip;
  std::optional<MacAddr> mac;  // absent when the kernel sent no link-layer address (unresolved)
  uint16_t state = 0;          // NUD_* bits

  // REACHABLE, STALE, DELAY, PROBE, PERMANENT and NOARP carry a MAC worth forwarding to;
  // NONE, INCOMPLETE and FAILED do not, so the mirror drops those entries.
  bool usable() const;
  auto operator<=>(const NeighEvent&) const = default;
};

// An address was added to or removed from an interface (prefix = local address/len).
struct AddrEvent {
  bool deleted = false;
  int ifindex = 0;
  IpPrefix prefix;

  auto operator<=>(const AddrEvent&) const = default;
};

// A route was added, replaced or deleted. Multipath routes carry no top-level oif or
// gateway and are left to the host stack.
struct RouteEvent {
  bool deleted = false;
  IpPrefix dst;                   // 0.0.0.0/0 for the default route
  std::optional<IpAddr> gateway;  // RTA_GATEWAY, of dst's family
  std::optional<int> oif;         // RTA_OIF
  uint32_t table = 0;             // RTA_TABLE, else rtm_table
  uint32_t priority = 0;          // RTA_PRIORITY (metric); part of the kernel's route key
  uint8_t type = 0;               // RTN_*
  uint8_t protocol = 0;           // RTPROT_*
  uint8_t scope = 0;              // RT_SCOPE_*

  auto operator<=>(const RouteEvent&) const = default;
};

using HostEvent = std::variant<NeighEvent, AddrEvent, RouteEvent>;

// True for the NUD states the data plane may forward to (see NeighEvent::usable).
bool neigh_state_usable(uint16_t state);

// Decodes one rtnetlink message. nlh->nlmsg_len bytes must be readable. Returns nullopt for
// anything that is not an AF_INET neighbour/address/route message (the kni interfaces run with
// IPv6 disabled; accepting AF_INET6 is a matter of decoded_family() in netlink.cc), for proxy-ARP
// entries and cloned (cache) routes, and for malformed input: short payload, bad attribute lengths.
std::optional<HostEvent> decode_rtnl_message(const nlmsghdr* nlh);

using HostEventCallback = std::function<void(const HostEvent&)>;

// Event socket subscribed to IPv4 neighbour, address and route changes (and link changes, which
// only raise resync_needed()). Non-blocking: poll fd() and call drain().
//
// Rebuilding the mirror without losing or reordering changes: drain() and apply queued events,
// then dump_all() into a fresh mirror state, then keep applying drain(). Events that race with the
// dump are re-applied on top of it, which converges because every event is a set or a remove.
class RtnlSocket {
 public:
  static Result<RtnlSocket> open();

  RtnlSocket(RtnlSocket&& other) noexcept;
  RtnlSocket& operator=(RtnlSocket&& other) noexcept;
  RtnlSocket(const RtnlSocket&) = delete;
  RtnlSocket& operator=(const RtnlSocket&) = delete;
  ~RtnlSocket();

  int fd() const;

  // Asks for a dump (RTM_GETNEIGH, RTM_GETADDR or RTM_GETROUTE; AF_INET) on this socket; the
  // replies arrive through drain() like events. The kernel runs one dump per socket at a time, so
  // this fails while the previous one has not completed. Prefer dump_all() for resyncs.
  Status request_dump(uint16_t rtm_type);
  bool dump_in_progress() const { return dump_seq_ != 0; }

  // Reads every pending datagram without blocking (at most a bounded number per call, so a
  // flood cannot hold the control lcore) and calls fn for each decoded event. Returns the number
  // of events delivered.
  size_t drain(const HostEventCallback& fn);

  // The kernel dropped events because the receive buffer was full (ENOBUFS): rebuild the mirror
  // from dumps and /proc/net/arp.
  bool overrun() const { return overrun_; }
  // overrun(), or a change the kernel does not announce route by route: IPv4 routes flushed when
  // a link goes down or an address is removed produce no RTM_DELROUTE. Rebuild routes by a dump.
  bool resync_needed() const { return overrun_ || resync_needed_; }
  void clear_resync() { overrun_ = resync_needed_ = false; }
  // Re-raises resync_needed(), e.g. after a resync attempt failed.
  void request_resync() { resync_needed_ = true; }

  // Dumps IPv4 neighbours, addresses and routes, in that order, synchronously on a separate
  // short-lived socket, calling fn for each decoded entry (deleted == false).
  static Status dump_all(const HostEventCallback& fn);

 private:
  struct Closer {
    void operator()(mnl_socket* s) const;
  };
  explicit RtnlSocket(mnl_socket* nl);
  void handle_datagram(const char* buf, size_t len, const HostEventCallback& fn, size_t& events);

  std::unique_ptr<mnl_socket, Closer> nl_;
  std::unique_ptr<char[]> buf_;  // one receive buffer for the socket's lifetime
  uint32_t portid_ = 0;
  uint32_t next_seq_ = 1;
  uint32_t dump_seq_ = 0;  // 0: no dump in flight
  bool overrun_ = false;
  bool resync_needed_ = false;
};

}  // namespace vsgate
