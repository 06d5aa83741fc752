// Reader for /proc/net/arp, the kernel's IPv4 neighbour table in text form. It is the
// authoritative snapshot used to resync the mirror when netlink events may have been lost.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/net_types.h"
#include "common/result.h"

namespace vsgate {

// ATF_* flags from <net/if_arp.h>; the kernel prints them in the "Flags" column.
inline constexpr unsigned kArpFlagComplete = 0x2;   // ATF_COM: the MAC is resolved
inline constexpr unsigned kArpFlagPermanent = 0x4;  // ATF_PERM: static entry

struct ProcArpEntry {
  IpAddr ip;  // always IPv4: /proc/net/arp lists nothing else
  MacAddr mac;
  unsigned flags = 0;
  std::string device;

  auto operator<=>(const ProcArpEntry&) const = default;
};

// Parses the text of /proc/net/arp. Keeps only complete entries (ATF_COM set, MAC not all-zero);
// the header, incomplete or failed entries and malformed lines are skipped.
std::vector<ProcArpEntry> parse_proc_arp(std::string_view text);

// Reads and parses the file; an error only when it cannot be read.
Result<std::vector<ProcArpEntry>> read_proc_arp(const std::string& path = "/proc/net/arp");

}  // namespace vsgate
