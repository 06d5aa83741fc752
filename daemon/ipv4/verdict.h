// What a worker does with a packet once it is decided.
#pragma once

#include <cstdint>

#include "lcore/io_stats.h"

namespace vsgate {

enum class Verdict : uint8_t {
  forward,   // transmit on `out_port`; the headers are rewritten
  punt,      // to the host stack (exception path)
  drop,      // freed and counted under `reason`
  consumed,  // a module kept or freed the mbuf: the worker does nothing more with it
  pass,      // from a pre-routing hook only: not the hook's, IPv4 decides
};

struct Decision {
  Verdict verdict;
  DropReason reason;  // valid when verdict == drop
  uint16_t out_port;  // valid when verdict == forward
};

inline Decision forward_to(uint16_t port) { return {Verdict::forward, DropReason::count, port}; }
inline Decision punt() { return {Verdict::punt, DropReason::count, 0}; }
inline Decision drop(DropReason r) { return {Verdict::drop, r, 0}; }
inline Decision pass() { return {Verdict::pass, DropReason::count, 0}; }
inline Decision consumed() { return {Verdict::consumed, DropReason::count, 0}; }

}  // namespace vsgate
