// Rate limit for a log line that may repeat every loop turn: the first one is logged, the
// repeats within `interval_us` are only counted, and the next one logged says how many were
// left out.
#pragma once

#include <cstdint>
#include <string>

namespace vsgate {

class LogLimiter {
 public:
  static constexpr uint64_t kDefaultIntervalUs = 60'000'000;  // at most once a minute

  explicit LogLimiter(uint64_t interval_us = kDefaultIntervalUs) : interval_us_(interval_us) {}

  // True when a line may be logged at `now_us` (monotonic); `suppressed` is then the number of
  // lines left out since the last one logged (and the count starts again).
  bool allow(uint64_t now_us, uint64_t& suppressed) {
    if (logged_ && now_us - last_us_ < interval_us_) {
      ++suppressed_;
      return false;
    }
    logged_ = true;
    last_us_ = now_us;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }
  // Forget the last line (the condition is over): the next one is logged at once.
  void reset() { logged_ = false; }
  uint64_t pending_suppressed() const { return suppressed_; }

 private:
  uint64_t interval_us_;
  bool logged_ = false;
  uint64_t last_us_ = 0;
  uint64_t suppressed_ = 0;
};

// What a line logged after some were left out ends with: "" or " (N similar messages suppressed)".
inline std::string suppressed_note(uint64_t suppressed) {
  return suppressed ? " (" + std::to_string(suppressed) + " similar messages suppressed)" : "";
}

}  // namespace vsgate
