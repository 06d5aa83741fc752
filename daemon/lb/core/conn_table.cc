#include "lb/core/conn_table.h"

#include <sys/mman.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>
#include <random>
#include <stdexcept>

namespace vsgate {

const bool kCpuHasPrefetchw = [] {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  return __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & bit_PRFCHW) != 0;
#else
  return false;
#endif
}();

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// Anonymous mapping, huge pages where the kernel allows them (the index is probed at random:
// TLB misses matter), touched so no page fault is left for the packet path.
void* map_memory(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  madvise(p, bytes, MADV_HUGEPAGE);  // advisory; fine to fail
  std::memset(p, 0, bytes);
  return p;
}

}  // namespace

Timeouts Timeouts::ipvs_defaults() {
  Timeouts t;
  for (size_t s = 0; s < kTcpStateCount; ++s)
    t.tcp[s] = ticks_from_seconds(tcp_default_timeout_s(static_cast<TcpState>(s)));
  t.udp = ticks_from_seconds(300);
  return t;
}

bool Timeouts::set_ipvsadm(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s) {
  if (tcp_s > kMaxTimeoutS || tcpfin_s > kMaxTimeoutS || udp_s > kMaxTimeoutS) return false;
  if (tcp_s) tcp[size_t(TcpState::established)] = ticks_from_seconds(tcp_s);
  if (tcpfin_s) tcp[size_t(TcpState::fin_wait)] = ticks_from_seconds(tcpfin_s);
  if (udp_s) udp = ticks_from_seconds(udp_s);
  return true;
}

TcpStateChange Conn::on_tcp_segment(Direction dir, uint8_t tcp_flags) {
  TcpDir table = TcpDir::input;
  if (dir == Direction::out) {
    flags_ |= kOutputSeen;
    table = TcpDir::output;
  } else if (!(flags_ & kOutputSeen) && (fwd == FwdMode::dr || fwd == FwdMode::tunnel)) {
    table = TcpDir::input_only;
  }
  return set_tcp_state(tcp_next_state(tcp_state(), table, tcp_event(tcp_flags)));
}

TcpStateChange Conn::set_tcp_state(TcpState to) {
  if (static_cast<size_t>(to) >= kTcpStateCount) to = TcpState::close;
  TcpStateChange change{tcp_state(), to, 0};
  // As IPVS: the counters follow the flag, and the flag follows state changes only.
  if (change.from != to) {
    bool active = flags_ & kActive;
    if (active && !tcp_state_is_active(to)) {
      flags_ &= ~kActive;
      change.active_delta = -1;
    } else if (!active && tcp_state_is_active(to)) {
      flags_ |= kActive;
      change.active_delta = 1;
    }
  }
  state_ = static_cast<uint8_t>(to);
  return change;
}

std::string_view conn_state_name(const Conn& c) {
  if (c.is_template()) return "NONE";
  if (c.proto() == IPPROTO_TCP) return tcp_state_name(c.tcp_state());
  if (c.proto() == IPPROTO_UDP) return "UDP";
  return "ERR!";
}

ConnTable::ConnTable(size_t capacity, const ConnTableOptions& options)
    : hash_mask_(options.hash_mask), timeouts_(options.timeouts) {
  if (capacity == 0 || capacity > kMaxCapacity)
    throw std::invalid_argument("connection table capacity out of range");
  capacity_ = static_cast<uint32_t>(capacity);
  // Two keys per connection at a load factor of at most 1/2: short linear probes (1.5 slots
  // on a hit, 2.5 on a miss on average), whole cache lines of 8 slots.
  nslots_ = static_cast<uint32_t>(round_up(capacity * 4, 8));

  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  entries_bytes_ = round_up(capacity * sizeof(Conn), page);
  slots_bytes_ = round_up(size_t{nslots_} * sizeof(uint64_t), page);
  entries_ = static_cast<Conn*>(map_memory(entries_bytes_));
  try {
    slots_ = static_cast<uint64_t*>(map_memory(slots_bytes_));
  } catch (...) {
    munmap(entries_, entries_bytes_);
    throw;
  }
  // Free list in index order, so a young table fills its entries front to back.
  for (uint32_t i = 0; i < capacity_; ++i) {
    Conn* c = new (&entries_[i]) Conn();
    c->hash_in_ = i + 1 < capacity_ ? i + 1 : kNoEntry;
  }
  free_head_ = 0;

  uint64_t x = options.hash_seed;
  if (x == 0) {
    std::random_device rd;
    x = (uint64_t{rd()} << 32) ^ rd();
  }
  for (auto& s : seed_) s = splitmix64(x);
  seed_[2] |= 1;  // the last fold multiplies by it: keep it odd
}

ConnTable::~ConnTable() {
  munmap(entries_, entries_bytes_);
  munmap(slots_, slots_bytes_);
}

size_t ConnTable::allocated_bytes() const { return entries_bytes_ + slots_bytes_ + sizeof(*this); }

double ConnTable::bytes_per_connection() const {
  return static_cast<double>(allocated_bytes()) / capacity_;
}

uint32_t ConnTable::expires_in(const Conn& c, uint32_t now) const {
  auto age = static_cast<int32_t>(now - c.last_seen);
  uint32_t timeout = timeout_of(c);
  if (age < 0) return timeout;
  return static_cast<uint32_t>(age) >= timeout ? 0 : timeout - static_cast<uint32_t>(age);
}

void ConnTable::index_add(uint32_t h, uint32_t key) {
  uint32_t pos = home(h);
  while (slots_[pos] != 0) pos = next(pos);
  slots_[pos] = (uint64_t{h} << 32) | (key + 1);
}

void ConnTable::index_remove(uint32_t h, uint32_t key) {
  uint32_t hole = home(h);
  while (static_cast<uint32_t>(slots_[hole]) != key + 1) {
    assert(slots_[hole] != 0 && "key missing from the index");
    if (slots_[hole] == 0) return;
    hole = next(hole);
  }
  // Backward-shift deletion (Knuth 6.4 algorithm R): pull later members of the cluster into
  // the hole unless that would put them before their home slot. No tombstones, so probe
  // lengths never degrade with churn.
  uint32_t j = hole;
  for (;;) {
    j = next(j);
    uint64_t s = slots_[j];
    if (s == 0) break;
    uint32_t k = home(static_cast<uint32_t>(s >> 32));
    bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
    if (stays) continue;
    slots_[hole] = s;
    hole = j;
  }
  slots_[hole] = 0;
}

Conn* ConnTable::insert(const ConnTuple& in, const ConnTuple* out, uint32_t now) {
  if (free_head_ == kNoEntry) return nullptr;
  uint32_t idx = free_head_;
  Conn& c = entries_[idx];
  free_head_ = c.hash_in_;
  c = Conn();
  c.in_ = {in.src_ip, in.dst_ip, in.src_port, in.dst_port};
  c.proto_ = in.proto;
  c.flags_ = Conn::kUsed;
  c.last_seen = now;
  c.hash_in_ = hash(in);
  index_add(c.hash_in_, idx * 2);
  if (out) {
    ConnTuple o = *out;
    o.proto = in.proto;
    c.out_ = {o.src_ip, o.dst_ip, o.src_port, o.dst_port};
    c.hash_out_ = hash(o);
    c.flags_ |= Conn::kOutKey;
    index_add(c.hash_out_, idx * 2 + 1);
  }
  ++size_;
  return &c;
}

void ConnTable::remove(uint32_t idx) {
  Conn& c = entries_[idx];
  assert(c.flags_ & Conn::kUsed);
  index_remove(c.hash_in_, idx * 2);
  if (c.flags_ & Conn::kOutKey) index_remove(c.hash_out_, idx * 2 + 1);
  c.flags_ = 0;
  c.hash_in_ = free_head_;
  free_head_ = idx;
  --size_;
}

void ConnTable::erase(Conn* c) {
  assert(c >= entries_ && c < entries_ + capacity_ && (c->flags_ & Conn::kUsed));
  remove(index_of(*c));
}

void ConnTable::expire(Conn& c) {
  if (hook_) hook_(hook_ctx_, c);
  remove(index_of(c));
}

size_t ConnTable::sweep(uint32_t now, size_t budget) {
  return sweep(now, budget, [this](const Conn& c) {
    if (hook_) hook_(hook_ctx_, c);
  });
}

ConnIndexStats ConnTable::index_stats() const {
  ConnIndexStats st;
  st.slots = nslots_;
  size_t total = 0;
  for (uint32_t pos = 0; pos < nslots_; ++pos) {
    uint64_t s = slots_[pos];
    if (s == 0) continue;
    uint32_t k = home(static_cast<uint32_t>(s >> 32));
    size_t probe = (pos >= k ? pos - k : pos + nslots_ - k) + 1;
    total += probe;
    st.max_probe = std::max(st.max_probe, probe);
    ++st.keys;
  }
  st.mean_probe = st.keys ? static_cast<double>(total) / st.keys : 0;
  return st;
}

}  // namespace vsgate
