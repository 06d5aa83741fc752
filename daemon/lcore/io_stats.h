// Per-lcore io counters in the style of DPDK's load_balancer example. Each block has exactly one
// writer (its lcore) and is read by the main lcore, which sums across lcores; relaxed atomics keep
// that race-free without a locked instruction on the fast path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace vsgate {

class Counter {
 public:
  void add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void inc() { add(1); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

enum class DropReason : uint8_t {
  runt,               // frame shorter than an Ethernet header
  ipv4_truncated,     // frame shorter than the IPv4 header or its total length
  ipv4_bad_header,    // version != 4, IHL < 5, total length < header length
  ipv4_bad_checksum,  // header checksum wrong
  l4_bad_header,      // TCP/UDP to a VIP or local address: truncated, bad data offset/length
  lb_fragment,        // IP fragment to a VIP or local address (per-worker tables cannot follow)
  lb_vip_no_service,  // to a VIP, but no service on that protocol/port
  lb_tcp_no_conn,     // TCP without SYN and without a connection
  lb_no_dest,         // no real server available (all weight 0 or overloaded)
  lb_conn_table_full,
  lb_no_local_port,  // FULLNAT: local addresses and ports exhausted
  lb_no_neighbour,   // DR/TUNNEL/LB next hop not resolved yet (resolution requested)
  lb_too_big,        // TUNNEL: encapsulated packet exceeds the port MTU
  count
};
inline constexpr std::array<std::string_view, static_cast<size_t>(DropReason::count)>
    kDropReasonNames{
        "runt",          "ipv4_truncated",     "ipv4_bad_header",   "ipv4_bad_checksum",
        "l4_bad_header", "lb_fragment",        "lb_vip_no_service", "lb_tcp_no_conn",
        "lb_no_dest",    "lb_conn_table_full", "lb_no_local_port",  "lb_no_neighbour",
        "lb_too_big"};

inline constexpr unsigned kMaxRxQueuesPerWorker = 16;

struct alignas(64) WorkerStats {
  Counter rx_iterations;  // loop turns; also the worker's heartbeat for the watchdog
  Counter rx_packets;
  Counter rx_bursts;  // non-empty bursts, for the average burst size
  Counter tx_packets;
  Counter tx_drops;        // tx queue full: freed
  Counter punted;          // handed to the exception path
  Counter punt_drops;      // punt ring full
  Counter injected;        // from the exception path, sent on a port
  Counter inject_drops;    // from the exception path, tx queue full
  Counter forwarded;       // transit IPv4 forwarded by the data plane
  Counter emitted;         // packets a module created and sent (EmitContext)
  Counter emit_no_mbuf;    // a module could not create a packet: the mempool was empty
  Counter redirected;      // handed to the worker that owns the flow (Verdict::redirect)
  Counter redirect_drops;  // that worker's redirect ring was full, or a redirect bounced
  Counter redirect_in;     // received from other workers and decided here
  std::array<Counter, kMaxRxQueuesPerWorker> rx_queue_packets;
  std::array<Counter, static_cast<size_t>(DropReason::count)> dropped;

  void drop(DropReason r) { dropped[static_cast<size_t>(r)].inc(); }
  uint64_t dropped_total() const {
    uint64_t t = 0;
    for (const auto& c : dropped) t += c.get();
    return t;
  }
};

// The sum over all workers, read while they keep counting: each field is a consistent 64-bit
// value, the set as a whole is a snapshot taken over a few nanoseconds.
struct WorkerTotals {
  uint64_t rx_iterations = 0, rx_packets = 0, rx_bursts = 0, tx_packets = 0, tx_drops = 0,
           punted = 0, punt_drops = 0, injected = 0, inject_drops = 0, forwarded = 0, emitted = 0,
           emit_no_mbuf = 0, redirected = 0, redirect_drops = 0, redirect_in = 0;
  std::array<uint64_t, static_cast<size_t>(DropReason::count)> dropped{};
  uint64_t dropped_total() const {
    uint64_t t = 0;
    for (auto d : dropped) t += d;
    return t;
  }
};

template <class Range>  // of const WorkerStats* (or anything dereferencing to one)
WorkerTotals sum_worker_stats(const Range& workers) {
  WorkerTotals t;
  for (const auto& w : workers) {
    const WorkerStats& s = *w;
    t.rx_iterations += s.rx_iterations.get();
    t.rx_packets += s.rx_packets.get();
    t.rx_bursts += s.rx_bursts.get();
    t.tx_packets += s.tx_packets.get();
    t.tx_drops += s.tx_drops.get();
    t.punted += s.punted.get();
    t.punt_drops += s.punt_drops.get();
    t.injected += s.injected.get();
    t.inject_drops += s.inject_drops.get();
    t.forwarded += s.forwarded.get();
    t.emitted += s.emitted.get();
    t.emit_no_mbuf += s.emit_no_mbuf.get();
    t.redirected += s.redirected.get();
    t.redirect_drops += s.redirect_drops.get();
    t.redirect_in += s.redirect_in.get();
    for (size_t r = 0; r < t.dropped.size(); ++r) t.dropped[r] += s.dropped[r].get();
  }
  return t;
}

// Exception-path counters, written by the main lcore only.
struct alignas(64) ExceptionPathStats {
  Counter to_host;
  Counter to_host_drops;
  Counter from_host;
  Counter from_host_drops;
};

}  // namespace vsgate
