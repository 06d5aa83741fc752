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

}  // namespace vsgate
