#include "lb/core/tcp_state.h"

#include <array>

namespace vsgate {
namespace {

// Short aliases so the tables read as a grid.
constexpr TcpState NO = TcpState::none;
constexpr TcpState ES = TcpState::established;
constexpr TcpState SS = TcpState::syn_sent;
constexpr TcpState SR = TcpState::syn_recv;
constexpr TcpState FW = TcpState::fin_wait;
constexpr TcpState TW = TcpState::time_wait;
constexpr TcpState CL = TcpState::close;
constexpr TcpState CW = TcpState::close_wait;
constexpr TcpState LA = TcpState::last_ack;
constexpr TcpState LI = TcpState::listen;
constexpr TcpState SA = TcpState::synack;

using Row = std::array<TcpState, kTcpStateCount>;

// kNext[dir][event][current state]; columns in TcpState order:
//               NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
constexpr std::array<std::array<Row, 4>, 3> kNext = {{
    {{
        // input
        /* syn */ {SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR},
        /* fin */ {CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW},
        /* ack */ {CL, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES},
        /* rst */ {CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR},
    }},
    {{
        // output
        /* syn */ {SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR},
        /* fin */ {TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW},
        /* ack */ {ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES},
        /* rst */ {CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL},
    }},
    {{
        // input_only: like input, but a client FIN in ESTABLISHED means FIN_WAIT (we never see
        // the server's side of the close) and RST in SYNACK closes.
        /* syn */ {SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR},
        /* fin */ {CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW},
        /* ack */ {CL, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES},
        /* rst */ {CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL},
    }},
}};

constexpr std::array<std::string_view, kTcpStateCount> kNames = {
    "NONE",  "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "SYNACK",
};

constexpr std::array<uint32_t, kTcpStateCount> kDefaultTimeoutS = {
    2,    // NONE
    900,  // ESTABLISHED
    120,  // SYN_SENT
    60,   // SYN_RECV
    120,  // FIN_WAIT
    120,  // TIME_WAIT
    10,   // CLOSE
    60,   // CLOSE_WAIT
    30,   // LAST_ACK
    120,  // LISTEN
    120,  // SYNACK
};

}  // namespace

TcpEvent tcp_event(uint8_t f) {
  if (f & kTcpRst) return TcpEvent::rst;
  if (f & kTcpSyn) return TcpEvent::syn;
  if (f & kTcpFin) return TcpEvent::fin;
  if (f & kTcpAck) return TcpEvent::ack;
  return TcpEvent::none;
}

TcpState tcp_next_state(TcpState state, TcpDir dir, TcpEvent event) {
  auto s = static_cast<size_t>(state);
  auto d = static_cast<size_t>(dir);
  auto e = static_cast<size_t>(event);
  // IPVS: a segment without any of the four flags, or a corrupt state, goes to CLOSE.
  if (e >= 4 || s >= kTcpStateCount || d >= kNext.size()) return TcpState::close;
  return kNext[d][e][s];
}

std::string_view tcp_state_name(TcpState s) {
  auto i = static_cast<size_t>(s);
  return i < kNames.size() ? kNames[i] : "ERR!";
}

uint32_t tcp_default_timeout_s(TcpState s) {
  auto i = static_cast<size_t>(s);
  return i < kDefaultTimeoutS.size() ? kDefaultTimeoutS[i] : 2;
}

}  // namespace vsgate
