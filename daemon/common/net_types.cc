#include "common/net_types.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace vsgate {

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  // inet_pton accepts exactly the dotted-quad form, which is what configs and users write.
  // inet_pton stops at a NUL: "10.0.0.1\0junk" must not pass.
  if (text.empty() || text.size() > 15 || text.find('\0') != std::string_view::npos)
    return std::nullopt;
  char buf[16];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  in_addr a{};
  if (inet_pton(AF_INET, buf, &a) != 1) return std::nullopt;
  return Ipv4Addr{a.s_addr};
}

std::string Ipv4Addr::str() const {
  char buf[INET_ADDRSTRLEN];
  in_addr a{be};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = Ipv4Addr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return Ipv4Prefix{*addr, 32};
  auto len_text = text.substr(slash + 1);
  unsigned len = 0;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || ec != std::errc{} || end != len_text.data() + len_text.size() || len > 32)
    return std::nullopt;
  return Ipv4Prefix{*addr, static_cast<uint8_t>(len)};
}

std::string Ipv4Prefix::str() const { return addr.str() + "/" + std::to_string(len); }

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  MacAddr m;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    auto part = text.substr(i * 3, 2);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + 2, v, 16);
    if (ec != std::errc{} || end != part.data() + 2) return std::nullopt;
    m.bytes[i] = static_cast<uint8_t>(v);
  }
  return m;
}

std::string MacAddr::str() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (auto v4 = Ipv4Addr::parse(text)) return from_v4(*v4);
  // inet_pton(AF_INET6) takes exactly the RFC 4291 text forms; it stops at a NUL.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN - 1 ||
      text.find('\0') != std::string_view::npos)
    return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  in6_addr a{};
  if (inet_pton(AF_INET6, buf, &a) != 1) return std::nullopt;
  IpAddr r;
  r.family = AddrFamily::ipv6;
  std::memcpy(r.bytes.data(), &a, 16);
  return r;
}

std::string IpAddr::str() const {
  if (is_v4()) return v4().str();
  char buf[INET6_ADDRSTRLEN];
  in6_addr a{};
  std::memcpy(&a, bytes.data(), 16);
  inet_ntop(AF_INET6, &a, buf, sizeof buf);  // RFC 5952 form
  return buf;
}

bool IpAddr::is_unicast() const {
  if (is_v4()) {
    const uint8_t first = bytes[0];
    return first != 0 && first != 127 && first < 224;
  }
  if (is_zero()) return false;
  const bool loopback =
      std::all_of(bytes.begin(), bytes.end() - 1, [](uint8_t b) { return b == 0; }) &&
      bytes[15] == 1;
  const bool multicast = bytes[0] == 0xff;
  const bool link_local = bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
  return !loopback && !multicast && !link_local;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto addr = IpAddr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  const unsigned max = addr->is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) return IpPrefix{*addr, static_cast<uint8_t>(max)};
  auto len_text = text.substr(slash + 1);
  unsigned len = 0;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || ec != std::errc{} || end != len_text.data() + len_text.size() ||
      len > max)
    return std::nullopt;
  return IpPrefix{*addr, static_cast<uint8_t>(len)};
}

std::string IpPrefix::str() const { return addr.str() + "/" + std::to_string(len); }

IpPrefix IpPrefix::network() const {
  IpPrefix n = *this;
  for (size_t i = 0; i < n.addr.bytes.size(); ++i) {
    const int bits = static_cast<int>(len) - static_cast<int>(i * 8);
    if (bits >= 8) continue;
    n.addr.bytes[i] &= bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
  }
  return n;
}

bool IpPrefix::contains(const IpAddr& a) const {
  if (a.family != addr.family) return false;
  IpPrefix other{a, len};
  return other.network().addr == network().addr;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view addr_text, port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    addr_text = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    addr_text = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto addr = IpAddr::parse(addr_text);
  // An IPv6 address needs its brackets: "::1:80" could be read two ways.
  if (!addr || (addr->is_v6() && text.front() != '[')) return std::nullopt;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535)
    return std::nullopt;
  return Endpoint{*addr, L4Port::from_host(static_cast<uint16_t>(port))};
}

std::string Endpoint::str() const {
  const std::string a = addr.str();
  return (addr.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(port.host());
}

std::optional<HostPort> split_host_port(std::string_view text) {
  std::string_view addr_text = text;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    addr_text = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    if (!rest.empty()) port = rest.substr(1);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const size_t colon = text.find(':');
    addr_text = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto addr = IpAddr::parse(addr_text);
  if (!addr || (text.front() == '[' && !addr->is_v6()) || (port && port->empty()))
    return std::nullopt;
  return HostPort{*addr, port};
}

}  // namespace vsgate
