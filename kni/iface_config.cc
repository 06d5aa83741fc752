#include "kni/iface_config.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/unique_fd.h"
#include "kni/netlink_walk.h"

namespace vsgate {
namespace {

constexpr size_t kRecvBufferSize = 8192;

struct MnlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

// Names end up in /proc paths, so refuse anything the kernel would not accept as a name.
bool valid_ifname(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || c == '\0' || c == ' ' || c == '\t' || c == '\n') return false;
  return true;
}

// The kernel's extended-ack message, if it sent one after the error header.
std::string ext_ack_message(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
    if (err->msg.nlmsg_len < sizeof(nlmsghdr)) return {};
    offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  }
  offset = MNL_ALIGN(offset);
  size_t payload_len = mnl_nlmsg_get_payload_len(nlh);
  if (offset >= payload_len) return {};
  const auto* attr = reinterpret_cast<const nlattr*>(
      static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + offset);
  int remaining = static_cast<int>(payload_len - offset);
  while (mnl_attr_ok(attr, remaining)) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG) {
      const char* text = static_cast<const char*>(mnl_attr_get_payload(attr));
      return std::string(text, strnlen(text, mnl_attr_get_payload_len(attr)));
    }
    remaining -= static_cast<int>(MNL_ALIGN(attr->nla_len));
    attr = mnl_attr_next(attr);
  }
  return {};
}

std::string with_errno(const std::string& what, int err, const std::string& detail = {}) {
  std::string text = what + ": " + std::strerror(err);
  if (!detail.empty()) text += " (" + detail + ")";
  return text;
}

nlmsghdr* put_link_request(char* buf, int ifindex) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  return nlh;
}

}  // namespace

Result<int> interface_index(const std::string& ifname) {
  if (!valid_ifname(ifname)) return make_error("invalid interface name '" + ifname + "'");
  unsigned idx = if_nametoindex(ifname.c_str());
  if (idx == 0) return make_error(with_errno("interface " + ifname, errno));
  return static_cast<int>(idx);
}

Status rtnl_request(nlmsghdr* nlh, const std::string& what) {
  mnl_socket* raw = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (raw == nullptr) return make_error(with_errno(what + ": netlink socket", errno));
  std::unique_ptr<mnl_socket, MnlCloser> nl(raw);
  if (mnl_socket_bind(raw, 0, MNL_SOCKET_AUTOPID) < 0)
    return make_error(with_errno(what + ": netlink bind", errno));
  int fd = mnl_socket_get_fd(raw);
  // Ask for the kernel's reason in words ("mtu greater than device maximum"); optional.
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  // The answer is immediate; the timeout only guards against a wedged kernel path.
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  uint32_t seq = static_cast<uint32_t>(::time(nullptr));
  uint32_t portid = mnl_socket_get_portid(raw);
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  if (mnl_socket_sendto(raw, nlh, nlh->nlmsg_len) < 0)
    return make_error(with_errno(what + ": netlink send", errno));

  alignas(nlmsghdr) char buf[kRecvBufferSize];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(raw, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(with_errno(what + ": netlink receive", errno));
    int len = static_cast<int>(n);
    for (const auto* m = reinterpret_cast<const nlmsghdr*>(buf); nlmsg_fits(m, len);
         m = mnl_nlmsg_next(m, &len)) {
      if (m->nlmsg_seq != seq || m->nlmsg_pid != portid || m->nlmsg_type != NLMSG_ERROR) continue;
      if (mnl_nlmsg_get_payload_len(m) < sizeof(nlmsgerr))
        return make_error(what + ": short netlink acknowledgement");
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
      if (err->error == 0) return Ok{};
      return make_error(with_errno(what, -err->error, ext_ack_message(m)));
    }
  }
}

Status set_mtu(const std::string& ifname, uint32_t mtu) {
  std::string what = "set MTU " + std::to_string(mtu) + " on " + ifname;
  if (mtu == 0) return make_error(what + ": MTU must be positive");
  auto idx = interface_index(ifname);
  if (!idx) return make_error(what + ": " + idx.message());
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = put_link_request(buf, *idx);
  mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  return rtnl_request(nlh, what);
}

Status set_up(const std::string& ifname) {
  std::string what = "set " + ifname + " up";
  auto idx = interface_index(ifname);
  if (!idx) return make_error(what + ": " + idx.message());
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = put_link_request(buf, *idx);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return rtnl_request(nlh, what);
}

Status add_ipv4_address(const std::string& ifname, Ipv4Prefix prefix) {
  std::string what = "add address " + prefix.str() + " to " + ifname;
  if (prefix.len == 0 || prefix.len > 32 || prefix.addr.is_zero())
    return make_error(what + ": not a usable interface address");
  auto idx = interface_index(ifname);
  if (!idx) return make_error(what + ": " + idx.message());
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWADDR;
  // REPLACE makes a repeated add succeed instead of failing with EEXIST.
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = prefix.len;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(*idx);
  mnl_attr_put(nlh, IFA_LOCAL, 4, &prefix.addr.be);
  mnl_attr_put(nlh, IFA_ADDRESS, 4, &prefix.addr.be);
  // /31 and /32 have no broadcast address (RFC 3021).
  if (prefix.len < 31) {
    Ipv4Addr brd = Ipv4Addr::from_host(prefix.addr.host() | ~prefix.mask_host());
    mnl_attr_put(nlh, IFA_BROADCAST, 4, &brd.be);
  }
  return rtnl_request(nlh, what);
}

Status set_ipv6_disabled(const std::string& ifname, bool disabled) {
  std::string what = std::string(disabled ? "disable" : "enable") + " IPv6 on " + ifname;
  if (!valid_ifname(ifname)) return make_error(what + ": invalid interface name");
  struct stat st {};
  if (::stat("/proc/sys/net/ipv6", &st) != 0) return Ok{};  // no IPv6 in this kernel
  auto idx = interface_index(ifname);
  if (!idx) return make_error(what + ": " + idx.message());
  std::string path = "/proc/sys/net/ipv6/conf/" + ifname + "/disable_ipv6";
  const char want = disabled ? '1' : '0';
  {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return make_error(with_errno(what + ": " + path, errno));
    char cur = 0;
    if (::read(fd.get(), &cur, 1) == 1 && cur == want) return Ok{};
  }
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return make_error(with_errno(what + ": " + path, errno));
  const char text[2] = {want, '\n'};
  if (::write(fd.get(), text, sizeof text) != static_cast<ssize_t>(sizeof text))
    return make_error(with_errno(what + ": " + path, errno));
  return Ok{};
}

}  // namespace vsgate
