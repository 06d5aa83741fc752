// TCP state machine: the IPVS tables, the usual handshake and teardown sequences in each
// forwarding mode, and ActiveConn/InActConn bookkeeping.
#include "lb/core/tcp_state.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <array>
#include <random>
#include <string>
#include <vector>

#include "lb/core/conn_table.h"

namespace vsgate {
namespace {

constexpr uint8_t SYN = kTcpSyn, ACK = kTcpAck, FIN = kTcpFin, RST = kTcpRst;
using S = TcpState;

TEST(TcpState, EventPriorityIsRstSynFinAck) {
  EXPECT_EQ(tcp_event(SYN), TcpEvent::syn);
  EXPECT_EQ(tcp_event(SYN | ACK), TcpEvent::syn);
  EXPECT_EQ(tcp_event(FIN | ACK), TcpEvent::fin);
  EXPECT_EQ(tcp_event(ACK), TcpEvent::ack);
  EXPECT_EQ(tcp_event(RST | ACK), TcpEvent::rst);
  EXPECT_EQ(tcp_event(RST | SYN | FIN), TcpEvent::rst);
  EXPECT_EQ(tcp_event(SYN | FIN), TcpEvent::syn);
  EXPECT_EQ(tcp_event(0x08 /* PSH */), TcpEvent::none);
  EXPECT_EQ(tcp_event(0), TcpEvent::none);
}

TEST(TcpState, NamesAsIpvsadmPrintsThem) {
  const std::array<const char*, kTcpStateCount> names = {
      "NONE",  "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
      "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "SYNACK"};
  for (size_t i = 0; i < kTcpStateCount; ++i)
    EXPECT_EQ(tcp_state_name(static_cast<S>(i)), names[i]);
  EXPECT_EQ(tcp_state_name(static_cast<S>(kTcpStateCount)), "ERR!");
}

TEST(TcpState, DefaultTimeoutsAreIpvs) {
  EXPECT_EQ(tcp_default_timeout_s(S::none), 2u);
  EXPECT_EQ(tcp_default_timeout_s(S::established), 900u);
  EXPECT_EQ(tcp_default_timeout_s(S::syn_sent), 120u);
  EXPECT_EQ(tcp_default_timeout_s(S::syn_recv), 60u);
  EXPECT_EQ(tcp_default_timeout_s(S::fin_wait), 120u);
  EXPECT_EQ(tcp_default_timeout_s(S::time_wait), 120u);
  EXPECT_EQ(tcp_default_timeout_s(S::close), 10u);
  EXPECT_EQ(tcp_default_timeout_s(S::close_wait), 60u);
  EXPECT_EQ(tcp_default_timeout_s(S::last_ack), 30u);
  EXPECT_EQ(tcp_default_timeout_s(S::listen), 120u);
  EXPECT_EQ(tcp_default_timeout_s(S::synack), 120u);
  Timeouts t = Timeouts::ipvs_defaults();
  EXPECT_EQ(t.tcp[size_t(S::established)], 900 * kTicksPerSecond);
  EXPECT_EQ(t.udp, 300 * kTicksPerSecond);
}

TEST(TcpState, OnlyEstablishedIsActive) {
  for (size_t i = 0; i < kTcpStateCount; ++i)
    EXPECT_EQ(tcp_state_is_active(static_cast<S>(i)), static_cast<S>(i) == S::established);
}

// The whole table, transcribed from the kernel's tcp_states[] (ip_vs_proto_tcp.c) as strings
// so that a slip in the implementation's grid cannot be repeated here by copy and paste.
TEST(TcpState, TablesMatchIpvs) {
  const std::vector<std::string> order = {"NO", "ES", "SS", "SR", "FW", "TW",
                                          "CL", "CW", "LA", "LI", "SA"};
  auto code = [&](S s) { return order.at(static_cast<size_t>(s)); };
  // [dir][event] = next state for NO ES SS SR FW TW CL CW LA LI SA
  const char* expected[3][4] = {
      {"SR ES ES SR SR SR SR SR SR SR SR", "CL CW SS TW TW TW CL CW LA LI TW",
       "CL ES SS ES FW TW CL CW CL LI ES", "CL CL CL SR CL CL CL CL LA LI SR"},
      {"SS ES SS SR SS SS SS SS SS LI SR", "TW FW SS TW FW TW CL TW LA LI TW",
       "ES ES SS ES FW TW CL CW LA ES ES", "CL CL SS CL CL TW CL CL CL CL CL"},
      {"SR ES ES SR SR SR SR SR SR SR SR", "CL FW SS TW FW TW CL CW LA LI TW",
       "CL ES SS ES FW TW CL CW CL LI ES", "CL CL CL SR CL CL CL CL LA LI CL"},
  };
  for (int d = 0; d < 3; ++d) {
    for (int e = 0; e < 4; ++e) {
      std::string got;
      for (size_t s = 0; s < kTcpStateCount; ++s) {
        if (s) got += ' ';
        got += code(
            tcp_next_state(static_cast<S>(s), static_cast<TcpDir>(d), static_cast<TcpEvent>(e)));
      }
      EXPECT_EQ(got, expected[d][e]) << "dir " << d << " event " << e;
    }
  }
  // No recognised flag: CLOSE from anywhere, as IPVS.
  for (size_t s = 0; s < kTcpStateCount; ++s)
    EXPECT_EQ(tcp_next_state(static_cast<S>(s), TcpDir::input, TcpEvent::none), S::close);
}

// A connection in a table, driven packet by packet, with real-server counters kept from the
// reported deltas the way the data plane keeps them.
class TcpConnTest : public testing::Test {
 protected:
  Conn* open(FwdMode mode) {
    const ConnTuple in{0x0a000001, 0xc0a80001, 40000, 80, IPPROTO_TCP};
    const ConnTuple out{0xac100002, 0xac100001, 80, 5000, IPPROTO_TCP};
    bool replies = mode == FwdMode::fullnat || mode == FwdMode::nat;
    Conn* c = table_.insert(in, replies ? &out : nullptr, 0);
    c->fwd = mode;
    ++inactive_;  // new connections start inactive, as in IPVS
    return c;
  }
  S step(Conn* c, Direction dir, uint8_t flags) {
    TcpStateChange ch = c->on_tcp_packet(dir, flags);
    EXPECT_EQ(ch.to, c->tcp_state());
    active_ += ch.active_delta;
    inactive_ -= ch.active_delta;
    EXPECT_EQ(c->is_active(), c->tcp_state() == S::established);
    return ch.to;
  }
  ConnTable table_{64};
  int active_ = 0;
  int inactive_ = 0;
};

TEST_F(TcpConnTest, FullNatClientClosesFirst) {
  Conn* c = open(FwdMode::fullnat);
  EXPECT_EQ(c->tcp_state(), S::none);
  EXPECT_EQ(conn_state_name(*c), "NONE");
  EXPECT_EQ(step(c, Direction::in, SYN), S::syn_recv);
  EXPECT_EQ(conn_state_name(*c), "SYN_RECV");
  EXPECT_EQ(step(c, Direction::out, SYN | ACK), S::syn_recv);
  EXPECT_EQ(inactive_, 1);
  EXPECT_EQ(step(c, Direction::in, ACK), S::established);
  EXPECT_EQ(active_, 1);
  EXPECT_EQ(inactive_, 0);
  EXPECT_EQ(conn_state_name(*c), "ESTABLISHED");
  EXPECT_EQ(step(c, Direction::out, ACK), S::established);
  EXPECT_EQ(step(c, Direction::in, ACK), S::established);
  // The client's FIN seen on input: IPVS calls it CLOSE_WAIT (waiting for the server's close).
  EXPECT_EQ(step(c, Direction::in, FIN | ACK), S::close_wait);
  EXPECT_EQ(active_, 0);
  EXPECT_EQ(inactive_, 1);
  EXPECT_EQ(step(c, Direction::out, ACK), S::close_wait);
  EXPECT_EQ(step(c, Direction::out, FIN | ACK), S::time_wait);
  EXPECT_EQ(step(c, Direction::in, ACK), S::time_wait);
  EXPECT_EQ(table_.timeout_of(*c), 120 * kTicksPerSecond);
  EXPECT_EQ(active_, 0);
  EXPECT_EQ(inactive_, 1);
}

TEST_F(TcpConnTest, NatServerClosesFirst) {
  Conn* c = open(FwdMode::nat);
  step(c, Direction::in, SYN);
  step(c, Direction::out, SYN | ACK);
  ASSERT_EQ(step(c, Direction::in, ACK), S::established);
  EXPECT_EQ(step(c, Direction::out, FIN | ACK), S::fin_wait);
  EXPECT_EQ(table_.timeout_of(*c), 120 * kTicksPerSecond);
  EXPECT_EQ(step(c, Direction::in, ACK), S::fin_wait);
  EXPECT_EQ(step(c, Direction::in, FIN | ACK), S::time_wait);
  EXPECT_EQ(step(c, Direction::out, ACK), S::time_wait);
  EXPECT_EQ(active_, 0);
  EXPECT_EQ(inactive_, 1);
}

TEST_F(TcpConnTest, ResetClosesFromEitherSide) {
  Conn* a = open(FwdMode::fullnat);
  step(a, Direction::in, SYN);
  step(a, Direction::out, SYN | ACK);
  step(a, Direction::in, ACK);
  EXPECT_EQ(active_, 1);
  EXPECT_EQ(step(a, Direction::in, RST | ACK), S::close);
  EXPECT_EQ(table_.timeout_of(*a), 10 * kTicksPerSecond);
  EXPECT_EQ(active_, 0);

  Conn* b = open(FwdMode::fullnat);
  step(b, Direction::in, SYN);
  step(b, Direction::out, SYN | ACK);
  step(b, Direction::in, ACK);
  EXPECT_EQ(step(b, Direction::out, RST), S::close);
  // Server refuses the connection: RST in answer to the SYN.
  Conn* c = open(FwdMode::fullnat);
  step(c, Direction::in, SYN);
  EXPECT_EQ(step(c, Direction::out, RST | ACK), S::close);
  // A client RST during the handshake leaves SYN_RECV alone (IPVS).
  Conn* d = open(FwdMode::fullnat);
  step(d, Direction::in, SYN);
  EXPECT_EQ(step(d, Direction::in, RST), S::syn_recv);
  EXPECT_EQ(active_, 0);
  EXPECT_EQ(inactive_, 4);
}

TEST_F(TcpConnTest, DirectRoutingUsesTheInputOnlyTable) {
  Conn* c = open(FwdMode::dr);
  EXPECT_FALSE(c->has_out_key());
  EXPECT_EQ(step(c, Direction::in, SYN), S::syn_recv);
  EXPECT_EQ(step(c, Direction::in, ACK), S::established);
  EXPECT_EQ(active_, 1);
  EXPECT_EQ(step(c, Direction::in, ACK), S::established);
  // We never see the server's FIN: the client's FIN means the connection is finishing.
  EXPECT_EQ(step(c, Direction::in, FIN | ACK), S::fin_wait);
  EXPECT_EQ(active_, 0);
  EXPECT_EQ(step(c, Direction::in, ACK), S::fin_wait);
  EXPECT_EQ(step(c, Direction::in, RST), S::close);
  EXPECT_EQ(inactive_, 1);
}

TEST_F(TcpConnTest, TunnelClientFinalAckAfterFin) {
  Conn* c = open(FwdMode::tunnel);
  step(c, Direction::in, SYN);
  step(c, Direction::in, ACK);
  step(c, Direction::in, FIN | ACK);
  EXPECT_EQ(step(c, Direction::in, FIN | ACK), S::fin_wait);  // retransmitted FIN
  EXPECT_EQ(table_.timeout_of(*c), 120 * kTicksPerSecond);
}

TEST_F(TcpConnTest, ReplySeenInDirectRoutingLeavesInputOnly) {
  // As IPVS clears IP_VS_CONN_F_NOOUTPUT: once a reply passes, the normal tables apply.
  Conn* c = open(FwdMode::dr);
  step(c, Direction::in, SYN);
  step(c, Direction::out, SYN | ACK);
  step(c, Direction::in, ACK);
  EXPECT_EQ(step(c, Direction::in, FIN | ACK), S::close_wait);
}

TEST_F(TcpConnTest, SegmentWithoutFlagsCloses) {
  Conn* c = open(FwdMode::fullnat);
  step(c, Direction::in, SYN);
  step(c, Direction::out, SYN | ACK);
  step(c, Direction::in, ACK);
  EXPECT_EQ(step(c, Direction::in, 0), S::close);
  EXPECT_EQ(active_, 0);
}

TEST_F(TcpConnTest, ReopeningAfterCloseBecomesActiveAgain) {
  Conn* c = open(FwdMode::fullnat);
  step(c, Direction::in, SYN);
  step(c, Direction::out, SYN | ACK);
  step(c, Direction::in, ACK);
  step(c, Direction::in, RST);
  EXPECT_EQ(step(c, Direction::in, SYN), S::syn_recv);  // port reuse by the client
  EXPECT_EQ(step(c, Direction::out, SYN | ACK), S::syn_recv);
  EXPECT_EQ(step(c, Direction::in, ACK), S::established);
  EXPECT_EQ(active_, 1);
  EXPECT_EQ(inactive_, 0);
}

TEST_F(TcpConnTest, SetStateKeepsCountersConsistent) {
  Conn* c = open(FwdMode::fullnat);
  TcpStateChange ch = c->set_tcp_state(S::established);  // e.g. SYN proxy handshake done
  EXPECT_EQ(ch.from, S::none);
  EXPECT_EQ(ch.active_delta, 1);
  EXPECT_EQ(c->set_tcp_state(S::established).active_delta, 0);
  EXPECT_EQ(c->set_tcp_state(S::time_wait).active_delta, -1);
  EXPECT_EQ(c->set_tcp_state(static_cast<S>(200)).to, S::close);  // clamped
}

TEST_F(TcpConnTest, RandomSegmentsKeepCountersEqualToStates) {
  std::mt19937 rng(7);
  std::vector<Conn*> conns;
  const FwdMode modes[] = {FwdMode::fullnat, FwdMode::nat, FwdMode::dr, FwdMode::tunnel};
  for (int i = 0; i < 40; ++i) {
    const ConnTuple in{0x0a000001u + i, 0xc0a80001, 40000, 80, IPPROTO_TCP};
    Conn* c = table_.insert(in, nullptr, 0);
    ASSERT_NE(c, nullptr);
    c->fwd = modes[i % 4];
    ++inactive_;
    conns.push_back(c);
  }
  const uint8_t flag_sets[] = {SYN, SYN | ACK, ACK, FIN | ACK, FIN, RST, RST | ACK, 0};
  for (int n = 0; n < 20000; ++n) {
    Conn* c = conns[rng() % conns.size()];
    Direction dir = (c->fwd == FwdMode::dr || c->fwd == FwdMode::tunnel) && rng() % 8
                        ? Direction::in
                        : static_cast<Direction>(rng() % 2);
    step(c, dir, flag_sets[rng() % std::size(flag_sets)]);
    int established = 0;
    for (Conn* x : conns) established += x->tcp_state() == S::established;
    ASSERT_EQ(active_, established);
    ASSERT_EQ(active_ + inactive_, static_cast<int>(conns.size()));
  }
}

// Every segment in every state, mode and direction moves the state as the IPVS table says,
// the plain-ACK-in-ESTABLISHED shortcut of on_tcp_packet() included.
TEST_F(TcpConnTest, EverySegmentFollowsTheTable) {
  const FwdMode modes[] = {FwdMode::fullnat, FwdMode::nat, FwdMode::dr, FwdMode::tunnel};
  for (FwdMode mode : modes) {
    for (int seen = 0; seen < 2; ++seen) {
      for (size_t s = 0; s < kTcpStateCount; ++s) {
        for (int d = 0; d < 2; ++d) {
          for (int flags = 0; flags < 256; ++flags) {
            Conn* c = table_.insert({0x0a000001, 0xc0a80001, 40000, 80, IPPROTO_TCP}, nullptr, 0);
            ASSERT_NE(c, nullptr);
            c->fwd = mode;
            if (seen) c->on_tcp_packet(Direction::out, RST);  // marks a reply as seen
            c->set_tcp_state(static_cast<S>(s));
            const auto dir = static_cast<Direction>(d);
            TcpDir table = dir == Direction::out ? TcpDir::output : TcpDir::input;
            if (dir == Direction::in && !seen && (mode == FwdMode::dr || mode == FwdMode::tunnel))
              table = TcpDir::input_only;
            const S want =
                tcp_next_state(static_cast<S>(s), table, tcp_event(static_cast<uint8_t>(flags)));
            const TcpStateChange ch = c->on_tcp_packet(dir, static_cast<uint8_t>(flags));
            ASSERT_EQ(ch.to, want) << "state " << s << " dir " << d << " flags " << flags;
            ASSERT_EQ(ch.from, static_cast<S>(s));
            ASSERT_EQ(ch.active_delta, (want == S::established) - (ch.from == S::established));
            // A reply leaves the input-only table for good: a client FIN in ESTABLISHED then
            // means CLOSE_WAIT (input), not FIN_WAIT (input-only).
            c->set_tcp_state(S::established);
            EXPECT_EQ(c->on_tcp_packet(Direction::in, FIN | ACK).to,
                      (seen || d == 1 || mode == FwdMode::fullnat || mode == FwdMode::nat)
                          ? S::close_wait
                          : S::fin_wait);
            table_.erase(c);
          }
        }
      }
    }
  }
}

TEST(TcpState, UdpShowsAsUdp) {
  ConnTable t(4);
  Conn* c = t.insert({1, 2, 3, 4, IPPROTO_UDP}, nullptr, 0);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(conn_state_name(*c), "UDP");
  EXPECT_FALSE(c->is_active());
}

}  // namespace
}  // namespace vsgate
