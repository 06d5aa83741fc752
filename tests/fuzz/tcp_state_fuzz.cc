// TCP state machine (daemon/lb/core/tcp_state.*, Conn::on_tcp_packet / set_tcp_state): random
// segments per direction, for each forwarding mode, with direct state sets (valid or not) mixed
// in. Invariants, per step:
//   - the state is always one of the kTcpStateCount states;
//   - the reported change starts at the previous state and ends at the connection's state; it
//     follows the IPVS tables (tcp_next_state) with the table chosen as the module says: output
//     for replies, input_only for DR/TUNNEL until a reply was seen, input otherwise (so the
//     ESTABLISHED+ACK fast path agrees with the tables);
//   - tcp_event() honours the priority RST > SYN > FIN > ACK;
//   - active_delta is -1, 0 or +1, 0 when the state does not change, and the deltas summed
//     from the start (a connection starts inactive) equal is_active(), which is 1 exactly in
//     ESTABLISHED: the real server's ActiveConn/InActConn counters can never drift.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>

#include "fuzz_check.h"
#include "lb/core/conn_table.h"

namespace vsgate {
namespace {

TcpEvent expected_event(uint8_t f) {
  if (f & kTcpRst) return TcpEvent::rst;
  if (f & kTcpSyn) return TcpEvent::syn;
  if (f & kTcpFin) return TcpEvent::fin;
  if (f & kTcpAck) return TcpEvent::ack;
  return TcpEvent::none;
}

void run(FuzzedDataProvider& in) {
  static constexpr FwdMode kModes[] = {FwdMode::fullnat, FwdMode::nat, FwdMode::dr,
                                       FwdMode::tunnel};
  Conn c;
  c.fwd = kModes[in.ConsumeIntegralInRange<int>(0, 3)];
  bool output_seen = false;
  int active_sum = 0;
  while (in.remaining_bytes() > 0) {
    const TcpState before = c.tcp_state();
    TcpStateChange ch;
    TcpState want;
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
      // A direct set (SYN proxy, LISTEN); out-of-range values must be refused as CLOSE.
      const uint8_t raw = in.ConsumeIntegralInRange<uint8_t>(0, kTcpStateCount + 4);
      want = raw < kTcpStateCount ? static_cast<TcpState>(raw) : TcpState::close;
      ch = c.set_tcp_state(static_cast<TcpState>(raw));
    } else {
      const auto dir = in.ConsumeBool() ? Direction::out : Direction::in;
      const uint8_t flags = in.ConsumeIntegral<uint8_t>();
      FUZZ_CHECK(tcp_event(flags) == expected_event(flags), "tcp_event(0x%02x)", flags);
      TcpDir table = TcpDir::input;
      if (dir == Direction::out) {
        output_seen = true;
        table = TcpDir::output;
      } else if (!output_seen && (c.fwd == FwdMode::dr || c.fwd == FwdMode::tunnel)) {
        table = TcpDir::input_only;
      }
      want = tcp_next_state(before, table, expected_event(flags));
      ch = c.on_tcp_packet(dir, flags);
    }
    const auto s = static_cast<size_t>(c.tcp_state());
    FUZZ_CHECK(s < kTcpStateCount, "state %zu out of range", s);
    FUZZ_CHECK(c.tcp_state() == want, "state %zu, the tables say %u", s, unsigned(want));
    FUZZ_CHECK(ch.from == before && ch.to == c.tcp_state(), "change %u->%u, was %u now %zu",
               unsigned(ch.from), unsigned(ch.to), unsigned(before), s);
    FUZZ_CHECK(ch.active_delta >= -1 && ch.active_delta <= 1, "delta %d", ch.active_delta);
    FUZZ_CHECK(ch.from != ch.to || ch.active_delta == 0, "a delta without a state change");
    active_sum += ch.active_delta;
    FUZZ_CHECK(active_sum == (c.is_active() ? 1 : 0), "deltas sum to %d, active %d", active_sum,
               c.is_active());
    FUZZ_CHECK(c.is_active() == tcp_state_is_active(c.tcp_state()), "active %d in state %s",
               c.is_active(), std::string(tcp_state_name(c.tcp_state())).c_str());
    FUZZ_CHECK(!tcp_state_name(c.tcp_state()).empty() && tcp_default_timeout_s(c.tcp_state()) > 0,
               "state %zu has no name or timeout", s);
  }
  // Any raw state, direction and event: a defined state (CLOSE for corrupt input).
  for (int i = 0; i < 4 && in.remaining_bytes() == 0; ++i) {
    const auto st = tcp_next_state(static_cast<TcpState>(kTcpStateCount + i),
                                   static_cast<TcpDir>(i), static_cast<TcpEvent>(4 + i));
    FUZZ_CHECK(st == TcpState::close, "corrupt input gave state %u", unsigned(st));
  }
}

}  // namespace
}  // namespace vsgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  vsgate::run(in);
  return 0;
}
