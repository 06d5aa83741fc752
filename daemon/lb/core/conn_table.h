// Per-worker connection table: every connection is found from either direction (client -> VIP
// as received, and the reply as it arrives from the real server), expires lazily from a
// last-seen timestamp, and lives in memory preallocated at construction. Single-threaded by
// design (one table per worker): no locks, no atomics, no allocation per operation.
// Layout, sizes and measurements: docs/CONNECTIONS.md.
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/flow.h"
#include "lb/core/tcp_state.h"
#include "lb/types.h"

namespace vsgate {

// Connection time is counted in ticks of 1/16 s in a uint32_t. The coarse tick keeps expiry
// arithmetic in 32 bits with years of headroom: ages are computed as int32_t(now - last_seen),
// correct across the 2^32 wrap as long as a connection is looked at (lookup or sweep) within
// 2^31 ticks (~4.2 years) of its last packet; the sweep guarantees that.
inline constexpr uint32_t kTicksPerSecond = 16;
// Longest accepted timeout, far below 2^31 ticks.
inline constexpr uint32_t kMaxTimeoutS = 365 * 24 * 3600;

constexpr uint32_t ticks_from_seconds(uint32_t s) { return s * kTicksPerSecond; }
// Rounded up, so a connection with time left never shows 0 s.
constexpr uint32_t seconds_from_ticks(uint32_t t) {
  return t / kTicksPerSecond + (t % kTicksPerSecond != 0);
}

// Timeout per state, in ticks. The table holds a copy and reads it at expiry time only, so a
// change (`ipvsadm --set`) applies at once to existing connections.
struct Timeouts {
  std::array<uint32_t, kTcpStateCount> tcp{};  // by TcpState
  uint32_t udp = 0;                            // UDP and any other non-TCP protocol

  static Timeouts ipvs_defaults();
  // `ipvsadm --set tcp tcpfin udp` in seconds: ESTABLISHED, FIN_WAIT and UDP. 0 keeps the
  // current value, as in ipvsadm. False (and nothing changed) if a value exceeds kMaxTimeoutS.
  bool set_ipvsadm(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s);
  // The three values `ipvsadm -L --timeout` prints, in seconds.
  uint32_t tcp_s() const { return seconds_from_ticks(tcp[size_t(TcpState::established)]); }
  uint32_t tcpfin_s() const { return seconds_from_ticks(tcp[size_t(TcpState::fin_wait)]); }
  uint32_t udp_s() const { return seconds_from_ticks(udp); }
  bool operator==(const Timeouts&) const = default;
};

// Whether the CPU has PREFETCHW (CPUID.80000001H:ECX.PRFCHW), read once at start-up.
extern const bool kCpuHasPrefetchw;

// Prefetch of a line the caller is about to write. With a plain prefetch the line may arrive
// shared, and the first store then waits for a second trip to memory to own it: at 1M
// connections the established path took about 1.5 times as long (docs/PERFORMANCE.md).
// __builtin_prefetch(p, 1) emits PREFETCHW only when the target enables it, and DPDK builds
// for -march=corei7, so it is spelled out here for CPUs that have it.
inline void prefetch_for_write(const void* p) {
#if defined(__x86_64__)
  if (kCpuHasPrefetchw) {
    asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
    return;
  }
#endif
  __builtin_prefetch(p, 1);
}

// One direction of a connection without the protocol (stored once per connection).
struct ConnKey {
  uint32_t src_ip = 0;
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};
static_assert(sizeof(ConnKey) == 12);

// Which key of the connection a packet matched: `in` = client -> VIP, `out` = real-server reply.
enum class Direction : uint8_t { in = 0, out = 1 };

// The hot part of a connection: one cache line. The keys are owned by the table (they are what
// the index points at); the public fields belong to the caller. Rare state (SYN proxy sequence
// deltas, ...) lives elsewhere and is reached through `ext`.
class alignas(64) Conn {
 private:
  friend class ConnTable;
  enum Flag : uint8_t {
    kUsed = 1,         // slot holds a connection (sweep, for_each)
    kOutKey = 2,       // `out` is in the index
    kActive = 4,       // counted in its real server's ActiveConn (else InActConn)
    kTemplate = 8,     // persistence template (-p), not a real flow
    kOutputSeen = 16,  // a reply passed through us: leave the TCP input-only table
  };
  ConnKey in_;         //  0: client -> VIP
  ConnKey out_;        // 12: real server -> laddr (FULLNAT) / client (NAT); zero if absent
  uint8_t proto_ = 0;  // 24
  uint8_t flags_ = 0;  // 25
  uint8_t state_ = 0;  // 26: TcpState for TCP, 0 ("UDP") otherwise

 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  FwdMode fwd = FwdMode::fullnat;  // 27
  uint32_t last_seen = 0;        // 28: tick of the last packet; touching a connection = this store
  uint32_t fixed_timeout = 0;    // 32: ticks; nonzero overrides the state timeout (templates)
  uint32_t service = kNone;      // 36: service index
  uint32_t real_server = kNone;  // 40: real-server index
  uint16_t laddr = 0;            // 44: local-address index (FULLNAT), to give the lport back
  uint32_t ext = kNone;          // 48: handle of rare state kept outside the table

 private:
  uint32_t hash_in_ = 0;   // 52: cached index hashes, so erase never rehashes;
  uint32_t hash_out_ = 0;  // 56: hash_in_ doubles as the free-list link while unused

 public:
  const ConnKey& in() const { return in_; }
  const ConnKey& out() const { return out_; }
  uint8_t proto() const { return proto_; }
  ConnTuple in_tuple() const { return tuple(in_); }
  ConnTuple out_tuple() const { return tuple(out_); }
  bool has_out_key() const { return flags_ & kOutKey; }
  bool is_template() const { return flags_ & kTemplate; }
  void set_template(bool on) { flags_ = on ? (flags_ | kTemplate) : (flags_ & ~kTemplate); }
  // Whether the connection is counted as ActiveConn. Connections start inactive (as in IPVS);
  // only TCP state changes move them, and the caller mirrors each move on its counters.
  bool is_active() const { return flags_ & kActive; }
  uint8_t state() const { return state_; }
  TcpState tcp_state() const { return static_cast<TcpState>(state_); }
  void touch(uint32_t now) { last_seen = now; }

  // Feeds one TCP segment seen in direction `dir`: picks the IPVS table (input-only for DR and
  // TUNNEL until a reply is seen), moves the state, and reports an ActiveConn/InActConn move.
  TcpStateChange on_tcp_packet(Direction dir, uint8_t tcp_flags) {
    // The common segment: a plain ACK in ESTABLISHED, which stays ESTABLISHED in all three
    // tables, so the table walk is skipped.
    if (state_ == static_cast<uint8_t>(TcpState::established) &&
        (tcp_flags & (kTcpRst | kTcpSyn | kTcpFin | kTcpAck)) == kTcpAck) [[likely]] {
      if (dir == Direction::out) flags_ |= kOutputSeen;
      return {TcpState::established, TcpState::established, 0};
    }
    return on_tcp_segment(dir, tcp_flags);
  }
  // Sets a state directly (SYN proxy, LISTEN), with the same active/inactive bookkeeping.
  TcpStateChange set_tcp_state(TcpState to);

 private:
  TcpStateChange on_tcp_segment(Direction dir, uint8_t tcp_flags);
  ConnTuple tuple(const ConnKey& k) const {
    return {k.src_ip, k.dst_ip, k.src_port, k.dst_port, proto_};
  }
  bool matches(Direction dir, const ConnTuple& t) const {
    const ConnKey& k = dir == Direction::in ? in_ : out_;
    return k.src_ip == t.src_ip && k.dst_ip == t.dst_ip && k.src_port == t.src_port &&
           k.dst_port == t.dst_port && proto_ == t.proto;
  }
};
static_assert(sizeof(Conn) == 64, "a connection is one cache line");

// "ESTABLISHED", "SYN_RECV", ... for TCP, "UDP" for UDP, "NONE" for templates, as
// /proc/net/ip_vs_conn and `ipvsadm -L -c` print them.
std::string_view conn_state_name(const Conn& c);

struct LookupResult {
  Conn* conn = nullptr;
  Direction dir = Direction::in;
  explicit operator bool() const { return conn != nullptr; }
};

struct ConnTableOptions {
  Timeouts timeouts = Timeouts::ipvs_defaults();
  uint64_t hash_seed = 0;    // 0: random per table (hash flooding resistance)
  uint32_t hash_mask = ~0u;  // tests only: fewer hash bits force collisions and clusters
};

// Index health, for tests, docs and diagnostics (O(index) scan; not for the packet path).
struct ConnIndexStats {
  size_t keys = 0;
  size_t slots = 0;
  double mean_probe = 0;  // slots inspected by a successful lookup, on average
  size_t max_probe = 0;
};

class ConnTable {
 public:
  // Called for every connection removed by expiry (lazy, in lookup, or by sweep), before its
  // slot is freed, so the caller can decrement real-server counters and free its local port.
  // It must not insert into or erase from the table.
  using ExpireHook = void (*)(void* ctx, const Conn& conn);

  static constexpr size_t kMaxCapacity = size_t{1} << 29;

  // Preallocates everything: `capacity` entries and an index of 4 * capacity slots.
  // Throws std::invalid_argument (capacity 0 or > kMaxCapacity) or std::bad_alloc.
  explicit ConnTable(size_t capacity, const ConnTableOptions& options = {});
  ~ConnTable();
  ConnTable(const ConnTable&) = delete;
  ConnTable& operator=(const ConnTable&) = delete;

  void set_expire_hook(ExpireHook hook, void* ctx) {
    hook_ = hook;
    hook_ctx_ = ctx;
  }
  void set_timeouts(const Timeouts& t) { timeouts_ = t; }
  const Timeouts& timeouts() const { return timeouts_; }

  // Lookup in four steps for a burst, each over the whole burst: hash every packet, prefetch
  // every home slot, prefetch_entry() for each (by then its slot is in cache), then look up.
  // lookup(t, now) hashes and looks up one packet. The prefetches are hints only: they change
  // nothing, and lookup checks everything again. An expired connection found by lookup goes to
  // the expire hook, is removed, and the lookup reports a miss.
  uint32_t hash(const ConnTuple& t) const;
  void prefetch(uint32_t hash) const { __builtin_prefetch(&slots_[home(hash)]); }
  void prefetch_entry(uint32_t hash) const;
  LookupResult lookup(const ConnTuple& t, uint32_t hash, uint32_t now);
  LookupResult lookup(const ConnTuple& t, uint32_t now) { return lookup(t, hash(t), now); }

  // New connection keyed by `in` and, unless `out` is null (DR/TUNNEL), by `out` too; `out`
  // takes the protocol of `in`. nullptr when the table is full (the caller counts a drop).
  // The caller looks `in` up first; the table does not check for duplicates (a duplicate
  // `out`, e.g. NAT from one client port to two VIPs on one real server, is tolerated: lookup
  // returns one of them, as the IPVS hash chain does).
  // The new connection: state 0, inactive, last_seen = now, caller fields at their defaults.
  Conn* insert(const ConnTuple& in, const ConnTuple* out, uint32_t now);
  // Removes a connection (no hook call: the caller is the one removing it).
  void erase(Conn* c);

  // Examines the next `budget` entries round robin and removes the expired ones, calling
  // on_expire(const Conn&) (or the expire hook) for each. Returns how many were removed.
  // Called every loop iteration with a small budget, it covers the table continuously without
  // a timer per connection.
  template <class Fn>
  size_t sweep(uint32_t now, size_t budget, Fn&& on_expire);
  size_t sweep(uint32_t now, size_t budget);

  // Visits every stored connection, expired-but-not-yet-swept ones included (use expired() or
  // expires_in() to tell). fn(Conn&) may erase the connection it is given, but not insert.
  template <class Fn>
  void for_each(Fn&& fn);
  template <class Fn>
  void for_each(Fn&& fn) const;
  // The same walk in bounded steps: visits the entry slots [cursor, cursor + max_slots) (the
  // slots, used or not, bound the work) and returns where the next step starts, capacity()
  // at the end. Across steps a connection present throughout is visited exactly once; one
  // inserted or removed meanwhile may be missed. fn(const Conn&) only reads.
  template <class Fn>
  size_t for_each_from(size_t cursor, size_t max_slots, Fn&& fn) const;

  uint32_t timeout_of(const Conn& c) const;
  bool expired(const Conn& c, uint32_t now) const;
  uint32_t expires_in(const Conn& c, uint32_t now) const;  // ticks left, 0 if expired

  // Stable position of a connection in [0, capacity): a key for side tables of rare state.
  uint32_t index_of(const Conn& c) const { return static_cast<uint32_t>(&c - entries_); }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t index_slots() const { return nslots_; }
  size_t allocated_bytes() const;
  // Everything this table allocated (entries + index + the object) divided by capacity.
  double bytes_per_connection() const;
  ConnIndexStats index_stats() const;

 private:
  static constexpr uint32_t kNoEntry = UINT32_MAX;

  // Slot: high 32 bits = key hash (signature and home position), low 32 bits = key id + 1
  // with key id = entry index * 2 + direction; 0 = empty.
  uint32_t home(uint32_t h) const { return static_cast<uint32_t>((uint64_t{h} * nslots_) >> 32); }
  uint32_t next(uint32_t pos) const { return pos + 1 == nslots_ ? 0 : pos + 1; }
  void index_add(uint32_t h, uint32_t key);
  void index_remove(uint32_t h, uint32_t key);
  void remove(uint32_t idx);
  void expire(Conn& c);

  Conn* entries_ = nullptr;
  uint64_t* slots_ = nullptr;
  size_t entries_bytes_ = 0;
  size_t slots_bytes_ = 0;
  uint32_t capacity_ = 0;
  uint32_t nslots_ = 0;
  uint32_t size_ = 0;
  uint32_t free_head_ = kNoEntry;
  uint32_t sweep_cursor_ = 0;
  uint32_t hash_mask_ = ~0u;
  std::array<uint64_t, 3> seed_{};
  Timeouts timeouts_;
  ExpireHook hook_ = nullptr;
  void* hook_ctx_ = nullptr;
};

// --- inline hot path ---

inline uint32_t ConnTable::hash(const ConnTuple& t) const {
  // Two keyed 64x64->128 multiply folds (wyhash style). Keyed because clients choose their
  // source addresses and ports: CRC32C is linear, so colliding tuples could be built offline
  // whatever the seed; a secret multiplier makes that guesswork.
  auto fold = [](uint64_t a, uint64_t b) {
    unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  };
  uint64_t a = (uint64_t{t.src_ip} << 32) | t.dst_ip;
  uint64_t b = (uint64_t{t.src_port} << 48) | (uint64_t{t.dst_port} << 32) | t.proto;
  uint64_t h = fold(fold(a ^ seed_[0], b ^ seed_[1]), seed_[2]);
  return static_cast<uint32_t>(h ^ (h >> 32)) & hash_mask_;
}

inline uint32_t ConnTable::timeout_of(const Conn& c) const {
  if (c.fixed_timeout) return c.fixed_timeout;
  return c.proto_ == IPPROTO_TCP ? timeouts_.tcp[c.state_] : timeouts_.udp;
}

inline bool ConnTable::expired(const Conn& c, uint32_t now) const {
  // A negative age (caller's clock sample older than the last touch) is "just seen".
  auto age = static_cast<int32_t>(now - c.last_seen);
  return age >= 0 && static_cast<uint32_t>(age) >= timeout_of(c);
}

inline void ConnTable::prefetch_entry(uint32_t h) const {
  uint32_t pos = home(h);
  // Probes are 1.5 slots on average: a few slots cover nearly every hit.
  for (int i = 0; i < 4; ++i) {
    const uint64_t s = slots_[pos];
    if (s == 0) return;
    if (static_cast<uint32_t>(s >> 32) == h) {
      prefetch_for_write(&entries_[(static_cast<uint32_t>(s) - 1) >> 1]);  // touch() writes it
      return;
    }
    pos = next(pos);
  }
}

inline LookupResult ConnTable::lookup(const ConnTuple& t, uint32_t h, uint32_t now) {
  for (;;) {
    uint32_t pos = home(h);
    for (;;) {
      uint64_t s = slots_[pos];
      if (s == 0) return {};
      if (static_cast<uint32_t>(s >> 32) == h) {
        uint32_t key = static_cast<uint32_t>(s) - 1;
        Conn& c = entries_[key >> 1];
        auto dir = static_cast<Direction>(key & 1);
        if (c.matches(dir, t)) {
          if (!expired(c, now)) [[likely]]
            return {&c, dir};
          expire(c);
          break;  // the index shifted: search again (a duplicate `out` may remain)
        }
      }
      pos = next(pos);
    }
  }
}

template <class Fn>
size_t ConnTable::sweep(uint32_t now, size_t budget, Fn&& on_expire) {
  if (size_ == 0) return 0;
  if (budget > capacity_) budget = capacity_;
  size_t freed = 0;
  uint32_t idx = sweep_cursor_;
  while (budget) {
    const auto end = static_cast<uint32_t>(std::min<size_t>(size_t{idx} + budget, capacity_));
    budget -= end - idx;
    for (; idx < end; ++idx) {
      Conn& c = entries_[idx];
      if ((c.flags_ & Conn::kUsed) && expired(c, now)) {
        on_expire(static_cast<const Conn&>(c));
        remove(idx);
        ++freed;
      }
    }
    if (idx == capacity_) idx = 0;
  }
  sweep_cursor_ = idx;
  // The hardware prefetchers stop at 4 KiB page boundaries (64 entries), and a sweep step ends
  // on one as often as not: start fetching the next call's first entries now.
  for (uint32_t k = 0, i = idx; k < 4 && k < capacity_; ++k, i = i + 1 == capacity_ ? 0 : i + 1)
    __builtin_prefetch(&entries_[i]);
  return freed;
}

template <class Fn>
void ConnTable::for_each(Fn&& fn) {
  for (uint32_t i = 0; i < capacity_; ++i)
    if (entries_[i].flags_ & Conn::kUsed) fn(entries_[i]);
}

template <class Fn>
void ConnTable::for_each(Fn&& fn) const {
  for (uint32_t i = 0; i < capacity_; ++i)
    if (entries_[i].flags_ & Conn::kUsed) fn(static_cast<const Conn&>(entries_[i]));
}

template <class Fn>
size_t ConnTable::for_each_from(size_t cursor, size_t max_slots, Fn&& fn) const {
  const size_t end =
      cursor + std::min<size_t>(max_slots, capacity_ - std::min<size_t>(cursor, capacity_));
  for (size_t i = cursor; i < end; ++i)
    if (entries_[i].flags_ & Conn::kUsed) fn(static_cast<const Conn&>(entries_[i]));
  return end < capacity_ ? end : capacity_;
}

}  // namespace vsgate
