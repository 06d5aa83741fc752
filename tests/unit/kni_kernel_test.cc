// iface_config, RtnlSocket and the mirror against the real kernel, in a private network
// namespace so the host's interfaces are never touched. Needs root (CAP_NET_ADMIN and
// CAP_SYS_ADMIN for unshare); skips otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if_tun.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "kni/iface_config.h"
#include "kni/mirror/host_stack.h"
#include "kni/mirror/netlink.h"
#include "kni/mirror/proc_arp.h"

namespace vsgate {
namespace {

IpAddr ip(const char* text) { return *IpAddr::parse(text); }
IpPrefix pfx(const char* text) { return *IpPrefix::parse(text); }
Ipv4Prefix pfx4(const char* text) { return *Ipv4Prefix::parse(text); }  // add_ipv4_address
MacAddr mac(const char* text) { return *MacAddr::parse(text); }

const char kTap[] = "vsgtest0";

// The whole process moves to a fresh namespace once; each test then builds its own TAP.
std::string enter_private_netns() {
  static std::string reason = []() -> std::string {
    if (geteuid() != 0) return "not root: needs CAP_NET_ADMIN in a private network namespace";
    if (unshare(CLONE_NEWNET) != 0)
      return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    return {};
  }();
  return reason;
}

Status neigh_request(uint16_t type, int ifindex, const char* addr, const char* lladdr,
                     uint16_t state) {
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_REPLACE : 0;
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = AF_INET;
  ndm->ndm_ifindex = ifindex;
  ndm->ndm_state = state;
  IpAddr a = ip(addr);
  mnl_attr_put(nlh, NDA_DST, a.size(), a.bytes.data());
  if (lladdr) {
    MacAddr m = mac(lladdr);
    mnl_attr_put(nlh, NDA_LLADDR, 6, m.bytes.data());
  }
  return rtnl_request(nlh, std::string("neighbour ") + addr);
}

Status add_route(const char* dst, uint8_t len, const char* gateway, int oif) {
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = len;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  IpAddr d = ip(dst);
  IpAddr g = ip(gateway);
  mnl_attr_put(nlh, RTA_DST, d.size(), d.bytes.data());
  mnl_attr_put(nlh, RTA_GATEWAY, g.size(), g.bytes.data());
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(oif));
  return rtnl_request(nlh, std::string("route ") + dst);
}

Status del_address(int ifindex, const char* prefix) {
  IpPrefix p = pfx(prefix);
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_DELADDR;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = p.len;
  ifa->ifa_index = static_cast<uint32_t>(ifindex);
  mnl_attr_put(nlh, IFA_LOCAL, p.addr.size(), p.addr.bytes.data());
  return rtnl_request(nlh, std::string("delete address ") + prefix);
}

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = enter_private_netns();
    if (!why.empty()) GTEST_SKIP() << why;
    // A TAP lives as long as its descriptor: closing it in TearDown removes the interface.
    tap_fd_ = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (tap_fd_ < 0) GTEST_SKIP() << "/dev/net/tun: " << std::strerror(errno);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, kTap, IFNAMSIZ - 1);
    ASSERT_EQ(ioctl(tap_fd_, TUNSETIFF, &ifr), 0) << std::strerror(errno);
    auto idx = interface_index(kTap);
    ASSERT_TRUE(idx.ok()) << idx.message();
    ifindex_ = *idx;
  }
  void TearDown() override {
    if (tap_fd_ >= 0) ::close(tap_fd_);
  }

  void configure() {
    Status st = set_mtu(kTap, 9000);
    ASSERT_TRUE(st.ok()) << st.message();
    st = set_up(kTap);
    ASSERT_TRUE(st.ok()) << st.message();
    st = add_ipv4_address(kTap, pfx4("10.9.0.1/24"));
    ASSERT_TRUE(st.ok()) << st.message();
  }

  // Polls and drains until pred holds for a received event, or a second has passed.
  template <class Pred>
  bool wait_for_event(RtnlSocket& sock, Pred pred, HostStackMirror* mirror = nullptr) {
    bool found = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!found && std::chrono::steady_clock::now() < deadline) {
      pollfd p{sock.fd(), POLLIN, 0};
      ::poll(&p, 1, 100);
      sock.drain([&](const HostEvent& ev) {
        if (mirror) mirror->apply(ev);
        if (pred(ev)) found = true;
      });
    }
    return found;
  }

  int tap_fd_ = -1;
  int ifindex_ = 0;
};

int current_mtu(const char* name) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  int rc = ioctl(s, SIOCGIFMTU, &ifr);
  ::close(s);
  return rc == 0 ? ifr.ifr_mtu : -1;
}

TEST_F(KernelTest, ConfigureInterfaceAndDump) {
  configure();
  EXPECT_EQ(current_mtu(kTap), 9000);
  // Idempotent: the same address again is fine.
  Status st = add_ipv4_address(kTap, pfx4("10.9.0.1/24"));
  EXPECT_TRUE(st.ok()) << st.message();
  st = set_ipv6_disabled(kTap, true);
  EXPECT_TRUE(st.ok()) << st.message();
  st = set_ipv6_disabled(kTap, true);
  EXPECT_TRUE(st.ok()) << st.message();

  std::vector<HostEvent> dump;
  st = RtnlSocket::dump_all([&](const HostEvent& ev) { dump.push_back(ev); });
  ASSERT_TRUE(st.ok()) << st.message();
  bool have_addr = false;
  bool have_route = false;
  for (const auto& ev : dump) {
    if (const auto* a = std::get_if<AddrEvent>(&ev))
      have_addr |= a->ifindex == ifindex_ && a->prefix == pfx("10.9.0.1/24") && !a->deleted;
    if (const auto* r = std::get_if<RouteEvent>(&ev))
      have_route |= r->dst == pfx("10.9.0.0/24") && r->oif == ifindex_ &&
                    r->table == RT_TABLE_MAIN && r->type == RTN_UNICAST && !r->gateway &&
                    r->protocol == RTPROT_KERNEL && r->scope == RT_SCOPE_LINK;
  }
  EXPECT_TRUE(have_addr);
  EXPECT_TRUE(have_route);
}

TEST_F(KernelTest, ErrorsNameTheInterfaceAndTheReason) {
  Status st = set_mtu("nosuch0", 1500);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nosuch0"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("No such device"), std::string::npos) << st.message();
  st = set_mtu(kTap, 100000);  // beyond the TAP's maximum
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(kTap), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Invalid argument"), std::string::npos) << st.message();
  EXPECT_FALSE(add_ipv4_address("../etc", pfx4("10.9.0.1/24")).ok());
  EXPECT_FALSE(set_ipv6_disabled("../../x", true).ok());
  EXPECT_FALSE(interface_index("").ok());
  EXPECT_FALSE(add_ipv4_address(kTap, pfx4("0.0.0.0/24")).ok());
}

TEST_F(KernelTest, NeighbourEventsReachTheSubscribedSocket) {
  auto sock = RtnlSocket::open();
  ASSERT_TRUE(sock.ok()) << sock.message();
  configure();
  Status st = neigh_request(RTM_NEWNEIGH, ifindex_, "10.9.0.2", "02:00:00:00:00:02", NUD_PERMANENT);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(wait_for_event(*sock, [&](const HostEvent& ev) {
    const auto* n = std::get_if<NeighEvent>(&ev);
    return n && !n->deleted && n->ifindex == ifindex_ && n->ip == ip("10.9.0.2") &&
           n->mac == mac("02:00:00:00:00:02") && n->usable();
  }));

  // /proc/net/arp of this namespace lists it as complete and permanent.
  auto arp = read_proc_arp();
  ASSERT_TRUE(arp.ok()) << arp.message();
  ProcArpEntry want{ip("10.9.0.2"), mac("02:00:00:00:00:02"), kArpFlagComplete | kArpFlagPermanent,
                    kTap};
  EXPECT_NE(std::find(arp->begin(), arp->end(), want), arp->end());

  st = neigh_request(RTM_DELNEIGH, ifindex_, "10.9.0.2", nullptr, 0);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(wait_for_event(*sock, [&](const HostEvent& ev) {
    const auto* n = std::get_if<NeighEvent>(&ev);
    return n && n->deleted && n->ip == ip("10.9.0.2");
  }));
}

TEST_F(KernelTest, DumpOnTheEventSocket) {
  auto sock = RtnlSocket::open();
  ASSERT_TRUE(sock.ok()) << sock.message();
  configure();
  sock->drain([](const HostEvent&) {});
  Status st = sock->request_dump(RTM_GETADDR);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(sock->dump_in_progress());
  EXPECT_FALSE(sock->request_dump(RTM_GETROUTE).ok());  // one dump at a time
  EXPECT_FALSE(sock->request_dump(RTM_GETLINK).ok());
  bool have_addr = wait_for_event(*sock, [&](const HostEvent& ev) {
    const auto* a = std::get_if<AddrEvent>(&ev);
    return a && a->ifindex == ifindex_ && a->prefix == pfx("10.9.0.1/24");
  });
  EXPECT_TRUE(have_addr);
  for (int i = 0; i < 10 && sock->dump_in_progress(); ++i) {
    pollfd p{sock->fd(), POLLIN, 0};
    ::poll(&p, 1, 100);
    sock->drain([](const HostEvent&) {});
  }
  EXPECT_FALSE(sock->dump_in_progress());
  st = sock->request_dump(RTM_GETROUTE);
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST_F(KernelTest, MirrorFollowsTheKernel) {
  auto sock = RtnlSocket::open();
  ASSERT_TRUE(sock.ok()) << sock.message();
  HostStackMirror mirror;
  mirror.track(ifindex_, 3, kTap);
  configure();
  Status st = add_route("10.20.0.0", 16, "10.9.0.254", ifindex_);
  ASSERT_TRUE(st.ok()) << st.message();
  st = neigh_request(RTM_NEWNEIGH, ifindex_, "10.9.0.254", "02:00:00:00:00:fe", NUD_REACHABLE);
  ASSERT_TRUE(st.ok()) << st.message();

  st = resync_from_kernel(*sock, mirror);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(sock->resync_needed());
  EXPECT_EQ(mirror.addresses(), (std::vector<HostAddress>{{pfx("10.9.0.1/24"), 3, ifindex_}}));
  EXPECT_EQ(mirror.routes(),
            (std::vector<HostRoute>{{pfx("10.9.0.0/24"), IpAddr{}, 3, ifindex_, 0},
                                    {pfx("10.20.0.0/16"), ip("10.9.0.254"), 3, ifindex_, 0}}));
  EXPECT_EQ(
      mirror.neighbours(),
      (std::vector<HostNeighbour>{{ip("10.9.0.254"), mac("02:00:00:00:00:fe"), 3, ifindex_}}));

  // Removing the address takes the gateway route with it, and the kernel does not announce
  // that: the socket asks for a resync and the dump brings the mirror back in line.
  st = del_address(ifindex_, "10.9.0.1/24");
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(wait_for_event(
      *sock,
      [](const HostEvent& ev) {
        const auto* a = std::get_if<AddrEvent>(&ev);
        return a && a->deleted;
      },
      &mirror));
  EXPECT_TRUE(mirror.addresses().empty());
  EXPECT_TRUE(sock->resync_needed());
  st = resync_from_kernel(*sock, mirror);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(mirror.routes().empty());
}

TEST_F(KernelTest, OverrunIsReported) {
  auto sock = RtnlSocket::open();
  ASSERT_TRUE(sock.ok()) << sock.message();
  configure();
  sock->drain([](const HostEvent&) {});
  int tiny = 1;  // the kernel rounds up to its minimum: a few messages at most
  ASSERT_EQ(setsockopt(sock->fd(), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny), 0);
  for (int i = 2; i < 200; ++i) {
    std::string addr = "10.9.0." + std::to_string(i);
    char lladdr[18];
    std::snprintf(lladdr, sizeof lladdr, "02:00:00:00:00:%02x", i);
    Status st = neigh_request(RTM_NEWNEIGH, ifindex_, addr.c_str(), lladdr, NUD_PERMANENT);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  EXPECT_FALSE(sock->overrun());
  sock->drain([](const HostEvent&) {});
  EXPECT_TRUE(sock->overrun());
  EXPECT_TRUE(sock->resync_needed());
  sock->clear_resync();
  EXPECT_FALSE(sock->overrun());
}

}  // namespace
}  // namespace vsgate
