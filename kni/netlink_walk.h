// The one check of a netlink message walk. libmnl's mnl_nlmsg_ok() compares the length as a
// signed int, so a message claiming 2 GiB or more passes it and mnl_nlmsg_next() leaves the
// buffer (found by tests/fuzz/netlink_fuzz.cc). The kernel never sends such a length, but a walk
// should not depend on that: the length is also checked as unsigned.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <cstdint>

namespace vsgate {

inline bool nlmsg_fits(const nlmsghdr* m, int len) {
  return mnl_nlmsg_ok(m, len) && m->nlmsg_len <= static_cast<uint32_t>(len);
}

}  // namespace vsgate
