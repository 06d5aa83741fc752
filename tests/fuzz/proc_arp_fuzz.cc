// /proc/net/arp text parser (kni/mirror/proc_arp.h). Any text: no crash, and every entry kept
// is well-formed: IPv4, ATF_COM set, MAC not all-zero, a device name without blanks, NULs or
// line breaks. Entries come from distinct lines (no more entries than lines), the parse is
// line-local (parsing each line alone gives the same entries), and an entry printed back in
// the kernel's layout parses to itself.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kni/mirror/proc_arp.h"

namespace vsgate {
namespace {

void run(std::string_view text) {
  const auto entries = parse_proc_arp(text);
  size_t lines = 0;
  for (char ch : text) lines += ch == '\n';
  FUZZ_CHECK(entries.size() <= lines + 1, "%zu entries from %zu lines", entries.size(), lines + 1);

  std::vector<ProcArpEntry> line_by_line;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t nl = rest.find('\n');
    for (auto& e : parse_proc_arp(rest.substr(0, nl))) line_by_line.push_back(e);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  FUZZ_CHECK(line_by_line == entries, "the parse is not line-local");

  for (const auto& e : entries) {
    FUZZ_CHECK(e.ip.is_v4(), "a non-IPv4 entry");
    FUZZ_CHECK(e.flags & kArpFlagComplete, "an incomplete entry (flags 0x%x)", e.flags);
    FUZZ_CHECK(!e.mac.is_zero(), "an all-zero MAC");
    FUZZ_CHECK(!e.device.empty(), "no device");
    FUZZ_CHECK(e.device.find_first_of(std::string_view(" \t\r\n\0", 5)) == std::string::npos,
               "device '%s' has blanks or control characters", e.device.c_str());
    char flags[16];
    std::snprintf(flags, sizeof flags, "0x%x", e.flags);
    const std::string line = e.ip.str() + " 0x1 " + flags + " " + e.mac.str() + " * " + e.device;
    const auto again = parse_proc_arp(line);
    FUZZ_CHECK(again.size() == 1 && again[0] == e, "'%s' does not parse back", line.c_str());
  }
}

}  // namespace
}  // namespace vsgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vsgate::run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
