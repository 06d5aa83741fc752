#include "kni/mirror/proc_arp.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "common/unique_fd.h"

namespace vsgate {
namespace {

// Splits on spaces and tabs; returns false unless the line has exactly N fields.
template <size_t N>
bool split_fields(std::string_view line, std::array<std::string_view, N>& out) {
  size_t n = 0;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (n == N) return false;
    out[n++] = line.substr(start, i - start);
  }
  return n == N;
}

std::optional<unsigned> parse_hex(std::string_view text) {
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), v, 16);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<ProcArpEntry> parse_line(std::string_view line) {
  // IP address  HW type  Flags  HW address  Mask  Device
  // A NUL would end the text early for C parsers (inet_pton) and hide trailing garbage.
  if (line.find('\0') != std::string_view::npos) return std::nullopt;
  std::array<std::string_view, 6> f;
  if (!split_fields(line, f)) return std::nullopt;
  auto ip = Ipv4Addr::parse(f[0]);
  auto hw_type = parse_hex(f[1]);
  auto flags = parse_hex(f[2]);
  auto mac = MacAddr::parse(f[3]);
  if (!ip || !hw_type || !flags || !mac) return std::nullopt;
  return ProcArpEntry{IpAddr::from_v4(*ip), *mac, *flags, std::string(f[5])};
}

}  // namespace

std::vector<ProcArpEntry> parse_proc_arp(std::string_view text) {
  std::vector<ProcArpEntry> entries;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    // The header and garbage fail to parse; incomplete entries carry flags 0x0 and a zero MAC.
    auto e = parse_line(line);
    if (e && (e->flags & kArpFlagComplete) && !e->mac.is_zero()) entries.push_back(std::move(*e));
  }
  return entries;
}

Result<std::vector<ProcArpEntry>> read_proc_arp(const std::string& path) {
  // /proc files report size 0, so read until EOF rather than by size.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return make_error("cannot open " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return parse_proc_arp(text);
}

}  // namespace vsgate
