// Strong types for addresses and ports. Values are kept in network byte order,
// exactly as they sit in packet headers, so the fast path never converts.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vsgate {

struct Ipv4Addr {
  uint32_t be = 0;  // network byte order

  static constexpr Ipv4Addr from_host(uint32_t host_order) {
    return Ipv4Addr{__builtin_bswap32(host_order)};
  }
  constexpr uint32_t host() const { return __builtin_bswap32(be); }
  // Dotted quad only ("10.0.0.1"); nullopt on anything else.
  static std::optional<Ipv4Addr> parse(std::string_view text);
  std::string str() const;
  constexpr bool is_zero() const { return be == 0; }
  constexpr auto operator<=>(const Ipv4Addr& o) const { return host() <=> o.host(); }
  constexpr bool operator==(const Ipv4Addr&) const = default;
};

// An address with a prefix length, e.g. an interface address 10.0.0.1/24 or a route 10.0.0.0/24.
struct Ipv4Prefix {
  Ipv4Addr addr;
  uint8_t len = 32;

  // "a.b.c.d/n" (n in 0..32) or "a.b.c.d" (= /32).
  static std::optional<Ipv4Prefix> parse(std::string_view text);
  std::string str() const;
  constexpr uint32_t mask_host() const { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
  constexpr Ipv4Addr network() const { return Ipv4Addr::from_host(addr.host() & mask_host()); }
  constexpr bool contains(Ipv4Addr a) const {
    return (a.host() & mask_host()) == (addr.host() & mask_host());
  }
  constexpr auto operator<=>(const Ipv4Prefix&) const = default;
};

struct MacAddr {
  std::array<uint8_t, 6> bytes{};

  // "aa:bb:cc:dd:ee:ff" (case-insensitive); nullopt on anything else.
  static std::optional<MacAddr> parse(std::string_view text);
  std::string str() const;  // lower-case, colon-separated
  constexpr bool is_zero() const {
    for (auto b : bytes)
      if (b) return false;
    return true;
  }
  constexpr auto operator<=>(const MacAddr&) const = default;
};

struct L4Port {
  uint16_t be = 0;  // network byte order
  static constexpr L4Port from_host(uint16_t h) { return L4Port{__builtin_bswap16(h)}; }
  constexpr uint16_t host() const { return __builtin_bswap16(be); }
  constexpr auto operator<=>(const L4Port& o) const { return host() <=> o.host(); }
  constexpr bool operator==(const L4Port&) const = default;
};

// The family-generic vocabulary of the control side (model, config, control protocol,
// vsgatectl, SNMP, host mirror): an address that is IPv4 or IPv6, with prefix and endpoint.
// The data plane keys IPv4 compactly (Ipv4Addr, ConnTuple); these convert to and from it.
enum class AddrFamily : uint8_t { ipv4 = 4, ipv6 = 6 };

struct IpAddr {
  AddrFamily family = AddrFamily::ipv4;
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 in the first 4 bytes, the rest 0

  static constexpr IpAddr from_v4(Ipv4Addr a) {
    IpAddr r;
    r.bytes[0] = static_cast<uint8_t>(a.be);
    r.bytes[1] = static_cast<uint8_t>(a.be >> 8);
    r.bytes[2] = static_cast<uint8_t>(a.be >> 16);
    r.bytes[3] = static_cast<uint8_t>(a.be >> 24);
    return r;
  }
  // "10.0.0.1" or an IPv6 address in any RFC 4291 form ("2001:db8::1"); nullopt otherwise
  // (IPv4-mapped and embedded forms are IPv6).
  static std::optional<IpAddr> parse(std::string_view text);
  std::string str() const;  // dotted quad, or RFC 5952 (lower case, longest zero run "::")
  constexpr bool is_v4() const { return family == AddrFamily::ipv4; }
  constexpr bool is_v6() const { return family == AddrFamily::ipv6; }
  // The IPv4 address; only for is_v4().
  constexpr Ipv4Addr v4() const {
    return Ipv4Addr{uint32_t{bytes[0]} | uint32_t{bytes[1]} << 8 | uint32_t{bytes[2]} << 16 |
                    uint32_t{bytes[3]} << 24};
  }
  constexpr bool is_zero() const {
    for (auto b : bytes)
      if (b) return false;
    return true;
  }
  // Usable as a host address: not unspecified, loopback, multicast (or for IPv4: 0/8,
  // 127/8, 224/4, 240/4; for IPv6 also not link-local fe80::/10).
  bool is_unicast() const;
  size_t size() const { return is_v4() ? 4 : 16; }  // bytes of the address
  // IPv4 before IPv6, then numerically.
  constexpr auto operator<=>(const IpAddr&) const = default;
  constexpr bool operator==(const IpAddr&) const = default;
};

struct IpPrefix {
  IpAddr addr;
  uint8_t len = 32;

  // "ADDR/N" (N up to 32 or 128) or "ADDR" (a host prefix).
  static std::optional<IpPrefix> parse(std::string_view text);
  std::string str() const;
  IpPrefix network() const;  // the address with the host bits cleared
  bool contains(const IpAddr& a) const;
  constexpr auto operator<=>(const IpPrefix&) const = default;
};

// An address and a port: "10.0.0.1:80" or "[2001:db8::1]:80".
struct Endpoint {
  IpAddr addr;
  L4Port port;

  static std::optional<Endpoint> parse(std::string_view text);  // port 1..65535
  std::string str() const;
  constexpr auto operator<=>(const Endpoint&) const = default;
};

// An address with an optional port, as ipvsadm and the config write them: "A.B.C.D",
// "A.B.C.D:PORT", "[IPV6]", "[IPV6]:PORT", or a bare IPv6 address (its colons are its own, so no
// port). The port is returned as text, never empty; what a caller accepts as a port is its own.
struct HostPort {
  IpAddr addr;
  std::optional<std::string_view> port;  // a view into the text given
};
std::optional<HostPort> split_host_port(std::string_view text);

}  // namespace vsgate
