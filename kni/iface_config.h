// Configuration of a kernel interface by name through rtnetlink: what vsgated does to the
// exception-path interface of each port (same MTU as the port, up, addresses from the config).
// Every call waits for the kernel's answer; errors name the interface and the kernel's reason.
#pragma once

#include <cstdint>
#include <string>

#include "common/net_types.h"
#include "common/result.h"

struct nlmsghdr;

namespace vsgate {

// The interface's index, or an error if it does not exist or the name is invalid.
Result<int> interface_index(const std::string& ifname);

Status set_mtu(const std::string& ifname, uint32_t mtu);

// Sets IFF_UP (administratively up).
Status set_up(const std::string& ifname);

// Adds addr/len (e.g. 10.0.0.1/24) with a broadcast address for prefixes shorter than /31.
// Idempotent: adding an address that is already there succeeds.
Status add_ipv4_address(const std::string& ifname, Ipv4Prefix prefix);

// Writes /proc/sys/net/ipv6/conf/IF/disable_ipv6. Succeeds without doing anything on kernels
// without IPv6, and when the value is already right (so it works where /proc/sys is read-only).
Status set_ipv6_disabled(const std::string& ifname, bool disabled);

// Sends one rtnetlink request (NLM_F_REQUEST | NLM_F_ACK are added, the sequence number is set)
// on a short-lived socket and waits for the kernel's acknowledgement. `what` describes the
// operation in the error message, which carries strerror and the kernel's extended-ack text.
Status rtnl_request(nlmsghdr* nlh, const std::string& what);

}  // namespace vsgate
