// Incremental checksum updates against a full recomputation, and the combined update
// (csum_delta4/csum_apply) against the field-by-field one it replaces on the packet path.
#include "ipv4/csum.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace vsgate {
namespace {

// RFC 1071 over 16-bit words as they sit in memory.
uint16_t full_checksum(const uint16_t* w, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += w[i];
  return static_cast<uint16_t>(~csum_fold(sum));
}

// Rewrites words [2..7) of a 10-word "header" (two addresses and two ports) both ways.
struct Case {
  uint16_t words[10];
  uint32_t src, dst;
  uint16_t sport, dport;
};

uint16_t field_by_field(const Case& c) {
  uint32_t old_src, old_dst;
  std::memcpy(&old_src, &c.words[2], 4);
  std::memcpy(&old_dst, &c.words[4], 4);
  uint16_t check = csum_replace4(c.words[0], old_src, c.src);
  check = csum_replace4(check, old_dst, c.dst);
  check = csum_replace2(check, c.words[6], c.sport);
  return csum_replace2(check, c.words[7], c.dport);
}

uint16_t combined(const Case& c) {
  uint32_t old_src, old_dst, old_ports, new_ports;
  std::memcpy(&old_src, &c.words[2], 4);
  std::memcpy(&old_dst, &c.words[4], 4);
  std::memcpy(&old_ports, &c.words[6], 4);
  const uint16_t p[2] = {c.sport, c.dport};
  std::memcpy(&new_ports, p, 4);
  return csum_apply(c.words[0], csum_delta4(old_src, c.src) + csum_delta4(old_dst, c.dst) +
                                    csum_delta4(old_ports, new_ports));
}

TEST(Csum, CombinedUpdateEqualsFieldByFieldAndFullRecomputation) {
  std::mt19937_64 rng(7);
  // Edge values as well as random ones: 0 and 0xffff are the two zeros of one's complement.
  const uint32_t edges[] = {0, 0xffffffffu, 0xffff, 0xffff0000u, 1};
  for (int iter = 0; iter < 200000; ++iter) {
    Case c;
    for (auto& w : c.words) w = static_cast<uint16_t>(rng());
    auto pick32 = [&] { return rng() % 4 == 0 ? edges[rng() % 5] : static_cast<uint32_t>(rng()); };
    for (int i = 2; i < 8; i += 2) {
      const uint32_t v = pick32();
      std::memcpy(&c.words[i], &v, 4);
    }
    c.src = pick32();
    c.dst = pick32();
    c.sport = static_cast<uint16_t>(pick32());
    c.dport = static_cast<uint16_t>(pick32());
    // A valid checksum to start from.
    c.words[0] = 0;
    c.words[0] = full_checksum(c.words, 10);
    const uint16_t inc = combined(c);
    ASSERT_EQ(inc, field_by_field(c)) << "iteration " << iter;
    Case after = c;
    std::memcpy(&after.words[2], &c.src, 4);
    std::memcpy(&after.words[4], &c.dst, 4);
    after.words[6] = c.sport;
    after.words[7] = c.dport;
    after.words[0] = inc;
    // The updated header verifies (sums to 0xffff, or to 0 in the all-zero corner).
    uint32_t sum = 0;
    for (uint16_t w : after.words) sum += w;
    const uint16_t folded = csum_fold(sum);
    ASSERT_TRUE(folded == 0xffff || folded == 0) << "iteration " << iter;
  }
}

}  // namespace
}  // namespace vsgate
