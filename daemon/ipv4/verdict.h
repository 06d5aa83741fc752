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
  redirect,  // another worker owns the packet's flow: hand it over (`out_port` = that worker)
  pass,      // from a pre-routing hook only: not the hook's, IPv4 decides
};

struct Decision {
  Verdict verdict;
  DropId reason;      // verdict == drop: the counter (a module's reason, drop_id()), else kNoDrop
  uint16_t out_port;  // verdict == forward: the port; verdict == redirect: the worker
};

inline Decision forward_to(uint16_t port) { return {Verdict::forward, kNoDrop, port}; }
inline Decision punt() { return {Verdict::punt, kNoDrop, 0}; }
template <DropReasonEnum E>  // Ipv4Drop, LbDrop, ...: the reason of the module that drops
inline Decision drop(E r) {
  return {Verdict::drop, drop_id(r), 0};
}
inline Decision pass() { return {Verdict::pass, kNoDrop, 0}; }
inline Decision consumed() { return {Verdict::consumed, kNoDrop, 0}; }
inline Decision redirect_to(uint16_t worker) { return {Verdict::redirect, kNoDrop, worker}; }

}  // namespace vsgate
