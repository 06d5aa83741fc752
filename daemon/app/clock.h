// The two clocks of the control plane, in microseconds.
#pragma once

#include <chrono>
#include <cstdint>

namespace vsgate {

// Monotonic: deadlines and intervals on the main lcore.
inline uint64_t monotonic_us() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Wall clock (Unix epoch): times a client compares across restarts (status.started_us).
inline uint64_t unix_time_us() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace vsgate
