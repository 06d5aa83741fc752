#include "kni/mirror/netlink.h"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/log.h"
#include "kni/netlink_walk.h"

namespace vsgate {
namespace {

// Large enough for any dump datagram: the kernel sizes dump skbs up to 32 KiB and would
// truncate a reply that does not fit the buffer.
constexpr size_t kRecvBufferSize = 32768;
// Kernel-side receive buffer; a burst of neighbour changes (a subnet scan) fits without ENOBUFS.
constexpr int kSocketRcvBuf = 4 << 20;
// Datagrams per drain() call: enough to empty a normal backlog, bounded under a flood.
constexpr int kMaxDatagramsPerDrain = 256;
constexpr int kDumpAttempts = 3;

// Collects the attributes of a message after its family header into tb (by type). Returns false
// when the payload is shorter than the header or an attribute's length is inconsistent.
template <size_t N>
bool parse_attrs(const nlmsghdr* nlh, size_t header_len, std::array<const nlattr*, N>& tb) {
  tb.fill(nullptr);
  if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN || mnl_nlmsg_get_payload_len(nlh) < header_len)
    return false;
  // Not mnl_nlmsg_get_payload_tail(): it rounds nlmsg_len up and would read past a message
  // whose length is not a multiple of 4.
  const char* tail = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
  const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, header_len));
  int remaining = static_cast<int>(tail - reinterpret_cast<const char*>(attr));
  while (mnl_attr_ok(attr, remaining)) {
    uint16_t type = mnl_attr_get_type(attr);
    if (type < N) tb[type] = attr;
    remaining -= static_cast<int>(MNL_ALIGN(attr->nla_len));
    attr = mnl_attr_next(attr);
  }
  // Anything left over is a header or a length that does not fit: malformed. A negative rest is
  // the alignment padding of a last attribute that the sender did not include in nlmsg_len.
  return remaining <= 0;
}

std::optional<uint32_t> attr_u32(const nlattr* a) {
  if (a == nullptr || mnl_attr_get_payload_len(a) != sizeof(uint32_t)) return std::nullopt;
  return mnl_attr_get_u32(a);
}

// The address families the decoder accepts. The kni interfaces run with IPv6 disabled, so only
// AF_INET for now; the event types and the mirror hold either family, so accepting IPv6 is one
// more case here (and subscribing to its groups and dumps).
std::optional<AddrFamily> decoded_family(unsigned char af) {
  switch (af) {
    case AF_INET:
      return AddrFamily::ipv4;
    default:
      return std::nullopt;
  }
}

constexpr size_t address_bytes(AddrFamily f) { return f == AddrFamily::ipv4 ? 4 : 16; }
constexpr unsigned max_prefix_len(AddrFamily f) {
  return static_cast<unsigned>(address_bytes(f) * 8);
}

// Addresses stay in network byte order, as they are on the wire. The attribute must have the
// family's address length.
std::optional<IpAddr> attr_addr(const nlattr* a, AddrFamily family) {
  const size_t len = address_bytes(family);
  if (a == nullptr || mnl_attr_get_payload_len(a) != len) return std::nullopt;
  IpAddr ip;
  ip.family = family;
  std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), len);
  return ip;
}

// The zero address of a family (the default route's destination).
IpAddr zero_addr(AddrFamily family) {
  IpAddr ip;
  ip.family = family;
  return ip;
}

std::optional<HostEvent> decode_neigh(const nlmsghdr* nlh) {
  std::array<const nlattr*, NDA_MAX + 1> tb;
  if (!parse_attrs(nlh, sizeof(ndmsg), tb)) return std::nullopt;
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  // Proxy-ARP entries are answers the host gives for others, not neighbours to forward to.
  const auto family = decoded_family(ndm->ndm_family);
  if (!family || (ndm->ndm_flags & NTF_PROXY)) return std::nullopt;
  NeighEvent ev;
  ev.deleted = nlh->nlmsg_type == RTM_DELNEIGH;
  ev.ifindex = ndm->ndm_ifindex;
  ev.state = ndm->ndm_state;
  auto dst = attr_addr(tb[NDA_DST], *family);
  if (!dst) return std::nullopt;
  ev.ip = *dst;
  if (const nlattr* ll = tb[NDA_LLADDR]) {
    uint16_t len = mnl_attr_get_payload_len(ll);
    if (len == 6) {
      MacAddr mac;
      std::memcpy(mac.bytes.data(), mnl_attr_get_payload(ll), 6);
      ev.mac = mac;
    } else if (len != 0) {
      return std::nullopt;  // not Ethernet, so never one of our interfaces
    }
  }
  return ev;
}

std::optional<HostEvent> decode_addr(const nlmsghdr* nlh) {
  std::array<const nlattr*, IFA_MAX + 1> tb;
  if (!parse_attrs(nlh, sizeof(ifaddrmsg), tb)) return std::nullopt;
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  const auto family = decoded_family(ifa->ifa_family);
  if (!family || ifa->ifa_prefixlen > max_prefix_len(*family)) return std::nullopt;
  // IFA_ADDRESS is the peer on point-to-point links; IFA_LOCAL is always our own address.
  auto local = attr_addr(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], *family);
  if (!local) return std::nullopt;
  AddrEvent ev;
  ev.deleted = nlh->nlmsg_type == RTM_DELADDR;
  ev.ifindex = static_cast<int>(ifa->ifa_index);
  ev.prefix = IpPrefix{*local, ifa->ifa_prefixlen};
  return ev;
}

std::optional<HostEvent> decode_route(const nlmsghdr* nlh) {
  std::array<const nlattr*, RTA_MAX + 1> tb;
  if (!parse_attrs(nlh, sizeof(rtmsg), tb)) return std::nullopt;
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  // Cloned routes are cache entries (PMTU, redirects), not configuration.
  const auto family = decoded_family(rtm->rtm_family);
  if (!family || rtm->rtm_dst_len > max_prefix_len(*family) || (rtm->rtm_flags & RTM_F_CLONED))
    return std::nullopt;
  RouteEvent ev;
  ev.deleted = nlh->nlmsg_type == RTM_DELROUTE;
  if (tb[RTA_DST]) {
    auto dst = attr_addr(tb[RTA_DST], *family);
    if (!dst) return std::nullopt;
    ev.dst = IpPrefix{*dst, rtm->rtm_dst_len};
  } else if (rtm->rtm_dst_len == 0) {
    ev.dst = IpPrefix{zero_addr(*family), 0};
  } else {
    return std::nullopt;
  }
  if (tb[RTA_GATEWAY]) {
    ev.gateway = attr_addr(tb[RTA_GATEWAY], *family);
    if (!ev.gateway) return std::nullopt;
  }
  if (tb[RTA_OIF]) {
    auto oif = attr_u32(tb[RTA_OIF]);
    if (!oif) return std::nullopt;
    ev.oif = static_cast<int>(*oif);
  }
  ev.table = rtm->rtm_table;
  if (tb[RTA_TABLE]) {
    auto table = attr_u32(tb[RTA_TABLE]);
    if (!table) return std::nullopt;
    ev.table = *table;
  }
  if (tb[RTA_PRIORITY]) {
    auto prio = attr_u32(tb[RTA_PRIORITY]);
    if (!prio) return std::nullopt;
    ev.priority = *prio;
  }
  ev.type = rtm->rtm_type;
  ev.protocol = rtm->rtm_protocol;
  ev.scope = rtm->rtm_scope;
  return ev;
}

// Builds an AF_INET dump request for RTM_GETNEIGH/GETADDR/GETROUTE with the family header the
// kernel's strict checking expects.
nlmsghdr* put_dump_request(char* buf, uint16_t rtm_type, uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = rtm_type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = seq;
  switch (rtm_type) {
    case RTM_GETNEIGH: {
      auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
      ndm->ndm_family = AF_INET;
      break;
    }
    case RTM_GETADDR: {
      auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
      ifa->ifa_family = AF_INET;
      break;
    }
    case RTM_GETROUTE: {
      auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
      rtm->rtm_family = AF_INET;
      break;
    }
    default:
      return nullptr;
  }
  return nlh;
}

std::string errno_text(int err) { return std::strerror(err); }

uint32_t initial_seq() { return static_cast<uint32_t>(::time(nullptr)) | 1u; }

// Reads one datagram from fd. Returns its length, or -1 with errno set; sender_is_kernel and
// truncated describe the datagram.
ssize_t recv_datagram(int fd, char* buf, size_t size, int flags, bool& sender_is_kernel,
                      bool& truncated) {
  sockaddr_nl addr{};
  iovec iov{buf, size};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = sizeof addr;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n = ::recvmsg(fd, &msg, flags);
  if (n >= 0) {
    // Only the kernel (port 0) speaks for the host stack; a privileged process could unicast
    // forged messages to our port.
    sender_is_kernel = msg.msg_namelen == sizeof addr && addr.nl_pid == 0;
    truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  }
  return n;
}

// Runs one dump to completion on a blocking socket and appends the decoded entries. Sets
// `interrupted` when the kernel flagged the dump as inconsistent (NLM_F_DUMP_INTR).
Status run_dump(mnl_socket* nl, uint32_t portid, uint32_t seq, uint16_t rtm_type,
                std::vector<HostEvent>& out, bool& interrupted) {
  const char* what = rtm_type == RTM_GETNEIGH  ? "neighbour"
                     : rtm_type == RTM_GETADDR ? "address"
                                               : "route";
  alignas(nlmsghdr) char req[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = put_dump_request(req, rtm_type, seq);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
    return make_error(std::string("netlink ") + what + " dump request: " + errno_text(errno));
  auto buf = std::make_unique<char[]>(kRecvBufferSize);
  int fd = mnl_socket_get_fd(nl);
  interrupted = false;
  for (;;) {
    bool from_kernel = false;
    bool truncated = false;
    ssize_t n = recv_datagram(fd, buf.get(), kRecvBufferSize, 0, from_kernel, truncated);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(std::string("netlink ") + what + " dump: " + errno_text(errno));
    if (truncated) return make_error(std::string("netlink ") + what + " dump: datagram truncated");
    if (!from_kernel) continue;
    int len = static_cast<int>(n);
    for (const auto* m = reinterpret_cast<const nlmsghdr*>(buf.get()); nlmsg_fits(m, len);
         m = mnl_nlmsg_next(m, &len)) {
      if (m->nlmsg_seq != seq || m->nlmsg_pid != portid) continue;  // a stale reply
      if (m->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      if (m->nlmsg_type == NLMSG_DONE) return Ok{};
      if (m->nlmsg_type == NLMSG_ERROR) {
        if (mnl_nlmsg_get_payload_len(m) < sizeof(nlmsgerr))
          return make_error(std::string("netlink ") + what + " dump: short error message");
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
        if (err->error == 0) return Ok{};
        return make_error(std::string("netlink ") + what + " dump: " + errno_text(-err->error));
      }
      if (auto ev = decode_rtnl_message(m)) out.push_back(std::move(*ev));
    }
  }
}

}  // namespace

bool neigh_state_usable(uint16_t state) {
  constexpr uint16_t kUsable =
      NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
  return (state & kUsable) != 0;
}

bool NeighEvent::usable() const { return neigh_state_usable(state); }

std::optional<HostEvent> decode_rtnl_message(const nlmsghdr* nlh) {
  if (nlh == nullptr || nlh->nlmsg_len < sizeof(nlmsghdr)) return std::nullopt;
  switch (nlh->nlmsg_type) {
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH:
      return decode_neigh(nlh);
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return decode_addr(nlh);
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      return decode_route(nlh);
    default:
      return std::nullopt;
  }
}

void RtnlSocket::Closer::operator()(mnl_socket* s) const { mnl_socket_close(s); }

RtnlSocket::RtnlSocket(mnl_socket* nl)
    : nl_(nl),
      buf_(std::make_unique<char[]>(kRecvBufferSize)),
      portid_(mnl_socket_get_portid(nl)),
      next_seq_(initial_seq()) {}

RtnlSocket::RtnlSocket(RtnlSocket&& other) noexcept = default;
RtnlSocket& RtnlSocket::operator=(RtnlSocket&& other) noexcept = default;
RtnlSocket::~RtnlSocket() = default;

Result<RtnlSocket> RtnlSocket::open() {
  mnl_socket* raw = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (raw == nullptr) return make_error("netlink socket: " + errno_text(errno));
  std::unique_ptr<mnl_socket, Closer> nl(raw);
  int fd = mnl_socket_get_fd(raw);
  // SO_RCVBUFFORCE goes past net.core.rmem_max when we have CAP_NET_ADMIN, which vsgated has.
  int rcvbuf = kSocketRcvBuf;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  // RTMGRP_LINK only feeds resync_needed(): see there.
  unsigned groups = RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE;
  if (mnl_socket_bind(raw, groups, MNL_SOCKET_AUTOPID) < 0)
    return make_error("netlink bind: " + errno_text(errno));
  return RtnlSocket(nl.release());
}

int RtnlSocket::fd() const { return mnl_socket_get_fd(nl_.get()); }

Status RtnlSocket::request_dump(uint16_t rtm_type) {
  if (rtm_type != RTM_GETNEIGH && rtm_type != RTM_GETADDR && rtm_type != RTM_GETROUTE)
    return make_error("netlink dump: unsupported message type " + std::to_string(rtm_type));
  if (dump_seq_ != 0) return make_error("netlink dump: another dump is still in progress");
  uint32_t seq = next_seq_++;
  if (seq == 0) seq = next_seq_++;
  alignas(nlmsghdr) char req[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = put_dump_request(req, rtm_type, seq);
  if (mnl_socket_sendto(nl_.get(), nlh, nlh->nlmsg_len) < 0)
    return make_error("netlink dump request: " + errno_text(errno));
  dump_seq_ = seq;
  return Ok{};
}

void RtnlSocket::handle_datagram(const char* buf, size_t size, const HostEventCallback& fn,
                                 size_t& events) {
  int len = static_cast<int>(size);
  for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf); nlmsg_fits(nlh, len);
       nlh = mnl_nlmsg_next(nlh, &len)) {
    bool ours = dump_seq_ != 0 && nlh->nlmsg_seq == dump_seq_ && nlh->nlmsg_pid == portid_;
    if (ours && (nlh->nlmsg_flags & NLM_F_DUMP_INTR)) resync_needed_ = true;
    switch (nlh->nlmsg_type) {
      case NLMSG_ERROR:
        if (ours && mnl_nlmsg_get_payload_len(nlh) >= sizeof(nlmsgerr)) {
          const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
          if (err->error != 0) {
            VSG_LOG(warning, "netlink dump failed: %s", std::strerror(-err->error));
            resync_needed_ = true;
          }
        }
        [[fallthrough]];
      case NLMSG_DONE:
        if (ours) dump_seq_ = 0;
        continue;
      case RTM_DELLINK:
        resync_needed_ = true;
        continue;
      case RTM_NEWLINK:
        // A link going down flushes its IPv4 routes silently.
        if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(ifinfomsg)) {
          const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
          if (!(ifi->ifi_flags & IFF_UP)) resync_needed_ = true;
        }
        continue;
      case RTM_DELADDR:
        // Routes through a removed address go away without RTM_DELROUTE.
        resync_needed_ = true;
        break;
      default:
        break;
    }
    if (auto ev = decode_rtnl_message(nlh)) {
      fn(*ev);
      ++events;
    }
  }
}

size_t RtnlSocket::drain(const HostEventCallback& fn) {
  size_t events = 0;
  char* buf = buf_.get();
  int fd = this->fd();
  for (int i = 0; i < kMaxDatagramsPerDrain; ++i) {
    bool from_kernel = false;
    bool truncated = false;
    ssize_t n = recv_datagram(fd, buf, kRecvBufferSize, MSG_DONTWAIT, from_kernel, truncated);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ENOBUFS) {
        // Events were dropped; the socket stays usable and what follows is still in order.
        VSG_LOG(warning, "netlink event socket overrun: events lost, full resync needed");
        overrun_ = true;
        continue;
      }
      VSG_LOG(warning, "netlink event socket: %s", std::strerror(errno));
      break;
    }
    if (truncated) {
      overrun_ = true;
      continue;
    }
    if (from_kernel) handle_datagram(buf, static_cast<size_t>(n), fn, events);
  }
  return events;
}

Status RtnlSocket::dump_all(const HostEventCallback& fn) {
  mnl_socket* raw = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (raw == nullptr) return make_error("netlink socket: " + errno_text(errno));
  std::unique_ptr<mnl_socket, Closer> nl(raw);
  if (mnl_socket_bind(raw, 0, MNL_SOCKET_AUTOPID) < 0)
    return make_error("netlink bind: " + errno_text(errno));
  // A dump is answered at once; the timeout only guards against a wedged kernel path.
  timeval tv{5, 0};
  setsockopt(mnl_socket_get_fd(raw), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  uint32_t portid = mnl_socket_get_portid(raw);
  uint32_t seq = initial_seq();
  // Collect everything first so that a failure delivers nothing rather than half a table.
  std::vector<HostEvent> events;
  for (uint16_t type : {RTM_GETNEIGH, RTM_GETADDR, RTM_GETROUTE}) {
    for (int attempt = 1;; ++attempt) {
      std::vector<HostEvent> part;
      bool interrupted = false;
      Status st = run_dump(raw, portid, seq++, type, part, interrupted);
      if (!st) return st;
      if (!interrupted) {
        events.insert(events.end(), part.begin(), part.end());
        break;
      }
      // The table changed under the dump; the result may be inconsistent, so do it again.
      if (attempt == kDumpAttempts)
        return make_error("netlink dump: interrupted by changes " + std::to_string(attempt) +
                          " times");
    }
  }
  for (const auto& ev : events) fn(ev);
  return Ok{};
}

}  // namespace vsgate
