// The load balancer at the pre-routing hook of the IPv4 decision (ipv4/classify.h), as DPVS's
// dp_vs_in sits at INET_HOOK(PRE_ROUTING): a plain struct bound as a template parameter, so the
// hook costs no virtual call. One per worker and loop turn: the services it sees stay valid
// until the worker's next quiescent state.
#pragma once

#include "ipv4/classify.h"
#include "lb/lb_worker.h"

namespace vsgate {

struct LbHook {
  LbWorker* worker;
  const LbSnapshot* services;  // never null: see balances()
  uint32_t now_ticks;

  // Whether there is anything to balance: without services and local addresses nothing is
  // ours (VIPs are those of services), and the worker decides with NoHook instead.
  static bool balances(const LbSnapshot* s) {
    return s && !(s->services.empty() && s->laddrs.empty());
  }

  [[gnu::always_inline]] void stage(PacketMeta& p) const { worker->stage(p); }
  [[gnu::always_inline]] void prefetch(const PacketMeta& p) const { worker->prefetch_conn(p); }
  [[gnu::always_inline]] Decision pre_routing(rte_mbuf* m, const PacketMeta& p, const Fib& fib,
                                              NextHops& hops) const {
    return worker->pre_routing(m, p, *services, fib, hops, now_ticks);
  }
  bool answers_arp_for(uint32_t ip_be) const {
    return services->is_vip(ip_be) || services->is_laddr(ip_be);
  }
};

}  // namespace vsgate
