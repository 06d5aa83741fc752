// rtnetlink decoder (kni/mirror/netlink.h, decode_rtnl_message). The input is one datagram in
// an exactly sized heap buffer (so ASan sees any read past it), walked as RtnlSocket does
// (mnl_nlmsg_ok / mnl_nlmsg_next); the first message is also decoded with nlmsg_len set to the
// whole input, so the fuzzer need not get the length right. No crash, and every event is
// well-formed: of the message's kind (neighbour/address/route, deleted for RTM_DEL*), IPv4
// addresses (the only family decoded), prefix lengths within 0..32, a MAC only from a 6-byte
// link-layer address; decoding is deterministic.
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <memory>
#include <variant>

#include "fuzz_check.h"
#include "kni/mirror/netlink.h"
#include "kni/netlink_walk.h"

namespace vsgate {
namespace {

void check_event(const nlmsghdr* nlh, const HostEvent& ev) {
  const uint16_t type = nlh->nlmsg_type;
  const bool del = type == RTM_DELNEIGH || type == RTM_DELADDR || type == RTM_DELROUTE;
  if (const auto* n = std::get_if<NeighEvent>(&ev)) {
    FUZZ_CHECK(type == RTM_NEWNEIGH || type == RTM_DELNEIGH, "neighbour from type %u", type);
    FUZZ_CHECK(n->deleted == del, "deleted flag");
    FUZZ_CHECK(n->ip.is_v4(), "neighbour address not IPv4");
  } else if (const auto* a = std::get_if<AddrEvent>(&ev)) {
    FUZZ_CHECK(type == RTM_NEWADDR || type == RTM_DELADDR, "address from type %u", type);
    FUZZ_CHECK(a->deleted == del, "deleted flag");
    FUZZ_CHECK(a->prefix.addr.is_v4() && a->prefix.len <= 32, "address prefix /%u",
               unsigned(a->prefix.len));
  } else {
    const auto& r = std::get<RouteEvent>(ev);
    FUZZ_CHECK(type == RTM_NEWROUTE || type == RTM_DELROUTE, "route from type %u", type);
    FUZZ_CHECK(r.deleted == del, "deleted flag");
    FUZZ_CHECK(r.dst.addr.is_v4() && r.dst.len <= 32, "route prefix /%u", unsigned(r.dst.len));
    FUZZ_CHECK(!r.gateway || r.gateway->is_v4(), "gateway not IPv4");
  }
}

void decode(const nlmsghdr* nlh) {
  const auto ev = decode_rtnl_message(nlh);
  if (!ev) return;
  check_event(nlh, *ev);
  const auto again = decode_rtnl_message(nlh);
  FUZZ_CHECK(again && *again == *ev, "decoding is not deterministic");
}

}  // namespace
}  // namespace vsgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exactly sized: the buffer ends where the datagram does.
  auto buf = std::make_unique<uint8_t[]>(size);
  std::memcpy(buf.get(), data, size);
  // The daemon's walk (kni/netlink_walk.h). With libmnl's mnl_nlmsg_ok() alone, a length of
  // 2^31 or more passed and mnl_nlmsg_next() jumped far outside the buffer (the first finding
  // of this harness: corpus/netlink/regression-nlmsg-len-2g, replayed by every run).
  int len = static_cast<int>(size);
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.get()); vsgate::nlmsg_fits(nlh, len);
       nlh = mnl_nlmsg_next(nlh, &len))
    vsgate::decode(nlh);
  if (size >= sizeof(nlmsghdr)) {
    reinterpret_cast<nlmsghdr*>(buf.get())->nlmsg_len = static_cast<uint32_t>(size);
    vsgate::decode(reinterpret_cast<const nlmsghdr*>(buf.get()));
  }
  return 0;
}
