// How many connection entries the expiry sweep examines in a loop turn: the whole table once per
// period of the connection clock, whatever the packet rate, in steps of at most `max_per_turn`.
//
// A fixed budget per loop turn (64 until issue 9) swept a 1M table twenty times a second at full
// load, two entries and about 45 instructions per packet, while an idle table was swept no
// faster than it needed. Paced by time, the sweep costs capacity / (period x packet rate) entries
// per packet: about 0.26 at 1M entries and 4 Mpps per worker. The price is how late an expired
// connection that no packet looks up leaves the table: up to one period (plus the turns the
// steps take), instead of tens of milliseconds. Lookups still expire connections at once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace vsgate {

class SweepPacer {
 public:
  // `period_ticks` > 0: ticks of the connection clock (lb/core/conn_table.h) per full sweep.
  SweepPacer(uint32_t period_ticks, uint32_t max_per_turn)
      : period_(period_ticks), max_per_turn_(max_per_turn) {}

  // Entries to examine now, in a table of `capacity` entries at `now` (ticks). The first call
  // only starts the clock. A tick adds capacity / period entries (the remainder carries);
  // what one turn cannot take waits for the next, and at most one whole table is ever owed.
  uint32_t due(uint32_t now, size_t capacity) {
    if (!started_) {
      started_ = true;
      last_ = now;
      return 0;
    }
    if (now != last_) {
      // The clock only moves forward; a sample that went backwards (another core's TSC) adds
      // nothing and is not taken as the new start.
      const auto elapsed = static_cast<int32_t>(now - last_);
      if (elapsed > 0) {
        const uint64_t ticks = std::min<uint64_t>(static_cast<uint32_t>(elapsed), period_);
        const uint64_t acc = ticks * capacity + remainder_;
        owed_ = std::min<uint64_t>(owed_ + acc / period_, capacity);
        remainder_ = acc % period_;
        last_ = now;
      }
    }
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(owed_, max_per_turn_));
    owed_ -= n;
    return n;
  }

  uint64_t owed() const { return owed_; }

 private:
  uint32_t period_;
  uint32_t max_per_turn_;
  bool started_ = false;
  uint32_t last_ = 0;
  uint64_t owed_ = 0;
  uint64_t remainder_ = 0;
};

}  // namespace vsgate
