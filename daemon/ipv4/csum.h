// Incremental Internet checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')), for
// rewriting addresses and ports without summing the whole packet again. All values are taken
// exactly as they sit in the packet (network byte order); one's-complement sums do not care
// about byte order as long as every word is treated alike.
#pragma once

#include <cstdint>

namespace vsgate {

inline uint16_t csum_fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// A 16-bit word of the covered data changes from `from` to `to`.
[[nodiscard]] inline uint16_t csum_replace2(uint16_t check, uint16_t from, uint16_t to) {
  const uint32_t sum =
      static_cast<uint16_t>(~check) + static_cast<uint32_t>(static_cast<uint16_t>(~from)) + to;
  return static_cast<uint16_t>(~csum_fold(sum));
}

// A 32-bit field (an IPv4 address) changes: two 16-bit words at once.
[[nodiscard]] inline uint16_t csum_replace4(uint16_t check, uint32_t from, uint32_t to) {
  uint32_t sum = static_cast<uint16_t>(~check);
  sum += static_cast<uint16_t>(~from) + static_cast<uint16_t>(~(from >> 16));
  sum += (to & 0xffff) + (to >> 16);
  return static_cast<uint16_t>(~csum_fold(sum));
}

// Several fields at once: sum the changes with csum_delta4() and apply the sum once. A change
// of a 32-bit field (an address, or two adjacent 16-bit ports) is the addend ~from + to: 32-bit
// words may be summed as such, because 2^16 = 1 modulo 0xffff. The result is exactly that of
// csum_replace4()/csum_replace2() applied field by field (both are the one's-complement sum of
// the same words), in far fewer instructions.
[[nodiscard]] inline uint64_t csum_delta4(uint32_t from, uint32_t to) {
  return uint64_t{~from} + to;
}

// HC' = ~(~HC + delta), `delta` a sum of (up to 2^31) csum_delta4() terms.
[[nodiscard]] inline uint16_t csum_apply(uint16_t check, uint64_t delta) {
  uint64_t sum = static_cast<uint16_t>(~check) + delta;
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  return static_cast<uint16_t>(~csum_fold(static_cast<uint32_t>(sum)));
}

}  // namespace vsgate
