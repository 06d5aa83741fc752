#include "app/commands/lb_json.h"

#include <netinet/in.h>

namespace vsgate {

std::string endpoint(uint32_t ip_be, uint16_t port_be) {
  return Ipv4Addr{ip_be}.str() + ":" + std::to_string(__builtin_bswap16(port_be));
}

Json stats_json(const StatsValues& s) {
  return {{"conns", s.conns},
          {"inpkts", s.inpkts},
          {"outpkts", s.outpkts},
          {"inbytes", s.inbytes},
          {"outbytes", s.outbytes}};
}

Json rates_json(const RateEstimator& r) {
  auto u = [](double v) { return static_cast<uint64_t>(v + 0.5); };
  return {{"cps", u(r.cps)},
          {"inpps", u(r.inpps)},
          {"outpps", u(r.outpps)},
          {"inbps", u(r.inbps)},
          {"outbps", u(r.outbps)}};
}

Json connection_json(const ConnRow& r, const LbSnapshot* snapshot) {
  // The current snapshot names every slot a live connection can hold.
  const RealServerView* rs = snapshot ? snapshot->real(r.real_server) : nullptr;
  return {{"proto", r.proto == IPPROTO_TCP ? "tcp" : "udp"},
          {"state", std::string(r.state)},
          {"expires", seconds_from_ticks(r.expires_ticks)},
          {"client", endpoint(r.in.src_ip, r.in.src_port)},
          {"vip", endpoint(r.in.dst_ip, r.in.dst_port)},
          {"laddr",
           r.fwd == FwdMode::fullnat && r.has_out ? endpoint(r.out.dst_ip, r.out.dst_port) : ""},
          {"real", rs ? endpoint(rs->key.ip.be, rs->key.port.be) : ""},
          {"fwd", std::string(fwd_mode_word(r.fwd))}};
}

}  // namespace vsgate
