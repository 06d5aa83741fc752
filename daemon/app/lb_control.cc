// vsgated's load balancer on the main lcore: publishing services to the workers, the rate
// estimator, overload flags, release of removed real servers, neighbour resolution requests,
// and the lb.* control commands (docs/CONTROL_PROTOCOL.md).
#include <arpa/inet.h>
#include <rte_cycles.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "app/app.h"
#include "common/log.h"
#include "lb/model_json.h"

namespace vsgate {
namespace {

// lb.conns: rows per worker (as many as before the listing was incremental) and how long the
// reply waits for the workers.
constexpr size_t kMaxConnRows = 100000;
constexpr uint64_t kConnsDeadlineUs = 5000000;

uint64_t now_us() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// The arguments' syntax: lb/model_json.h; the rules: lb/model.h.
Result<ServiceKey> service_key(const Json& args) { return service_key_from_json(args); }
Result<RealServerKey> real_key(const Json& args, const ServiceKey& svc) {
  return real_key_from_json(args, svc);
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
const char* fwd_arg_name(FwdMode m) {
  switch (m) {
    case FwdMode::fullnat:
      return "fullnat";
    case FwdMode::nat:
      return "nat";
    case FwdMode::dr:
      return "dr";
    case FwdMode::tunnel:
      return "tunnel";
  }
  return "?";
}
std::string endpoint(uint32_t ip_be, uint16_t port_be) {
  return Ipv4Addr{ip_be}.str() + ":" + std::to_string(__builtin_bswap16(port_be));
}

}  // namespace

void App::publish_services() {
  if (lb_->generation() == published_lb_generation_) return;
  auto snap = lb_->snapshot();
  if (!snap) {
    VSG_LOG(error, "services not published: %s", snap.message().c_str());
    published_lb_generation_ = lb_->generation();  // retried on the next change
    return;
  }
  services_->publish(std::move(snap.value()));
  published_lb_generation_ = lb_->generation();
  lb_publications_.push_back({published_lb_generation_, qsbr_->start()});
}

void App::poll_lb(uint64_t now) {
  publish_services();
  services_->reclaim();
  // Every worker has passed a quiescent state since this generation was published: none can
  // create connections to what it removed.
  while (!lb_publications_.empty() && qsbr_->passed(lb_publications_.front().token)) {
    lb_safe_generation_ = lb_publications_.front().generation;
    lb_publications_.pop_front();
  }
  send_timeouts();
  poll_workers();
  resolve_neighbours(now);
  poll_listing(now);
  if (now >= next_lb_housekeeping_us_) {
    next_lb_housekeeping_us_ = now + 200000;
    lb_->update_overload();
    lb_->release_removed(lb_safe_generation_);
  }
  if (now >= next_estimate_us_) {
    const double secs = last_estimate_us_ ? (now - last_estimate_us_) / 1e6 : 0;
    lb_->estimate(secs);
    last_estimate_us_ = now;
    next_estimate_us_ = now + 2000000;
  }
}

// Timeouts changed (ipvsadm --set, or the first call): a new generation for every worker,
// sent until each mailbox took it. Workers apply a generation once, so a resend is harmless.
void App::send_timeouts() {
  if (timeouts_generation_ == 0 || lb_->timeouts() != timeouts_sent_) {
    timeouts_sent_ = lb_->timeouts();
    ++timeouts_generation_;
  }
  for (size_t i = 0; i < to_workers_.size(); ++i)
    if (timeouts_delivered_[i] != timeouts_generation_ &&
        to_workers_[i]->send(ToWorker::set_timeouts_msg(timeouts_generation_, timeouts_sent_)))
      timeouts_delivered_[i] = timeouts_generation_;
}

// What the workers tell us, a bounded number of messages per worker and turn.
void App::poll_workers() {
  for (size_t i = 0; i < from_workers_.size(); ++i) {
    ToMain msgs[32];
    const unsigned n = from_workers_[i]->receive(msgs, 32);
    for (unsigned k = 0; k < n; ++k) {
      const ToMain& m = msgs[k];
      switch (m.kind) {
        case ToMain::Kind::neighbour_request:
          resolve_queue_.push_back(m.ip_be);
          break;
        case ToMain::Kind::list_done: {
          WorkerListing& l = listings_[i];
          if (l.state != WorkerListing::State::busy || m.request != l.request) break;
          l.filled = std::min<uint32_t>(m.rows, static_cast<uint32_t>(l.rows.size()));
          l.state = WorkerListing::State::idle;
          l.answered = true;
          break;
        }
      }
    }
  }
}

// Workers that lack a neighbour for a real server or client ask us (and real servers are
// queued when added); we make the host stack resolve it by sending it a datagram (discard
// port), which triggers ARP on the kni interface.
void App::resolve_neighbours(uint64_t now) {
  for (const uint32_t ip : resolve_queue_) {
    uint64_t& last = neigh_requested_us_[ip];
    if (last && now - last < 1000000) continue;
    last = now;
    if (resolve_fd_ < 0) resolve_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(9);
    sa.sin_addr.s_addr = ip;
    if (resolve_fd_ >= 0)
      (void)sendto(resolve_fd_, "", 0, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    VSG_LOG(debug, "asked the host to resolve %s", Ipv4Addr{ip}.str().c_str());
  }
  resolve_queue_.clear();
  if (neigh_requested_us_.size() > 4096) neigh_requested_us_.clear();
}

// The lb.conns round: hands each worker its buffer (retrying a full mailbox), and once every
// worker answered, or at the deadline, replies to every request waiting for it.
void App::poll_listing(uint64_t now) {
  if (conns_waiting_.empty()) return;
  bool all = true;
  for (size_t i = 0; i < listings_.size(); ++i) {
    WorkerListing& l = listings_[i];
    if (l.state == WorkerListing::State::to_send &&
        to_workers_[i]->send(ToWorker::list_conns_msg(l.request, l.rows.data(),
                                                      static_cast<uint32_t>(l.rows.size()))))
      l.state = WorkerListing::State::busy;
    all = all && l.answered;
  }
  if (!all && now < conns_deadline_us_) return;
  unsigned missing = 0;
  Result<Json> reply = make_error("");
  try {
    reply = conns_json(&missing);
  } catch (const std::exception& e) {
    reply = make_error(std::string("lb.conns: ") + e.what());
  }
  if (reply && missing) reply.value()["workers_not_answering"] = missing;
  for (const uint64_t token : conns_waiting_) control_->complete(token, reply);
  conns_waiting_.clear();
  // A worker not reached yet is not asked any more; a busy one keeps its buffer until it
  // answers (its rows then serve the next round).
  for (WorkerListing& l : listings_)
    if (l.state == WorkerListing::State::to_send) l.state = WorkerListing::State::idle;
}

// The [service.NAME] sections, applied as the lb.* commands would (the config is validated by
// the same model, so a refusal here is a bug or a port that failed to come up).
Status App::apply_configured_services() {
  std::vector<std::string> port_names;
  for (const auto& p : ports_) port_names.push_back(p->name());
  lb_model_.set_port_names(std::move(port_names));
  for (const auto& sc : config_.services) {
    const std::string where = "service." + sc.name + ": ";
    const ServiceSpec spec{sc.key, sc.scheduler, sc.persistence_s};
    if (auto st = lb_model_.add_service(spec, Origin::file, "service." + sc.name); !st)
      return make_error(where + st.message());
    if (auto st = lb_->add_service(spec); !st) return make_error(where + st.message());
    for (const auto& la : sc.local_addresses) {
      uint16_t port_id = UINT16_MAX;
      for (const auto& p : ports_)
        if (p->name() == la.port_name) port_id = p->id();
      if (port_id == UINT16_MAX) return make_error(where + "no such port: " + la.port_name);
      if (auto st = lb_model_.add_laddr(sc.key, {la.ip, la.port_name}, Origin::file); !st)
        return make_error(where + st.message());
      if (auto st = lb_->add_laddr(sc.key, la.ip, la.port_name, port_id); !st)
        return make_error(where + st.message());
    }
    for (const auto& rc : sc.real_servers) {
      const RealServerSpec r{rc.key, rc.fwd, rc.weight, rc.upper, rc.lower};
      if (auto st = lb_model_.add_real(sc.key, r, Origin::file); !st)
        return make_error(where + st.message());
      if (auto st = lb_->add_real(sc.key, r); !st) return make_error(where + st.message());
      resolve_queue_.push_back(rc.key.ip.be);
    }
    VSG_LOG(info, "service %s: %s %s:%u, %zu real server(s)", sc.name.c_str(),
            std::string(proto_name(sc.key.proto)).c_str(), sc.key.vip.str().c_str(),
            sc.key.port.host(), sc.real_servers.size());
  }
  return Ok{};
}

// The rows of every worker that answered the current round.
Json App::conns_json(unsigned* missing) const {
  Json out = Json::array();
  *missing = 0;
  const LbSnapshot* snap = services_->get();
  for (const WorkerListing& w : listings_) {
    if (!w.answered) {
      ++*missing;
      continue;
    }
    for (uint32_t i = 0; i < w.filled; ++i) {
      const ConnRow& r = w.rows[i];
      // The current snapshot names every slot a live connection can hold.
      const RealServerView* rs = snap ? snap->real(r.real_server) : nullptr;
      out.push_back(
          {{"proto", r.proto == IPPROTO_TCP ? "tcp" : "udp"},
           {"state", std::string(r.state)},
           {"expires", seconds_from_ticks(r.expires_ticks)},
           {"client", endpoint(r.in.src_ip, r.in.src_port)},
           {"vip", endpoint(r.in.dst_ip, r.in.dst_port)},
           {"laddr",
            r.fwd == FwdMode::fullnat && r.has_out ? endpoint(r.out.dst_ip, r.out.dst_port) : ""},
           {"real", rs ? endpoint(rs->key.ip.be, rs->key.port.be) : ""},
           {"fwd", fwd_arg_name(r.fwd)}});
    }
  }
  return Json{{"connections", out}};
}

void App::register_lb_commands() {
  auto& c = control_->commands();
  auto changed = [this]() { publish_services(); };

  // -A and -E take the same fields; -E changes only those given.
  auto service_spec = [](const Json& a) { return service_spec_from_json(a); };

  c.add("lb.service.add", [this, changed, service_spec](const Json& a) -> Result<Json> {
    auto s = service_spec(a);
    if (!s) return s.error();
    if (auto st = lb_model_.add_service(s.value(), Origin::control); !st) return st.error();
    if (auto st = lb_->add_service(s.value()); !st) {
      (void)lb_model_.del_service(s->key);
      return st.error();
    }
    changed();
    return Json::object();
  });

  c.add("lb.service.edit", [this, changed, service_spec](const Json& a) -> Result<Json> {
    auto s = service_spec(a);
    if (!s) return s.error();
    if (auto st = lb_model_.edit_service(s.value()); !st) return st.error();
    if (auto st = lb_->edit_service(s.value()); !st) return st.error();
    changed();
    return Json::object();
  });

  c.add("lb.service.del", [this, changed](const Json& a) -> Result<Json> {
    auto k = service_key(a);
    if (!k) return k.error();
    if (auto st = lb_model_.del_service(k.value()); !st) return st.error();
    if (auto st = lb_->del_service(k.value()); !st) return st.error();
    changed();
    return Json::object();
  });

  c.add("lb.clear", [this, changed](const Json&) -> Result<Json> {
    lb_model_.clear();
    lb_->clear();
    changed();
    return Json::object();
  });

  auto real_spec = [](const Json& a, const ServiceKey& k) { return real_spec_from_json(a, k); };

  c.add("lb.real.add", [this, changed, real_spec](const Json& a) -> Result<Json> {
    auto k = service_key(a);
    if (!k) return k.error();
    auto r = real_spec(a, k.value());
    if (!r) return r.error();
    if (auto st = lb_model_.add_real(k.value(), r.value(), Origin::control); !st) return st.error();
    if (auto st = lb_->add_real(k.value(), r.value()); !st) {
      (void)lb_model_.del_real(k.value(), r->key);
      return st.error();
    }
    changed();
    // Resolve it now, so the first connection does not wait for ARP.
    resolve_queue_.push_back(r->key.ip.be);
    return Json::object();
  });

  c.add("lb.real.edit", [this, changed, real_spec](const Json& a) -> Result<Json> {
    auto k = service_key(a);
    if (!k) return k.error();
    auto r = real_spec(a, k.value());
    if (!r) return r.error();
    if (auto st = lb_model_.edit_real(k.value(), r.value()); !st) return st.error();
    if (auto st = lb_->edit_real(k.value(), r.value()); !st) return st.error();
    changed();
    return Json::object();
  });

  c.add("lb.real.del", [this, changed](const Json& a) -> Result<Json> {
    auto k = service_key(a);
    if (!k) return k.error();
    auto rk = real_key(a, k.value());
    if (!rk) return rk.error();
    if (auto st = lb_model_.del_real(k.value(), rk.value()); !st) return st.error();
    if (auto st = lb_->del_real(k.value(), rk.value()); !st) return st.error();
    changed();
    return Json::object();
  });

  c.add("lb.list", [this](const Json& a) -> Result<Json> {
    std::optional<ServiceKey> only;
    if (a.contains("vip")) {
      auto k = service_key(a);
      if (!k) return k.error();
      only = k.value();
      if (!lb_->find(*only)) return make_error("No such service");
    }
    Json services = Json::array();
    for (const auto& s : lb_->services()) {
      if (only && s->key != *only) continue;
      StatsValues total = s->zero_removed;
      Json reals = Json::array();
      for (const auto& r : s->reals) {
        const StatsValues v = lb_->stats(*r);
        total += v;
        reals.push_back({{"rip", r->key.ip.str()},
                         {"rport", r->key.port.host()},
                         {"fwd", fwd_arg_name(r->fwd)},
                         {"weight", r->weight},
                         {"upper", r->upper},
                         {"lower", r->lower},
                         {"active", lb_->active(*r)},
                         {"inactive", lb_->inactive(*r)},
                         {"stats", stats_json(v)},
                         {"rates", rates_json(r->rate)}});
      }
      Json laddrs = Json::array();
      for (const auto& l : s->laddrs) {
        int64_t used = 0;
        for (const auto& g : l->used) used += g.get();
        laddrs.push_back({{"laddr", l->ip.str()}, {"port_name", l->port_name}, {"conns", used}});
      }
      services.push_back({{"proto", s->key.proto == Proto::tcp ? "tcp" : "udp"},
                          {"vip", s->key.vip.str()},
                          {"port", s->key.port.host()},
                          {"scheduler", scheduler_name(s->scheduler)},
                          {"persistence", s->persistence_s},
                          {"stats", stats_json(total)},
                          {"rates", rates_json(s->rate)},
                          {"laddrs", laddrs},
                          {"reals", reals}});
    }
    const Timeouts& t = lb_->timeouts();
    return Json{{"services", services},
                {"timeouts", {{"tcp", t.tcp_s()}, {"tcpfin", t.tcpfin_s()}, {"udp", t.udp_s()}}}};
  });

  c.add("lb.zero", [this](const Json& a) -> Result<Json> {
    std::optional<ServiceKey> only;
    if (a.contains("vip")) {
      auto k = service_key(a);
      if (!k) return k.error();
      only = k.value();
    }
    if (auto st = lb_->zero(only); !st) return st.error();
    note_stats_reset();
    return Json::object();
  });

  c.add("lb.timeouts.set", [this, changed](const Json& a) -> Result<Json> {
    auto ts = timeouts_from_json(a);
    if (!ts) return ts.error();
    if (auto st = lb_model_.set_timeouts(ts->tcp_s, ts->tcpfin_s, ts->udp_s); !st)
      return st.error();
    lb_->set_timeouts(ts->tcp_s, ts->tcpfin_s, ts->udp_s);
    changed();
    const Timeouts& t = lb_->timeouts();
    return Json{{"tcp", t.tcp_s()}, {"tcpfin", t.tcpfin_s()}, {"udp", t.udp_s()}};
  });

  c.add("lb.laddr.add", [this, changed](const Json& a) -> Result<Json> {
    auto k = service_key(a);
    if (!k) return k.error();
    auto la = laddr_spec_from_json(a);
    if (!la) return la.error();
    if (auto st = lb_model_.add_laddr(k.value(), la.value(), Origin::control); !st)
      return st.error();
    for (const auto& p : ports_)
      if (p->name() == la->port_name) {
        if (auto st = lb_->add_laddr(k.value(), la->ip, la->port_name, p->id()); !st) {
          (void)lb_model_.del_laddr(k.value(), la->ip);
          return st.error();
        }
        changed();
        return Json::object();
      }
    (void)lb_model_.del_laddr(k.value(), la->ip);
    return make_error("no such port: " + la->port_name);
  });

  c.add("lb.laddr.del", [this, changed](const Json& a) -> Result<Json> {
    auto k = service_key(a);
    if (!k) return k.error();
    auto la = required_string_arg(a, "laddr");
    if (!la) return la.error();
    auto ip = Ipv4Addr::parse(*la);
    if (!ip) return make_error("illegal local address '" + *la + "'");
    if (auto st = lb_model_.del_laddr(k.value(), *ip); !st) return st.error();
    if (auto st = lb_->del_laddr(k.value(), *ip); !st) return st.error();
    changed();
    return Json::object();
  });

  c.add("lb.laddr.get", [this](const Json& a) -> Result<Json> {
    auto k = service_key(a);
    if (!k) return k.error();
    const Service* s = lb_->find(k.value());
    if (!s) return make_error("No such service");
    Json out = Json::array();
    for (const auto& l : s->laddrs) {
      int64_t used = 0;
      for (const auto& g : l->used) used += g.get();
      out.push_back({{"laddr", l->ip.str()}, {"port_name", l->port_name}, {"conns", used}});
    }
    return Json{{"laddrs", out}};
  });

  // The workers copy their connections a bounded step per loop turn (poll_listing() collects
  // them); the reply waits for all of them, at most 5 s (a stuck worker's connections are
  // left out, and the reply says so). Meanwhile other clients are served.
  c.add_deferrable("lb.conns", [this](const Json&, uint64_t token) -> Result<std::optional<Json>> {
    if (token == 0) return std::optional<Json>();  // needs the socket
    if (conns_waiting_.empty()) {
      conns_deadline_us_ = now_us() + kConnsDeadlineUs;
      for (WorkerListing& l : listings_) {
        l.answered = false;
        // Still busy with a request of an earlier round: its answer counts.
        if (l.state == WorkerListing::State::busy) continue;
        if (l.rows.size() < kMaxConnRows) l.rows.resize(kMaxConnRows);
        l.request = ++next_listing_request_;
        l.filled = 0;
        l.state = WorkerListing::State::to_send;
      }
    }
    // Sent and collected by poll_lb(), after this request is marked
    // deferred: a completion from in here would find no one waiting.
    conns_waiting_.push_back(token);
    return std::optional<Json>();
  });
}

}  // namespace vsgate
