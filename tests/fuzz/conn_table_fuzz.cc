// Connection table (daemon/lb/core/conn_table.h) against a plain model: a byte-driven sequence
// of insert, lookup (with and without the burst prefetch steps), touch, TCP segments, erase,
// sweep, clock advances and timeout changes on a small table whose index may be forced into
// collisions (hash_mask). Invariants after every operation:
//   - size() equals the model's; insert returns nullptr exactly when the table is full;
//   - a lookup hit is a live connection that has the tuple as its key in the reported direction
//     and is not expired; a miss means no live, unexpired connection has that key;
//   - everything the table expires (lazily in lookup, or in sweep) was expired by the model's
//     clock (nothing expires early), and a full sweep leaves nothing expired behind;
//   - every stored connection is reachable from each of its keys (when the key is unique),
//     for_each and a stepped for_each_from visit exactly the stored connections once.
#include <fuzzer/FuzzedDataProvider.h>
#include <netinet/in.h>

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "fuzz_check.h"
#include "lb/core/conn_table.h"

namespace vsgate {
namespace {

struct Rec {
  Conn* conn = nullptr;
  ConnTuple in;
  bool has_out = false;
  ConnTuple out;
  uint32_t last_seen = 0;
  uint32_t fixed_timeout = 0;
  TcpState state = TcpState::none;
  bool active = false;
};

struct Model {
  std::map<const Conn*, Rec> recs;
  Timeouts timeouts;

  uint32_t timeout_of(const Rec& r) const {
    if (r.fixed_timeout) return r.fixed_timeout;
    return r.in.proto == IPPROTO_TCP ? timeouts.tcp[size_t(r.state)] : timeouts.udp;
  }
  // The contract of ConnTable::expired: an age that is negative (the caller's clock sample is
  // older than the last touch) is "just seen".
  bool expired(const Rec& r, uint32_t now) const {
    const auto age = static_cast<int32_t>(now - r.last_seen);
    return age >= 0 && static_cast<uint32_t>(age) >= timeout_of(r);
  }
  // Live records having `t` as a key, by direction.
  std::vector<std::pair<const Rec*, Direction>> matching(const ConnTuple& t) const {
    std::vector<std::pair<const Rec*, Direction>> m;
    for (const auto& [c, r] : recs) {
      if (r.in == t) m.push_back({&r, Direction::in});
      if (r.has_out && r.out == t) m.push_back({&r, Direction::out});
    }
    return m;
  }
};

struct Expired {
  Model* model = nullptr;
  uint32_t now = 0;
  size_t count = 0;
};

// Everything the table expires must have been expired by the model's clock.
void on_expire(Expired& e, const Conn& c) {
  auto it = e.model->recs.find(&c);
  FUZZ_CHECK(it != e.model->recs.end(), "the table expired a connection it does not hold");
  FUZZ_CHECK(e.model->expired(it->second, e.now),
             "expired early: last_seen %u now %u timeout %u state %u", it->second.last_seen, e.now,
             e.model->timeout_of(it->second), unsigned(it->second.state));
  e.model->recs.erase(it);
  ++e.count;
}

ConnTuple take_tuple(FuzzedDataProvider& in, uint32_t net, uint8_t proto) {
  // A small universe of tuples, so keys repeat and collide.
  const uint8_t b = in.ConsumeIntegral<uint8_t>();
  return {net | (b & 7u), net | 0x100u | ((b >> 3) & 3u), uint16_t(1000 + ((b >> 5) & 3u)),
          uint16_t(80 + ((b >> 7) & 1u)), proto};
}

void check_all(ConnTable& table, Model& model, uint32_t now) {
  FUZZ_CHECK(table.size() == model.recs.size(), "size %zu, model %zu", table.size(),
             model.recs.size());
  // for_each visits exactly the stored connections, each once, with the model's keys.
  std::set<const Conn*> seen;
  table.for_each([&](Conn& c) {
    FUZZ_CHECK(seen.insert(&c).second, "for_each visited a connection twice");
    auto it = model.recs.find(&c);
    FUZZ_CHECK(it != model.recs.end(), "for_each visited a connection the model lacks");
    const Rec& r = it->second;
    FUZZ_CHECK(c.in_tuple() == r.in && c.has_out_key() == r.has_out, "keys changed");
    FUZZ_CHECK(!r.has_out || c.out_tuple() == r.out, "out key changed");
    FUZZ_CHECK(c.last_seen == r.last_seen, "last_seen changed");
    FUZZ_CHECK(c.proto() != IPPROTO_TCP || c.tcp_state() == r.state, "state changed");
    FUZZ_CHECK(c.is_active() == tcp_state_is_active(c.tcp_state()) || c.proto() != IPPROTO_TCP,
               "active flag %d in state %u", c.is_active(), unsigned(c.state()));
    FUZZ_CHECK(table.expired(c, now) == model.expired(r, now), "expired() disagrees");
  });
  FUZZ_CHECK(seen.size() == model.recs.size(), "for_each saw %zu of %zu", seen.size(),
             model.recs.size());
  // The stepped walk: each stored connection exactly once.
  std::set<const Conn*> stepped;
  for (size_t cursor = 0; cursor < table.capacity();)
    cursor = table.for_each_from(cursor, 7, [&](const Conn& c) {
      FUZZ_CHECK(stepped.insert(&c).second, "for_each_from visited a connection twice");
    });
  FUZZ_CHECK(stepped == seen, "for_each_from and for_each disagree");
  // Reachability: a connection that is not expired is found from each of its keys (when no
  // other connection shares the key: then the table may return either, as IPVS does).
  std::vector<std::pair<ConnTuple, std::pair<const Conn*, Direction>>> probes;
  for (const auto& [c, r] : model.recs) {
    if (model.expired(r, now)) continue;
    if (model.matching(r.in).size() == 1) probes.push_back({r.in, {c, Direction::in}});
    if (r.has_out && model.matching(r.out).size() == 1)
      probes.push_back({r.out, {c, Direction::out}});
  }
  for (const auto& [t, want] : probes) {
    LookupResult res = table.lookup(t, now);
    FUZZ_CHECK(res.conn == want.first && res.dir == want.second,
               "a stored connection is not reachable from its %s key",
               want.second == Direction::in ? "in" : "out");
  }
}

void run(FuzzedDataProvider& in) {
  const size_t capacity = 1 + in.ConsumeIntegralInRange<size_t>(0, 47);
  ConnTableOptions opt;
  opt.hash_seed = 0x9e3779b97f4a7c15ull ^ in.ConsumeIntegral<uint8_t>();  // fixed: reproducible
  opt.hash_mask = in.ConsumeBool() ? ~0u : in.ConsumeIntegral<uint32_t>();
  Model model;
  // Short timeouts (ticks) so that expiry happens within a few clock steps.
  for (auto& t : opt.timeouts.tcp) t = 1 + in.ConsumeIntegral<uint8_t>() % 64;
  opt.timeouts.udp = 1 + in.ConsumeIntegral<uint8_t>() % 64;
  model.timeouts = opt.timeouts;
  ConnTable table(capacity, opt);
  Expired exp{&model};
  table.set_expire_hook([](void* ctx, const Conn& c) { on_expire(*static_cast<Expired*>(ctx), c); },
                        &exp);
  uint32_t now = in.ConsumeIntegral<uint32_t>();  // any start, the wrap included

  for (int step = 0; step < 256 && in.remaining_bytes() > 0; ++step) {
    exp.now = now;
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
      case 0:
      case 1: {  // insert, after a lookup of `in` as the caller does
        const uint8_t proto = in.ConsumeBool() ? IPPROTO_TCP : IPPROTO_UDP;
        const ConnTuple t = take_tuple(in, 0x0a000000, proto);
        const bool with_out = in.ConsumeBool();
        ConnTuple out = take_tuple(in, 0xc0a80000, proto);
        out.proto = 0;  // `out` takes the protocol of `in`
        if (table.lookup(t, now)) break;
        FUZZ_CHECK(model.matching(t).empty(), "lookup missed a live key");
        Conn* c = table.insert(t, with_out ? &out : nullptr, now);
        if (!c) {
          FUZZ_CHECK(model.recs.size() == capacity, "insert failed at %zu of %zu",
                     model.recs.size(), capacity);
          break;
        }
        FUZZ_CHECK(model.recs.size() < capacity, "insert succeeded in a full table");
        FUZZ_CHECK(!model.recs.count(c), "insert returned a live connection");
        FUZZ_CHECK(c->state() == 0 && !c->is_active() && c->last_seen == now,
                   "a new connection is not fresh");
        out.proto = proto;
        Rec r{c, t, with_out, out, now, 0, TcpState::none, false};
        if (in.ConsumeIntegralInRange<int>(0, 7) == 0) {
          c->fixed_timeout = 1 + in.ConsumeIntegral<uint8_t>();
          c->set_template(true);
          r.fixed_timeout = c->fixed_timeout;
        }
        model.recs[c] = r;
        break;
      }
      case 2:
      case 3: {  // lookup (alone or the burst way), then maybe touch and a TCP segment
        const bool reply = in.ConsumeBool();
        const uint8_t proto = in.ConsumeBool() ? IPPROTO_TCP : IPPROTO_UDP;
        const ConnTuple t = take_tuple(in, reply ? 0xc0a80000 : 0x0a000000, proto);
        // The caller's clock sample may lag the last touch by a little.
        const uint32_t sample = now - in.ConsumeIntegralInRange<uint32_t>(0, 2);
        exp.now = sample;
        LookupResult res;
        if (in.ConsumeBool()) {
          const uint32_t h = table.hash(t);
          table.prefetch(h);
          table.prefetch_entry(h);
          res = table.lookup(t, h, sample);
        } else {
          res = table.lookup(t, sample);
        }
        const auto m = model.matching(t);
        if (!res) {
          for (auto& [r, d] : m)
            FUZZ_CHECK(model.expired(*r, sample), "lookup missed a live connection");
          // Every matching expired connection was removed on the way.
          FUZZ_CHECK(m.empty(), "lookup missed but left %zu expired match(es)", m.size());
          break;
        }
        auto it = model.recs.find(res.conn);
        FUZZ_CHECK(it != model.recs.end(), "lookup returned a connection the model lacks");
        Rec& r = it->second;
        FUZZ_CHECK(res.dir == Direction::in ? r.in == t : (r.has_out && r.out == t),
                   "lookup returned a connection without that key in that direction");
        FUZZ_CHECK(!model.expired(r, sample), "lookup returned an expired connection");
        if (in.ConsumeBool()) {
          res.conn->touch(now);
          r.last_seen = now;
        }
        if (proto == IPPROTO_TCP && !r.fixed_timeout && in.ConsumeBool()) {
          const TcpStateChange ch = res.conn->on_tcp_packet(res.dir, in.ConsumeIntegral<uint8_t>());
          FUZZ_CHECK(ch.from == r.state, "state change from %u, model %u", unsigned(ch.from),
                     unsigned(r.state));
          const bool was = r.active;
          r.state = ch.to;
          r.active = tcp_state_is_active(ch.to);
          FUZZ_CHECK(ch.active_delta == int(r.active) - int(was), "active_delta %d",
                     ch.active_delta);
        }
        break;
      }
      case 4: {  // erase a stored connection
        if (model.recs.empty()) break;
        auto it = model.recs.begin();
        std::advance(it, in.ConsumeIntegralInRange<size_t>(0, model.recs.size() - 1));
        table.erase(it->second.conn);
        model.recs.erase(it);
        break;
      }
      case 5: {  // sweep with a budget
        const size_t budget = in.ConsumeIntegralInRange<size_t>(0, capacity + 2);
        Expired swept{&model, now};
        const size_t freed = table.sweep(now, budget, [&](const Conn& c) { on_expire(swept, c); });
        FUZZ_CHECK(freed == swept.count, "sweep returned %zu, reported %zu", freed, swept.count);
        if (budget >= capacity)
          for (const auto& [c, r] : model.recs)
            FUZZ_CHECK(!model.expired(r, now), "a full sweep left an expired connection");
        break;
      }
      case 6:
      case 7:  // the clock moves on
        now += in.ConsumeIntegralInRange<uint32_t>(0, 40);
        break;
      case 8: {  // new timeouts apply at once to existing connections
        Timeouts t = model.timeouts;
        t.tcp[in.ConsumeIntegralInRange<size_t>(0, kTcpStateCount - 1)] =
            1 + in.ConsumeIntegral<uint8_t>() % 64;
        t.udp = 1 + in.ConsumeIntegral<uint8_t>() % 64;
        table.set_timeouts(t);
        model.timeouts = t;
        break;
      }
      case 9:  // the plain sweep (expire hook)
        table.sweep(now, in.ConsumeIntegralInRange<size_t>(0, capacity));
        break;
    }
    FUZZ_CHECK(table.size() == model.recs.size(), "size %zu, model %zu", table.size(),
               model.recs.size());
    if ((step & 7) == 7) check_all(table, model, now);
  }
  exp.now = now;
  check_all(table, model, now);
  const ConnIndexStats st = table.index_stats();
  FUZZ_CHECK(
      st.keys ==
          [&] {
            size_t k = 0;
            for (const auto& [c, r] : model.recs) k += 1 + r.has_out;
            return k;
          }(),
      "index holds %zu keys", st.keys);
}

}  // namespace
}  // namespace vsgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  vsgate::run(in);
  return 0;
}
