// Setting SNMP values from the snapshot's 64-bit numbers. net-snmp's struct counter64 holds two
// 32-bit halves in (64-bit) longs: a value must be split, not stored in `low`, or everything
// above 2^32 is lost on the wire.
#pragma once

// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
// clang-format on

#include <cstdint>
#include <string_view>

#include "common/net_types.h"

namespace vsgate::snmp {

inline counter64 to_counter64(uint64_t v) {
  counter64 c{};
  c.high = static_cast<u_long>(v >> 32);
  c.low = static_cast<u_long>(v & 0xffffffffu);
  return c;
}

inline uint64_t from_counter64(const counter64& c) {
  return (static_cast<uint64_t>(c.high & 0xffffffffu) << 32) | (c.low & 0xffffffffu);
}

// Gauge32 and TimeTicks stop at their maximum instead of wrapping.
inline uint32_t saturate32(uint64_t v) {
  return v > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(v);
}

// Counter64 and CounterBasedGauge64 (both ASN_COUNTER64).
inline int set_counter64(netsnmp_variable_list* var, uint64_t v) {
  const counter64 c = to_counter64(v);
  return snmp_set_var_typed_value(var, ASN_COUNTER64, &c, sizeof c);
}

// ASN_GAUGE (Gauge32, Unsigned32), ASN_TIMETICKS, ASN_COUNTER.
inline int set_unsigned(netsnmp_variable_list* var, u_char type, uint64_t v) {
  const u_long u = saturate32(v);
  return snmp_set_var_typed_value(var, type, &u, sizeof u);
}

inline int set_integer(netsnmp_variable_list* var, long v) {
  return snmp_set_var_typed_value(var, ASN_INTEGER, &v, sizeof v);
}

inline int set_octets(netsnmp_variable_list* var, const void* data, size_t len) {
  return snmp_set_var_typed_value(var, ASN_OCTET_STR, data, len);
}
inline int set_string(netsnmp_variable_list* var, std::string_view s) {
  return set_octets(var, s.data(), s.size());
}

// InetAddressType and InetAddress (RFC 4001): ipv4(1) with 4 bytes, ipv6(2) with 16, in network
// order.
inline long inet_address_type(const IpAddr& a) { return a.is_v4() ? 1 : 2; }
inline int set_inet_address(netsnmp_variable_list* var, const IpAddr& a) {
  return set_octets(var, a.bytes.data(), a.size());
}

}  // namespace vsgate::snmp
