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
  const uint32_t sum = static_cast<uint16_t>(~check) + static_cast<uint32_t>(
                           static_cast<uint16_t>(~from)) + to;
  return static_cast<uint16_t>(~csum_fold(sum));
}

// A 32-bit field (an IPv4 address) changes: two 16-bit words at once.
[[nodiscard]] inline uint16_t csum_replace4(uint16_t check, uint32_t from, uint32_t to) {
  uint32_t sum = static_cast<uint16_t>(~check);
  sum += static_cast<uint16_t>(~from) + static_cast<uint16_t>(~(from >> 16));
  sum += (to & 0xffff) + (to >> 16);
  return static_cast<uint16_t>(~csum_fold(sum));
}

}  // namespace vsgate
