// Connection table: both-direction keys, full table, lazy and swept expiry, time wrap,
// a differential test against std::unordered_map, and memory per connection at 1M.
#include "lb/core/conn_table.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

namespace vsgate {
namespace {

constexpr uint32_t kS = kTicksPerSecond;

ConnTuple tcp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
  return {src, dst, sport, dport, IPPROTO_TCP};
}
ConnTuple udp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
  return {src, dst, sport, dport, IPPROTO_UDP};
}

// FULLNAT-shaped connection number i: client i -> VIP, reply RS -> laddr:lport(i).
ConnTuple client(uint32_t i, uint8_t proto = IPPROTO_TCP) {
  return {0x0a000000u + (i >> 8), 0xc0a80001u, static_cast<uint16_t>(1024 + (i & 0xff)), 80, proto};
}
ConnTuple reply(uint32_t i, uint8_t proto = IPPROTO_TCP) {
  return {0xac100002u, 0xac100001u + (i >> 16), 8080, static_cast<uint16_t>(i & 0xffff), proto};
}

struct HookLog {
  std::vector<ConnTuple> expired;
  static void record(void* ctx, const Conn& c) {
    static_cast<HookLog*>(ctx)->expired.push_back(c.in_tuple());
  }
};

TEST(ConnTable, EntryIsOneCacheLine) {
  EXPECT_EQ(sizeof(Conn), 64u);
  EXPECT_EQ(alignof(Conn), 64u);
}

TEST(ConnTable, InsertAndLookupBothDirections) {
  ConnTable t(16);
  const ConnTuple in = tcp(0x0a000001, 0xc0a80001, 40000, 80);
  const ConnTuple out = tcp(0xac100002, 0xac100001, 8080, 5000);
  Conn* c = t.insert(in, &out, 7);
  ASSERT_NE(c, nullptr);
  c->service = 3;
  c->real_server = 9;
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(c->has_out_key());
  EXPECT_FALSE(c->is_active());
  EXPECT_EQ(c->last_seen, 7u);
  EXPECT_EQ(c->in_tuple(), in);
  EXPECT_EQ(c->out_tuple(), out);

  auto r = t.lookup(in, 8);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.conn, c);
  EXPECT_EQ(r.dir, Direction::in);
  r = t.lookup(out, 8);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.conn, c);
  EXPECT_EQ(r.dir, Direction::out);
  EXPECT_EQ(r.conn->service, 3u);
  EXPECT_EQ(r.conn->real_server, 9u);

  // The two-step form used for bursts gives the same answer.
  uint32_t h = t.hash(out);
  t.prefetch(h);
  EXPECT_EQ(t.lookup(out, h, 8).conn, c);
}

TEST(ConnTable, Miss) {
  ConnTable t(16);
  const ConnTuple in = tcp(1, 2, 3, 4);
  ASSERT_NE(t.insert(in, nullptr, 0), nullptr);
  EXPECT_FALSE(t.lookup(tcp(1, 2, 3, 5), 0));
  EXPECT_FALSE(t.lookup(tcp(2, 1, 4, 3), 0));  // reversed tuple is not a key
  EXPECT_FALSE(t.lookup(udp(1, 2, 3, 4), 0));  // protocol is part of the key
}

TEST(ConnTable, OutKeyAbsentForDirectRouting) {
  ConnTable t(16);
  const ConnTuple in = tcp(1, 2, 3, 4);
  Conn* c = t.insert(in, nullptr, 0);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->has_out_key());
  EXPECT_EQ(c->out_tuple(), tcp(0, 0, 0, 0));
  EXPECT_FALSE(t.lookup(tcp(0, 0, 0, 0), 0));
  EXPECT_EQ(t.lookup(in, 0).conn, c);
  t.erase(c);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnTable, OutTakesTheProtocolOfIn) {
  ConnTable t(16);
  ConnTuple out = tcp(5, 6, 7, 8);
  out.proto = 0;
  ASSERT_NE(t.insert(udp(1, 2, 3, 4), &out, 0), nullptr);
  EXPECT_TRUE(t.lookup(udp(5, 6, 7, 8), 0));
}

TEST(ConnTable, EraseAndReinsert) {
  ConnTable t(16);
  const ConnTuple in = client(1), out = reply(1);
  Conn* c = t.insert(in, &out, 0);
  ASSERT_NE(c, nullptr);
  t.erase(c);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.lookup(in, 0));
  EXPECT_FALSE(t.lookup(out, 0));
  Conn* again = t.insert(in, &out, 5);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again, c);                     // LIFO free list: the cache-warm entry is reused
  EXPECT_EQ(again->service, Conn::kNone);  // caller fields are reset
  EXPECT_EQ(again->state(), 0);
  EXPECT_EQ(t.lookup(in, 5).conn, again);
  EXPECT_EQ(t.lookup(out, 5).dir, Direction::out);
}

TEST(ConnTable, FullTableRefusesAndKeepsWorking) {
  constexpr uint32_t kCap = 100;
  ConnTable t(kCap);
  for (uint32_t i = 0; i < kCap; ++i) {
    ConnTuple in = client(i), out = reply(i);
    ASSERT_NE(t.insert(in, &out, 0), nullptr) << i;
  }
  EXPECT_EQ(t.size(), kCap);
  ConnTuple in = client(kCap), out = reply(kCap);
  EXPECT_EQ(t.insert(in, &out, 0), nullptr);
  EXPECT_EQ(t.insert(in, nullptr, 0), nullptr);
  EXPECT_EQ(t.size(), kCap);
  for (uint32_t i = 0; i < kCap; ++i) {
    auto a = t.lookup(client(i), 1), b = t.lookup(reply(i), 1);
    ASSERT_TRUE(a && b) << i;
    EXPECT_EQ(a.conn, b.conn);
  }
  EXPECT_FALSE(t.lookup(in, 1));
  t.erase(t.lookup(client(42), 1).conn);
  EXPECT_NE(t.insert(in, &out, 1), nullptr);
  EXPECT_EQ(t.size(), kCap);
  EXPECT_FALSE(t.lookup(client(42), 1));
}

TEST(ConnTable, LazyExpiryOnLookupCallsHookOnce) {
  ConnTable t(16);
  HookLog log;
  t.set_expire_hook(&HookLog::record, &log);
  const ConnTuple in = udp(1, 2, 3, 4), out = udp(5, 6, 7, 8);
  ASSERT_NE(t.insert(in, &out, 1000), nullptr);
  const uint32_t udp_timeout = t.timeouts().udp;
  EXPECT_EQ(udp_timeout, 300 * kS);

  EXPECT_TRUE(t.lookup(in, 1000 + udp_timeout - 1));
  EXPECT_EQ(t.expires_in(*t.lookup(in, 1000).conn, 1000 + udp_timeout - 1), 1u);
  // Found from the reply side once expired: removed, reported as a miss, hook called once.
  EXPECT_FALSE(t.lookup(out, 1000 + udp_timeout));
  ASSERT_EQ(log.expired.size(), 1u);
  EXPECT_EQ(log.expired[0], in);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.lookup(in, 1000 + udp_timeout));
  EXPECT_EQ(log.expired.size(), 1u);
}

TEST(ConnTable, TouchPostponesExpiry) {
  ConnTable t(16);
  Conn* c = t.insert(udp(1, 2, 3, 4), nullptr, 0);
  ASSERT_NE(c, nullptr);
  c->touch(200 * kS);
  EXPECT_TRUE(t.lookup(udp(1, 2, 3, 4), 499 * kS));
  EXPECT_FALSE(t.lookup(udp(1, 2, 3, 4), 500 * kS));
}

TEST(ConnTable, SweepFreesOnlyExpiredWithinBudget) {
  constexpr uint32_t kCap = 64;
  ConnTable t(kCap);
  // Even connections are old (expired at kNow), odd ones fresh.
  const uint32_t kNow = 1000 * kS;
  for (uint32_t i = 0; i < kCap; ++i)
    ASSERT_NE(t.insert(client(i, IPPROTO_UDP), nullptr, i % 2 ? kNow : 0), nullptr);
  HookLog log;
  t.set_expire_hook(&HookLog::record, &log);

  // Entries fill front to back, so each call of budget 10 sees exactly 10 entries: 5 expired.
  EXPECT_EQ(t.sweep(kNow, 10), 5u);
  EXPECT_EQ(log.expired.size(), 5u);
  EXPECT_EQ(t.size(), kCap - 5);
  size_t calls = 1;
  while (t.size() > kCap / 2) {
    size_t freed = t.sweep(kNow, 10);
    EXPECT_LE(freed, 5u);
    ++calls;
    ASSERT_LE(calls, 7u);  // 64 entries / 10 per call
  }
  EXPECT_EQ(calls, 7u);
  EXPECT_EQ(log.expired.size(), kCap / 2);
  for (const ConnTuple& in : log.expired) EXPECT_FALSE(t.lookup(in, kNow));
  for (uint32_t i = 1; i < kCap; i += 2) EXPECT_TRUE(t.lookup(client(i, IPPROTO_UDP), kNow));
  // Nothing left to free, however long we sweep; the functor form bypasses the hook.
  size_t seen = 0;
  EXPECT_EQ(t.sweep(kNow, 1000, [&](const Conn&) { ++seen; }), 0u);
  EXPECT_EQ(seen, 0u);
  EXPECT_EQ(t.sweep(kNow + 300 * kS, 1000, [&](const Conn&) { ++seen; }), kCap / 2);
  EXPECT_EQ(seen, kCap / 2);
  EXPECT_EQ(log.expired.size(), kCap / 2);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.sweep(kNow, 10), 0u);
}

TEST(ConnTable, TimeoutsChangedAtRuntimeApplyToExistingConnections) {
  ConnTable t(16);
  Conn* c = t.insert(tcp(1, 2, 3, 4), nullptr, 0);
  ASSERT_NE(c, nullptr);
  c->set_tcp_state(TcpState::established);
  EXPECT_EQ(t.timeout_of(*c), 900 * kS);
  EXPECT_TRUE(t.lookup(tcp(1, 2, 3, 4), 100 * kS));

  Timeouts to = t.timeouts();
  EXPECT_EQ(to.tcp_s(), 900u);
  EXPECT_EQ(to.tcpfin_s(), 120u);
  EXPECT_EQ(to.udp_s(), 300u);
  EXPECT_FALSE(to.set_ipvsadm(kMaxTimeoutS + 1, 0, 0));
  EXPECT_EQ(to, t.timeouts());
  ASSERT_TRUE(to.set_ipvsadm(60, 0, 0));  // 0 keeps tcpfin and udp, as ipvsadm --set
  EXPECT_EQ(to.tcp_s(), 60u);
  EXPECT_EQ(to.tcpfin_s(), 120u);
  EXPECT_EQ(to.udp_s(), 300u);
  t.set_timeouts(to);
  EXPECT_EQ(t.timeout_of(*c), 60 * kS);
  EXPECT_FALSE(t.lookup(tcp(1, 2, 3, 4), 100 * kS));
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnTable, TimeoutFollowsStateAndFixedTimeoutOverrides) {
  ConnTable t(16);
  Conn* c = t.insert(tcp(1, 2, 3, 4), nullptr, 0);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(t.timeout_of(*c), 2 * kS);  // NONE, until the first segment is seen
  c->set_tcp_state(TcpState::close);
  EXPECT_EQ(t.timeout_of(*c), 10 * kS);
  c->set_tcp_state(TcpState::time_wait);
  EXPECT_EQ(t.timeout_of(*c), 120 * kS);
  c->fixed_timeout = 360 * kS;  // a persistence template (-p 360)
  c->set_template(true);
  EXPECT_EQ(t.timeout_of(*c), 360 * kS);
  EXPECT_EQ(conn_state_name(*c), "NONE");
}

TEST(ConnTable, TimeWraparound) {
  ConnTable t(16);
  const uint32_t start = UINT32_MAX - 100;
  const ConnTuple in = udp(1, 2, 3, 4);
  ASSERT_NE(t.insert(in, nullptr, start), nullptr);
  const uint32_t timeout = t.timeouts().udp;
  // Across the wrap the age is still small.
  EXPECT_TRUE(t.lookup(in, start + 200));
  EXPECT_EQ(t.expires_in(*t.lookup(in, start).conn, start + 200), timeout - 200);
  EXPECT_TRUE(t.lookup(in, start + timeout - 1));
  // A clock sample slightly older than the last touch counts as "just seen".
  EXPECT_TRUE(t.lookup(in, start - 5));
  EXPECT_EQ(t.sweep(start + timeout - 1, 16), 0u);
  EXPECT_EQ(t.sweep(start + timeout, 16), 1u);
  EXPECT_EQ(t.size(), 0u);

  // Touched after the wrap, expires relative to the new time.
  Conn* c = t.insert(in, nullptr, start);
  ASSERT_NE(c, nullptr);
  c->touch(start + 1000);  // wrapped: small value
  EXPECT_LT(c->last_seen, start);
  EXPECT_TRUE(t.lookup(in, start + 1000 + timeout - 1));
  EXPECT_FALSE(t.lookup(in, start + 1000 + timeout));
}

TEST(ConnTable, ForEachMayEraseTheVisitedConnection) {
  ConnTable t(32);
  for (uint32_t i = 0; i < 20; ++i) {
    ConnTuple in = client(i), out = reply(i);
    ASSERT_NE(t.insert(in, &out, 0), nullptr);
  }
  size_t visited = 0;
  t.for_each([&](Conn& c) {
    ++visited;
    if (c.in().src_port % 2) t.erase(&c);
  });
  EXPECT_EQ(visited, 20u);
  EXPECT_EQ(t.size(), 10u);
  visited = 0;
  const ConnTable& ct = t;
  ct.for_each([&](const Conn& c) {
    ++visited;
    EXPECT_EQ(c.in().src_port % 2, 0);
  });
  EXPECT_EQ(visited, 10u);
}

// The listing's walk: bounded steps that together visit every connection once, also when
// connections come and go between steps (those may be missed, never repeated).
TEST(ConnTable, ForEachFromVisitsInBoundedStepsEachConnectionOnce) {
  ConnTable t(100);
  for (uint32_t i = 0; i < 60; ++i) {
    ConnTuple in = client(i), out = reply(i);
    ASSERT_NE(t.insert(in, &out, 0), nullptr);
  }
  for (uint32_t i = 0; i < 60; i += 3) {
    LookupResult r = t.lookup(client(i), 0);
    ASSERT_TRUE(r);
    t.erase(r.conn);
  }
  std::vector<uint32_t> seen;  // client numbers
  size_t cursor = 0, steps = 0;
  while (cursor < t.capacity()) {
    size_t in_step = 0;
    const size_t next = t.for_each_from(cursor, 16, [&](const Conn& c) {
      ++in_step;
      seen.push_back((c.in().src_ip - 0x0a000000u) * 256 + (c.in().src_port - 1024));
    });
    EXPECT_LE(in_step, 16u);
    EXPECT_EQ(next, std::min<size_t>(cursor + 16, t.capacity()));
    cursor = next;
    ++steps;
    // Churn behind and ahead of the cursor: a connection added now lands in a freed slot.
    if (steps == 2) {
      ConnTuple in = client(1000), out = reply(1000);
      ASSERT_NE(t.insert(in, &out, 0), nullptr);
    }
  }
  EXPECT_EQ(steps, 7u);  // 100 slots, 16 a step
  EXPECT_EQ(t.for_each_from(t.capacity(), 16, [](const Conn&) { FAIL(); }), t.capacity());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a connection twice";
  std::vector<uint32_t> expected;
  for (uint32_t i = 0; i < 60; ++i)
    if (i % 3) expected.push_back(i);
  std::vector<uint32_t> listed(seen.begin(), std::remove(seen.begin(), seen.end(), 1000u));
  EXPECT_EQ(listed, expected);
}

TEST(ConnTable, DuplicateOutKeysAreTolerated) {
  // NAT: one client port to two VIPs served by the same real server gives the same reply tuple.
  ConnTable t(16);
  const ConnTuple out = tcp(0xac100002, 0x0a000001, 80, 40000);
  Conn* a = t.insert(tcp(0x0a000001, 0xc0a80001, 40000, 80), &out, 0);
  Conn* b = t.insert(tcp(0x0a000001, 0xc0a80002, 40000, 80), &out, 0);
  ASSERT_TRUE(a && b);
  auto r = t.lookup(out, 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r.conn == a || r.conn == b);
  t.erase(r.conn);
  auto r2 = t.lookup(out, 0);
  ASSERT_TRUE(r2);
  EXPECT_NE(r2.conn, r.conn);
  t.erase(r2.conn);
  EXPECT_FALSE(t.lookup(out, 0));
}

TEST(ConnTable, RejectsBadCapacity) {
  EXPECT_THROW(ConnTable(0), std::invalid_argument);
  EXPECT_THROW(ConnTable(ConnTable::kMaxCapacity + 1), std::invalid_argument);
}

// Differential test: the table against a straightforward model over random operations, with
// the table kept nearly full, short timeouts and a small tuple space so that lookups hit,
// expiry happens lazily and in sweeps, and the index sees heavy churn.
struct HashKey {
  uint64_t a, b;
  bool operator==(const HashKey&) const = default;
};
struct HashKeyHash {
  size_t operator()(const HashKey& k) const { return std::hash<uint64_t>()(k.a * 31 + k.b); }
};
HashKey key_of(const ConnTuple& t) {
  return {(uint64_t{t.src_ip} << 32) | t.dst_ip,
          (uint64_t{t.src_port} << 24) | (uint64_t{t.dst_port} << 8) | t.proto};
}

struct ModelConn {
  ConnTuple in;
  std::optional<ConnTuple> out;
  uint32_t last_seen = 0;
  uint32_t timeout = 0;
  size_t live_pos = 0;  // position in `live`
};

void run_differential(uint32_t capacity, uint32_t hash_mask, size_t ops, uint64_t seed) {
  SCOPED_TRACE(testing::Message() << "capacity " << capacity << " mask " << std::hex << hash_mask);
  ConnTableOptions opt;
  opt.hash_seed = seed;
  opt.hash_mask = hash_mask;
  Timeouts to = Timeouts::ipvs_defaults();
  // Lifetimes in ticks proportional to the capacity (time moves ~0.1 tick per operation):
  // the table stays full most of the time, and untouched connections expire.
  const uint32_t udp_ticks = std::max(capacity / 3, 20u);
  const uint32_t tcp_ticks = std::max(capacity / 2, 30u);
  to.udp = udp_ticks;
  to.tcp[size_t(TcpState::established)] = tcp_ticks;
  opt.timeouts = to;
  ConnTable t(capacity, opt);

  std::mt19937_64 rng(seed);
  std::unordered_map<HashKey, std::pair<uint32_t, Direction>, HashKeyHash> index;
  std::vector<ModelConn> model(capacity * 4);  // by model id, recycled
  std::vector<uint32_t> free_ids, live;
  for (uint32_t i = 0; i < model.size(); ++i) free_ids.push_back(static_cast<uint32_t>(i));
  uint32_t now = UINT32_MAX - 5000;  // crosses the wrap during the run

  // Tuple space roughly 8x the capacity: plenty of hits, misses and reuse.
  const uint32_t space = capacity * 8;
  auto rand_tuple = [&](bool reply_side) {
    uint32_t v = static_cast<uint32_t>(rng() % space);
    uint8_t proto = (v & 1) ? IPPROTO_TCP : IPPROTO_UDP;
    return reply_side ? reply(v >> 1, proto) : client(v >> 1, proto);
  };
  auto model_expired = [&](const ModelConn& m) {
    return static_cast<int32_t>(now - m.last_seen) >= static_cast<int32_t>(m.timeout);
  };
  auto model_remove = [&](uint32_t id) {
    ModelConn& m = model[id];
    index.erase(key_of(m.in));
    if (m.out) index.erase(key_of(*m.out));
    uint32_t last = live.back();
    live[m.live_pos] = last;
    model[last].live_pos = m.live_pos;
    live.pop_back();
    free_ids.push_back(id);
  };
  std::vector<uint32_t> hooked;
  auto on_expire = [&](const Conn& c) { hooked.push_back(c.service); };
  struct Ctx {
    std::vector<uint32_t>* hooked;
  } ctx{&hooked};
  t.set_expire_hook(
      [](void* p, const Conn& c) { static_cast<Ctx*>(p)->hooked->push_back(c.service); }, &ctx);
  auto settle_hooked = [&]() {
    for (uint32_t id : hooked) {
      ASSERT_TRUE(model_expired(model[id])) << "expired early: model id " << id;
      model_remove(id);
    }
    hooked.clear();
  };

  size_t inserts = 0, full_refusals = 0, hits = 0, expiries = 0;
  for (size_t op = 0; op < ops; ++op) {
    uint32_t dice = static_cast<uint32_t>(rng() % 100);
    if (dice < 40) {  // insert
      ConnTuple in = rand_tuple(false);
      bool with_out = rng() % 4 != 0;
      ConnTuple out = rand_tuple(true);
      out.proto = in.proto;
      // Expired-but-present keys would make the model ambiguous: look them up first, as the
      // data plane does before inserting.
      if (t.lookup(in, now)) continue;
      settle_hooked();
      if (with_out && t.lookup(out, now)) continue;
      settle_hooked();
      if (index.count(key_of(in)) || (with_out && index.count(key_of(out)))) {
        ADD_FAILURE() << "model has a key the table misses";
        return;
      }
      Conn* c = t.insert(in, with_out ? &out : nullptr, now);
      if (live.size() == capacity) {
        ASSERT_EQ(c, nullptr);
        ++full_refusals;
        continue;
      }
      ASSERT_NE(c, nullptr);
      ++inserts;
      uint32_t id = free_ids.back();
      free_ids.pop_back();
      c->service = id;
      if (in.proto == IPPROTO_TCP) c->set_tcp_state(TcpState::established);
      ModelConn& m = model[id];
      m.in = in;
      m.out = with_out ? std::optional<ConnTuple>(out) : std::nullopt;
      m.last_seen = now;
      m.timeout = in.proto == IPPROTO_TCP ? tcp_ticks : udp_ticks;
      m.live_pos = live.size();
      live.push_back(id);
      index[key_of(in)] = {id, Direction::in};
      if (with_out) index[key_of(out)] = {id, Direction::out};
    } else if (dice < 75) {  // lookup, mostly of existing keys
      ConnTuple q;
      if (!live.empty() && rng() % 4 != 0) {
        const ModelConn& m = model[live[rng() % live.size()]];
        q = (m.out && rng() % 2) ? *m.out : m.in;
      } else {
        q = rand_tuple(rng() % 2);
      }
      auto r = t.lookup(q, now);
      auto it = index.find(key_of(q));
      if (it == index.end()) {
        ASSERT_FALSE(r) << "phantom connection";
        ASSERT_TRUE(hooked.empty());
        continue;
      }
      uint32_t id = it->second.first;
      if (model_expired(model[id])) {
        ASSERT_FALSE(r) << "expired connection returned";
        ASSERT_EQ(hooked.size(), 1u);
        ASSERT_EQ(hooked[0], id);
        settle_hooked();
        ++expiries;
      } else {
        ASSERT_TRUE(r) << "live connection missed";
        ASSERT_EQ(r.conn->service, id);
        ASSERT_EQ(r.dir, it->second.second);
        ASSERT_TRUE(hooked.empty());
        ++hits;
        if (rng() % 2) {
          r.conn->touch(now);
          model[id].last_seen = now;
        }
      }
    } else if (dice < 85) {  // erase
      if (live.empty()) continue;
      uint32_t id = live[rng() % live.size()];
      auto r = t.lookup(model[id].in, now);
      if (model_expired(model[id])) {
        ASSERT_FALSE(r);
        settle_hooked();
        continue;
      }
      ASSERT_TRUE(r);
      t.erase(r.conn);
      model_remove(id);
    } else if (dice < 95) {  // time passes
      now += static_cast<uint32_t>(rng() % 3);
    } else {  // sweep a little
      size_t freed = t.sweep(now, rng() % 64);
      ASSERT_EQ(freed, hooked.size());
      expiries += freed;
      settle_hooked();
    }
    ASSERT_EQ(t.size(), live.size());
  }
  // Functor sweep of everything, then the survivors must all be reachable from both keys.
  size_t swept = t.sweep(now, capacity, on_expire);
  ASSERT_EQ(swept, hooked.size());
  settle_hooked();
  ASSERT_EQ(t.size(), live.size());
  for (uint32_t id : live) {
    const ModelConn& m = model[id];
    ASSERT_FALSE(model_expired(m));
    auto a = t.lookup(m.in, now);
    ASSERT_TRUE(a);
    EXPECT_EQ(a.conn->service, id);
    if (m.out) {
      auto b = t.lookup(*m.out, now);
      ASSERT_TRUE(b);
      EXPECT_EQ(b.conn, a.conn);
    }
  }
  ConnIndexStats st = t.index_stats();
  EXPECT_EQ(st.keys, index.size());
  std::printf(
      "differential cap=%u mask=%08x ops=%zu: inserts=%zu full=%zu hits=%zu "
      "expiries=%zu, final size=%zu, mean probe %.2f max %zu\n",
      capacity, hash_mask, ops, inserts, full_refusals, hits, expiries, t.size(), st.mean_probe,
      st.max_probe);
  EXPECT_GT(full_refusals, 0u);
  EXPECT_GT(expiries, 0u);
}

TEST(ConnTable, DifferentialAgainstUnorderedMap) { run_differential(4096, ~0u, 1000000, 1); }

TEST(ConnTable, DifferentialWithForcedHashCollisions) {
  // 256 distinct hash values for ~8000 keys: long clusters, wrapping probes, and signature
  // matches that differ in the tuple.
  run_differential(4096, 0xff000000u, 300000, 2);
  // Small table: the probe sequence wraps around the end of the index all the time.
  run_differential(61, 0xf0000000u, 200000, 3);
}

TEST(ConnTable, OneMillionConnections) {
  constexpr uint32_t kCap = 1 << 20;
  ConnTable t(kCap);
  const double bpc = t.bytes_per_connection();
  std::printf(
      "capacity %u: %zu bytes allocated, %.2f bytes per connection "
      "(entry %zu, index %zu slots x 8 B)\n",
      kCap, t.allocated_bytes(), bpc, sizeof(Conn), t.index_slots());
  RecordProperty("bytes_per_connection", std::to_string(bpc));
  EXPECT_LE(bpc, 128.0);

  for (uint32_t i = 0; i < kCap; ++i) {
    ConnTuple in = client(i), out = reply(i);
    ASSERT_NE(t.insert(in, &out, 0), nullptr) << i;
  }
  EXPECT_EQ(t.size(), kCap);
  ConnTuple extra_in = client(kCap), extra_out = reply(kCap);
  EXPECT_EQ(t.insert(extra_in, &extra_out, 0), nullptr);
  for (uint32_t i = 0; i < kCap; ++i) {
    auto a = t.lookup(client(i), 1);
    auto b = t.lookup(reply(i), 1);
    ASSERT_TRUE(a && b) << i;
    ASSERT_EQ(a.conn, b.conn);
    ASSERT_EQ(a.dir, Direction::in);
    ASSERT_EQ(b.dir, Direction::out);
  }
  ConnIndexStats st = t.index_stats();
  EXPECT_EQ(st.keys, 2u * kCap);
  std::printf("full at 1M: index load %.3f, mean probe %.2f slots, max probe %zu\n",
              static_cast<double>(st.keys) / st.slots, st.mean_probe, st.max_probe);
  EXPECT_LT(st.mean_probe, 2.0);
}

}  // namespace
}  // namespace vsgate
