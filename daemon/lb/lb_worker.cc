#include "lb/lb_worker.h"

#include <rte_ether.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstring>

#include "ipv4/icmp.h"
#include "lb/drop_reasons.h"
#include "lb/xmit.h"

namespace vsgate {
LbWorker::LbWorker(unsigned worker, unsigned workers, size_t conn_capacity,
                   Mailbox<ToMain>* to_main, RealServerCounterTable& counters,
                   const std::array<LocalAddress*, kMaxLocalAddresses>* laddr_slots)
    : worker_(worker),
      workers_(workers),
      conns_(conn_capacity),
      sched_(kMaxServices),
      sched_version_(kMaxServices, 0),
      laddr_rr_(kMaxServices),
      rs_counters_(counters),
      laddr_slots_(laddr_slots),
      to_main_(to_main) {
  conns_.set_expire_hook(&LbWorker::on_expire, this);
}

void LbWorker::on_expire(void* ctx, const Conn& c) { static_cast<LbWorker*>(ctx)->release(c); }

// Gives back what a table entry held: its counts on the real server and its local port.
void LbWorker::release(const Conn& c) {
  counters.conns.add(-1);
  if (c.real_server == Conn::kNone) return;
  auto& rc = rs_counters_.at(worker_, c.real_server);
  rc.live.add(-1);
  if (c.is_template()) return;  // persistence templates hold no state counts and no port
  if (c.is_active())
    rc.active.add(-1);
  else
    rc.inactive.add(-1);
  if (c.fwd == FwdMode::fullnat && c.has_out_key()) {
    if (LocalAddress* la = (*laddr_slots_)[c.laddr]) {
      la->pools[worker_]->put(c.out().dst_port);
      la->used[worker_].add(-1);
    }
  }
}

Decision LbWorker::no_neighbour(uint32_t resolve_be) {
  // The host resolves it for us (main lcore); the connection stays, the sender retransmits.
  if (resolve_be) to_main_->send(ToMain::neighbour_request_msg(resolve_be));  // full: asked again
  return drop(LbDrop::no_neighbour);
}

// IPIP to the real server, or "fragmentation needed" to the client when the encapsulated
// packet would not fit the port's MTU.
Decision LbWorker::transmit_tunnel(rte_mbuf* m, rte_ipv4_hdr* ip, const RealServerView& rs,
                                   const Fib& fib, NextHops& hops) {
  const uint32_t len = rte_be_to_cpu_16(ip->total_length);
  const NextHop* nh = fib.route(rs.key.ip.be);
  if (!nh || !fib.port(nh->port_id).addr_be) return drop(LbDrop::no_neighbour);
  const uint16_t mtu = fib.port(nh->port_id).mtu;
  if (len + sizeof(rte_ipv4_hdr) > mtu) {
    // With DF set the client learns the MTU that fits, so path-MTU discovery converges (as
    // IPVS does); without DF we would have to fragment: counted drop.
    const uint32_t client = ip->src_addr, vip = ip->dst_addr;
    if (!make_frag_needed(m, ip, static_cast<uint16_t>(mtu - sizeof(rte_ipv4_hdr)), vip))
      return drop(LbDrop::too_big);
    counters.frag_needed_sent.inc();
    return to_next_hop(m, client, fib, hops);
  }
  if (!encap_ipip(m, fib.port(nh->port_id).addr_be, rs.key.ip.be)) return drop(LbDrop::too_big);
  return to_next_hop(m, rs.key.ip.be, fib, hops);
}

Decision LbWorker::new_connection(rte_mbuf* m, const PacketMeta& p, const ServiceView& svc,
                                  const LbSnapshot& lb, const Fib& fib, NextHops& hops,
                                  uint32_t now) {
  const ConnTuple& t = p.flow;
  const uint8_t tcp_flags = p.tcp_flags;
  if (t.proto == IPPROTO_TCP && (tcp_flags & (kTcpSyn | kTcpAck | kTcpRst)) != kTcpSyn)
    return drop(LbDrop::tcp_no_conn);
  const size_t n = svc.reals.size();
  // The scheduler reads the overload flags and loads it needs by slot, as it goes: nothing is
  // gathered per configured real server, so a new connection costs the same whatever their
  // number (quiesced ones included) up to the walk its scheduler makes.
  const SlotLoads loads{rs_counters_, svc.reals.data()};
  // Persistence (-p): a template (client, VIP, port 0 for the client) remembers the real
  // server; later connections of that client go there while it is still available.
  int idx = -1;
  const ConnTuple tt{t.src_ip, t.dst_ip, 0, t.dst_port, template_proto(t.proto)};
  Conn* tpl = nullptr;
  if (svc.persistence_ticks) {
    if (LookupResult r = conns_.lookup(tt, now); r && r.conn->is_template()) {
      tpl = r.conn;
      for (size_t i = 0; i < n && idx < 0; ++i)
        if (svc.reals[i] == tpl->real_server && lb.reals[svc.reals[i]].weight > 0 &&
            !loads.overloaded(static_cast<uint32_t>(i)))
          idx = static_cast<int>(i);
      if (idx >= 0) {
        tpl->touch(now);
      } else {
        release(*tpl);  // its real server is gone or unavailable: schedule anew
        conns_.erase(tpl);
        tpl = nullptr;
      }
    }
  }
  if (idx < 0) idx = pick(*svc.sched, sched_state(svc), loads, t.src_ip, t.src_port);
  if (idx < 0) return drop(LbDrop::no_dest);
  const uint32_t slot = svc.reals[static_cast<size_t>(idx)];
  const RealServerView& rs = lb.reals[slot];
  const FwdMode fwd = rs.fwd;
  auto& rc = rs_counters_.at(worker_, slot);
  if (svc.persistence_ticks && !tpl) {
    if ((tpl = conns_.insert(tt, nullptr, now))) {
      tpl->set_template(true);
      tpl->fixed_timeout = svc.persistence_ticks;
      tpl->service = svc.id;
      tpl->real_server = slot;
      tpl->fwd = fwd;
      counters.conns.add(1);
      rc.live.add(1);
    }
  }

  ConnTuple out{};
  bool has_out = false;
  LocalAddress* la = nullptr;
  if (fwd == FwdMode::fullnat) {
    const size_t nl = svc.laddrs.size();
    uint16_t lport = 0;
    for (size_t k = 0; k < nl && !lport; ++k) {
      la = svc.laddrs[laddr_rr_[svc.id]++ % nl];
      lport = la->pools[worker_]->get(static_cast<Proto>(t.proto), rs.key.ip.be, la->ip.be,
                                      rs.key.port.be);
    }
    if (!lport) return drop(LbDrop::no_local_port);
    out = {rs.key.ip.be, la->ip.be, rs.key.port.be, lport, t.proto};
    has_out = true;
  } else if (fwd == FwdMode::nat) {
    out = {rs.key.ip.be, t.src_ip, rs.key.port.be, t.src_port, t.proto};
    has_out = true;
  }
  Conn* c = conns_.insert(t, has_out ? &out : nullptr, now);
  if (!c) {
    if (la) la->pools[worker_]->put(out.dst_port);
    return drop(LbDrop::conn_table_full);
  }
  c->fwd = fwd;
  c->service = svc.id;
  c->real_server = slot;
  if (la) {
    c->laddr = static_cast<uint16_t>(la->slot);
    la->used[worker_].add(1);
  }
  counters.conns.add(1);
  counters.created.inc();
  rc.live.add(1);
  rc.conns.inc();
  rc.inactive.add(1);  // a new connection starts inactive (NONE/SYN_RECV, or UDP)
  if (t.proto == IPPROTO_TCP) {
    count_state_change(rc, c->on_tcp_packet(Direction::in, tcp_flags));
  }
  return transmit(m, p.ip, *c, Direction::in, rs, rc, fib, hops);
}

Decision LbWorker::pre_routing_ipv4(rte_mbuf* m, const PacketMeta& p, const LbSnapshot& lb,
                                    const Fib& fib, NextHops& hops, uint32_t now) {
  rte_ipv4_hdr* ip = p.ip;
  const uint8_t proto = ip->next_proto_id;
  if (proto == IPPROTO_ICMP && (lb.is_laddr(ip->dst_addr) || !lb.services.empty())) {
    const Decision v = icmp_error(m, ip, lb, fib, hops, now);
    if (v.verdict != Verdict::pass) return v;
  }
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
    if (lb.is_vip(ip->dst_addr) && !fib.is_local(ip->dst_addr)) return drop(LbDrop::vip_no_service);
    return pass();
  }
  // TCP or UDP, but a fragment or a bad header (p.reason): ours only if addressed to us.
  return lb.is_vip(ip->dst_addr) || lb.is_laddr(ip->dst_addr) ? drop(p.reason) : pass();
}

// A new SYN on the tuple of a closing connection (the client reused its port) starts a new
// connection, scheduled anew, as IPVS's conn_reuse_mode does.
bool LbWorker::reuse_closing(Conn& c) {
  const TcpState st = c.tcp_state();
  if (st != TcpState::time_wait && st != TcpState::close && st != TcpState::close_wait &&
      st != TcpState::last_ack && st != TcpState::fin_wait)
    return false;
  release(c);
  conns_.erase(&c);
  return true;
}

Decision LbWorker::process_no_conn(rte_mbuf* m, const PacketMeta& p, const LbSnapshot& lb,
                                   const Fib& fib, NextHops& hops, uint32_t now) {
  const ConnTuple& t = p.flow;
  const uint8_t proto = t.proto;
  // Whether the packet is ours matters only without a connection.
  if (!lb.is_vip(t.dst_ip) && !lb.is_laddr(t.dst_ip)) return pass();
  if (t.src_port == 0) return drop(LbDrop::src_port_zero);
  const ServiceView* svc = lb.find(proto, t.dst_ip, t.dst_port);
  if (!svc) {
    // Traffic to a local address outside any connection belongs to the host (it may share
    // the address); to a VIP it is dropped.
    if (lb.is_vip(t.dst_ip) && !fib.is_local(t.dst_ip)) return drop(LbDrop::vip_no_service);
    return pass();
  }
  return new_connection(m, p, *svc, lb, fib, hops, now);
}

// An ICMP error (unreachable, time exceeded, parameter problem) about a packet we sent to a
// real server goes back to the client as if the VIP had sent it, with the quoted packet
// translated back to client -> VIP, so that path-MTU discovery and port-unreachable work
// through the load balancer.
//
// What an attacker can send here is checked first: a fragment is not read (dropped if it is
// addressed to us); an error about a connection must carry a valid ICMP checksum and fit the
// worker's budget; and it never refreshes the connection, so a stream of forged errors cannot
// keep an idle connection (and its local port) alive.
Decision LbWorker::icmp_error(rte_mbuf* m, rte_ipv4_hdr* ip, const LbSnapshot& lb, const Fib& fib,
                              NextHops& hops, uint32_t now) {
  constexpr uint16_t kFragMask = RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK;
  if (ip->fragment_offset & rte_cpu_to_be_16(kFragMask))
    return lb.is_vip(ip->dst_addr) || lb.is_laddr(ip->dst_addr) ? drop(LbDrop::icmp_fragment)
                                                                : pass();
  const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
  const uint32_t icmp_len = rte_be_to_cpu_16(ip->total_length) - ihl;
  const uint32_t in_seg = rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr);
  if (rte_be_to_cpu_16(ip->total_length) > in_seg) return pass();  // multi-segment: not ours
  auto* icmp = reinterpret_cast<uint8_t*>(ip) + ihl;
  if (icmp_len < 8 + sizeof(rte_ipv4_hdr) + 8) return pass();
  const uint8_t type = icmp[0];
  if (type != 3 && type != 11 && type != 12) return pass();
  auto* inner = reinterpret_cast<rte_ipv4_hdr*>(icmp + 8);
  const uint32_t inner_ihl = (inner->version_ihl & 0x0f) * 4u;
  if ((inner->version_ihl >> 4) != 4 || inner_ihl < 20 || 8 + inner_ihl + 8 > icmp_len)
    return pass();
  if (inner->next_proto_id != IPPROTO_TCP && inner->next_proto_id != IPPROTO_UDP) return pass();
  auto* ports = reinterpret_cast<uint16_t*>(reinterpret_cast<uint8_t*>(inner) + inner_ihl);
  uint16_t sport, dport;
  std::memcpy(&sport, ports, 2);
  std::memcpy(&dport, ports + 1, 2);
  // The quoted packet went out from us: toward a real server (its reply direction is the
  // connection's out key) or toward a client (its reply direction is the in key).
  const ConnTuple t{inner->dst_addr, inner->src_addr, dport, sport, inner->next_proto_id};
  LookupResult r = conns_.lookup(t, now);
  if (!r) return pass();
  if (rte_raw_cksum(icmp, icmp_len) != 0xffff) return drop(LbDrop::icmp_bad_checksum);
  if (!icmp_budget_.take(now)) return drop(LbDrop::icmp_rate_limited);
  Conn& c = *r.conn;
  const RealServerView* rs = lb.real(c.real_server);
  if (r.dir == Direction::in)
    return icmp_error_to_real(m, ip, inner, ports, icmp, icmp_len, c, rs, fib, hops);
  const ConnKey& in = c.in();
  rewrite_icmp_error(ip, inner, ports, icmp, icmp_len, in.dst_ip, in.src_ip, in.src_ip, in.src_port,
                     in.dst_ip, in.dst_port);
  if (rs) {
    auto& rc = rs_counters_.at(worker_, c.real_server);
    rc.outpkts.inc();
    rc.outbytes.add(rte_be_to_cpu_16(ip->total_length));
  }
  counters.icmp_translated.inc();
  return to_next_hop(m, in.src_ip, fib, hops);
}

// Rewrites an ICMP error in place: outer addresses, and the quoted packet's addresses and ports;
// checksums recomputed (the quote is short, and its L4 checksum is usually not quoted).
void LbWorker::rewrite_icmp_error(rte_ipv4_hdr* ip, rte_ipv4_hdr* inner, uint16_t* ports,
                                  uint8_t* icmp, uint32_t icmp_len, uint32_t src, uint32_t dst,
                                  uint32_t inner_src, uint16_t inner_sport, uint32_t inner_dst,
                                  uint16_t inner_dport) {
  inner->src_addr = inner_src;
  inner->dst_addr = inner_dst;
  std::memcpy(ports, &inner_sport, 2);
  std::memcpy(ports + 1, &inner_dport, 2);
  inner->hdr_checksum = 0;
  inner->hdr_checksum = rte_ipv4_cksum(inner);
  icmp[2] = icmp[3] = 0;
  const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(icmp, icmp_len));
  std::memcpy(icmp + 2, &sum, 2);
  ip->src_addr = src;
  ip->dst_addr = dst;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

// An ICMP error from the client's side (a router there needs fragmentation, the client's port is
// closed) about a reply we forwarded: it goes to the real server as if about the packet the real
// server sent, so its TCP stack lowers the MSS or gives up, as without a load balancer.
Decision LbWorker::icmp_error_to_real(rte_mbuf* m, rte_ipv4_hdr* ip, rte_ipv4_hdr* inner,
                                      uint16_t* ports, uint8_t* icmp, uint32_t icmp_len, Conn& c,
                                      const RealServerView* rs, const Fib& fib, NextHops& hops) {
  if (!rs) return drop(LbDrop::no_dest);
  auto& rc = rs_counters_.at(worker_, c.real_server);
  rc.inpkts.inc();
  rc.inbytes.add(rte_be_to_cpu_16(ip->total_length));
  counters.icmp_translated.inc();
  switch (c.fwd) {
    case FwdMode::fullnat:
    case FwdMode::nat: {
      // out = rs:rport -> laddr:lport (FULLNAT) or -> client:cport (NAT): what the server sent.
      const ConnKey& out = c.out();
      rewrite_icmp_error(ip, inner, ports, icmp, icmp_len, out.dst_ip, out.src_ip, out.src_ip,
                         out.src_port, out.dst_ip, out.dst_port);
      return to_next_hop(m, out.src_ip, fib, hops);
    }
    case FwdMode::dr:
      // The real server holds the VIP: the error reaches it unchanged.
      return to_next_hop(m, rs->key.ip.be, fib, hops);
    case FwdMode::tunnel: {
      const NextHop* nh = fib.route(rs->key.ip.be);
      const uint32_t len = rte_be_to_cpu_16(ip->total_length);
      if (!nh || !fib.port(nh->port_id).addr_be ||
          len + sizeof(rte_ipv4_hdr) > fib.port(nh->port_id).mtu ||
          !encap_ipip(m, fib.port(nh->port_id).addr_be, rs->key.ip.be))
        return drop(LbDrop::too_big);
      return to_next_hop(m, rs->key.ip.be, fib, hops);
    }
  }
  return drop(LbDrop::no_dest);
}

bool LbWorker::serve_control(Mailbox<ToWorker>& inbox, uint32_t now) {
  ToWorker msgs[kMessagesPerTurn];
  const unsigned n = inbox.receive(msgs, kMessagesPerTurn);
  for (unsigned i = 0; i < n; ++i) apply(msgs[i]);
  if (!listing_.active) return false;
  if (!listing_.walked) list_step(now);
  // The answer hands the buffer back: sent once, retried while the mailbox is full.
  if (listing_.walked && to_main_->send(ToMain::list_done_msg(listing_.request, listing_.filled)))
    listing_.active = false;
  return true;
}

void LbWorker::apply(const ToWorker& m) {
  switch (m.kind) {
    case ToWorker::Kind::set_timeouts:
      // Generations only grow: an older or repeated one is not applied again.
      if (m.generation > timeouts_generation_) {
        conns_.set_timeouts(m.timeouts);
        timeouts_generation_ = m.generation;
      }
      break;
    case ToWorker::Kind::list_conns:
      // The main lcore sends one at a time and waits for list_done; a second is a bug there,
      // answered empty so that its buffer is never written behind its back.
      if (listing_.active) {
        to_main_->send(ToMain::list_done_msg(m.request, 0));
        break;
      }
      listing_ = {true, m.capacity == 0, m.request, m.rows, m.capacity, 0, 0};
      break;
  }
}

void LbWorker::list_step(uint32_t now) {
  Listing& l = listing_;
  l.cursor = conns_.for_each_from(l.cursor, kListSlotsPerTurn, [&](const Conn& c) {
    if (l.filled < l.capacity)
      l.rows[l.filled++] = {c.in(),
                            c.out(),
                            c.is_template() ? flow_proto(c.proto()) : c.proto(),
                            c.has_out_key(),
                            c.fwd,
                            conn_state_name(c),
                            conns_.expires_in(c, now),
                            c.real_server};
  });
  l.walked = l.cursor >= conns_.capacity() || l.filled == l.capacity;
}

}  // namespace vsgate
