#include "app/fib_publisher.h"

#include "app/clock.h"
#include "common/log.h"
#include "kni/iface_config.h"
#include "kni/mirror/proc_arp.h"

namespace vsgate {

FibInput fib_input(const HostStackMirror& mirror,
                   const std::vector<std::unique_ptr<EthPort>>& ports) {
  FibInput in;
  // The mirror holds either family; the forwarding table is IPv4 only (there is no IPv6 data
  // plane yet), so it takes the IPv4 entries and skips the others.
  for (const auto& r : mirror.routes())
    if (r.dst.addr.is_v4() && r.gateway.is_v4())
      in.routes.push_back({Ipv4Prefix{r.dst.addr.v4(), r.dst.len}, r.gateway.v4(), r.port_id});
  for (const auto& n : mirror.neighbours())
    if (n.ip.is_v4()) in.neighbours.push_back({n.ip.v4(), n.mac, n.port_id});
  for (const auto& a : mirror.addresses())
    if (a.prefix.addr.is_v4())
      in.addresses.push_back({Ipv4Prefix{a.prefix.addr.v4(), a.prefix.len}, a.port_id});
  for (const auto& p : ports) {
    auto& fp = in.ports[p->id()];
    fp.present = true;
    fp.mac = p->mac();
    fp.mtu = p->config().mtu;
  }
  for (const auto& a : in.addresses)
    if (a.port_id < kMaxPorts && !in.ports[a.port_id].addr_be)
      in.ports[a.port_id].addr_be = a.prefix.addr.be;
  return in;
}

Status FibPublisher::start(const ExceptionPath& path) {
  for (const auto& kni : path.interfaces()) {
    auto idx = interface_index(kni->ifname());
    if (!idx) return make_error("kni " + kni->ifname() + ": " + idx.message());
    mirror_.track(idx.value(), kni->data_port(), kni->ifname());
  }
  auto sock = RtnlSocket::open();
  if (!sock) return make_error("rtnetlink: " + sock.message());
  rtnl_.emplace(std::move(sock.value()));
  if (auto st = resync_from_kernel(*rtnl_, mirror_); !st)
    return make_error("rtnetlink dump: " + st.message());
  if (auto arp = read_proc_arp(); arp) mirror_.resync_neighbours(arp.value());
  next_arp_resync_us_ = monotonic_us() + global_.arp_resync_ms * 1000ull;
  dirty_ = true;
  return Ok{};
}

void FibPublisher::poll(uint64_t now) {
  poll_host_stack(now);
  // Free what the workers have left before a build allocates (a route table is 64 MiB).
  fib_.reclaim();
  if (dirty_ || builder_.retry_due(now)) rebuild(now);
  fib_.reclaim();
}

void FibPublisher::poll_host_stack(uint64_t now) {
  if (!rtnl_) return;
  const uint64_t before = mirror_.generation();
  rtnl_->drain([this](const HostEvent& ev) { mirror_.apply(ev); });
  if (rtnl_->resync_needed()) {
    uint64_t suppressed = 0;
    if (lost_log_.allow(now, suppressed))
      VSG_LOG(warning, "rtnetlink events were lost; resynchronizing from a dump%s",
              suppressed_note(suppressed).c_str());
    if (auto st = resync_from_kernel(*rtnl_, mirror_); !st && resync_log_.allow(now, suppressed))
      VSG_LOG(error, "rtnetlink resync: %s%s", st.message().c_str(),
              suppressed_note(suppressed).c_str());
  }
  if (now >= next_arp_resync_us_) {
    next_arp_resync_us_ = now + global_.arp_resync_ms * 1000ull;
    if (auto arp = read_proc_arp(); arp) mirror_.resync_neighbours(arp.value());
  }
  if (mirror_.generation() != before) dirty_ = true;
}

void FibPublisher::rebuild() { rebuild(monotonic_us()); }

void FibPublisher::rebuild(uint64_t now) {
  const bool changed = dirty_;
  dirty_ = false;
  const FibInput in = fib_input(mirror_, ports_);
  // Unchanged tables are shared with the current snapshot (rte_lpm is 64 MiB: a neighbour-only
  // change does not rebuild it); one that fails to build keeps the current one (FibBuilder).
  auto fib = builder_.next(in, fib_.get(), changed, now, unix_time_us());
  if (!fib) return;
  fib_.publish(std::move(fib));
  VSG_LOG(debug, "forwarding table %lu: %zu routes, %zu neighbours, %zu addresses",
          static_cast<unsigned long>(builder_.status().published), in.routes.size(),
          in.neighbours.size(), in.addresses.size());
}

}  // namespace vsgate
