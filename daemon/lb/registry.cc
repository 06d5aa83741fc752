#include "lb/registry.h"

#include <algorithm>

namespace vsgate {

void RateEstimator::sample(const StatsValues& now, double seconds) {
  if (!primed || seconds <= 0) {
    last = now;
    primed = true;
    return;
  }
  // Counters may go backwards after -Z: restart from the new base instead of a huge rate.
  if (now.conns < last.conns || now.inpkts < last.inpkts || now.outpkts < last.outpkts ||
      now.inbytes < last.inbytes || now.outbytes < last.outbytes) {
    last = now;
    return;
  }
  const StatsValues d = now - last;
  last = now;
  // IPVS (ip_vs_est.c): avg += (sample - avg) / 4, every 2 s.
  auto ewma = [](double& avg, double sample) { avg += (sample - avg) / 4.0; };
  ewma(cps, static_cast<double>(d.conns) / seconds);
  ewma(inpps, static_cast<double>(d.inpkts) / seconds);
  ewma(outpps, static_cast<double>(d.outpkts) / seconds);
  ewma(inbps, static_cast<double>(d.inbytes) / seconds);
  ewma(outbps, static_cast<double>(d.outbytes) / seconds);
}

LocalPortPool::LocalPortPool(std::shared_ptr<const ReplySteering> steering, unsigned worker,
                             uint16_t first, uint16_t last)
    : steering_(std::move(steering)), worker_(worker) {
  const ReplySteering& st = *steering_;
  const unsigned classes = st.classes();
  // With the Toeplitz steering any class can be the right one for some real server; with the
  // others only the worker's own classes ever are.
  std::vector<bool> usable(classes, st.kind() == ReplySteering::Kind::toeplitz);
  for (uint16_t e : st.owned_entries(worker)) usable[e] = true;
  std::vector<uint32_t> count(classes, 0);
  for (uint32_t p = first; p <= last && p > 0; ++p)
    if (usable[st.class_of(static_cast<uint16_t>(p))])
      ++count[st.class_of(static_cast<uint16_t>(p))];
  begin_.resize(classes);
  end_.resize(classes);
  uint32_t at = 0;
  for (unsigned c = 0; c < classes; ++c) {
    begin_[c] = at;
    at += count[c];
    end_[c] = at;
  }
  ports_.resize(at);
  top_ = begin_;
  // Highest first, so that the lowest ports come out first.
  for (uint32_t p = last; p >= first && p > 0; --p) {
    const unsigned c = st.class_of(static_cast<uint16_t>(p));
    if (usable[c]) ports_[top_[c]++] = __builtin_bswap16(static_cast<uint16_t>(p));
  }
  free_ = at;
}

uint16_t LocalPortPool::get(Proto proto, uint32_t rip_be, uint32_t laddr_be, uint16_t rport_be) {
  const ReplySteering& st = *steering_;
  const unsigned classes = st.classes();
  const uint32_t base = st.base(proto, rip_be, laddr_be, rport_be);
  if (!st.port_hashed(proto)) {
    // The NIC hashes only the addresses: every port's reply lands on the same entry.
    if (st.worker_for(proto, rip_be, laddr_be, rport_be, 0) != static_cast<int>(worker_)) return 0;
    for (unsigned k = 0; k < classes; ++k) {
      const unsigned c = (cursor_ + k) & (classes - 1);
      if (top_[c] > begin_[c]) {
        cursor_ = c + 1;
        --free_;
        return take(c);
      }
    }
    return 0;
  }
  const auto& owned = st.owned_entries(worker_);
  const size_t n = owned.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (cursor_ + k) % n;
    const unsigned c = (owned[i] ^ base) & (classes - 1);
    if (top_[c] > begin_[c]) {
      cursor_ = static_cast<uint32_t>(i + 1);
      --free_;
      return take(c);
    }
  }
  return 0;
}

void LocalPortPool::put(uint16_t port_be) {
  const unsigned c = steering_->class_of(__builtin_bswap16(port_be));
  if (c >= top_.size() || top_[c] >= end_[c]) return;  // not ours, or given back twice
  ports_[top_[c]++] = port_be;
  ++free_;
}

LbRegistry::LbRegistry(unsigned workers, uint16_t lport_first, uint16_t lport_last)
    : workers_(workers),
      lport_first_(lport_first),
      lport_last_(lport_last),
      counters_(std::make_unique<RealServerCounterTable>(workers)),
      laddr_slots_(std::make_unique<std::array<LocalAddress*, kMaxLocalAddresses>>()) {
  laddr_slots_->fill(nullptr);
}

Service* LbRegistry::find_mut(const ServiceKey& k) {
  for (auto& s : services_)
    if (s->key == k) return s.get();
  return nullptr;
}
const Service* LbRegistry::find(const ServiceKey& k) const {
  for (const auto& s : services_)
    if (s->key == k) return s.get();
  return nullptr;
}

Status LbRegistry::add_service(const ServiceSpec& spec) {
  if (find(spec.key)) return make_error("Service already exists");
  if (services_.size() >= kMaxServices) return make_error("Memory allocation problem");
  if (auto st = first_refusal(check_service_spec(spec)); !st) return st;  // lb/model.h
  auto s = std::make_shared<Service>();
  s->key = spec.key;
  s->scheduler = spec.scheduler.value_or(SchedulerKind::wlc);
  s->persistence_s = spec.persistence_s.value_or(0);
  if (!free_service_ids_.empty()) {
    s->id = free_service_ids_.back();
    free_service_ids_.pop_back();
  } else {
    s->id = next_service_id_++;
  }
  services_.push_back(std::move(s));
  std::sort(services_.begin(), services_.end(),
            [](const auto& a, const auto& b) { return a->key < b->key; });
  ++generation_;
  return Ok{};
}

Status LbRegistry::edit_service(const ServiceSpec& spec) {
  Service* s = find_mut(spec.key);
  if (!s) return make_error("No such service");
  if (auto st = first_refusal(check_service_spec(spec)); !st) return st;
  if (spec.scheduler) s->scheduler = *spec.scheduler;
  if (spec.persistence_s) s->persistence_s = *spec.persistence_s;
  changed(*s);
  return Ok{};
}

void LbRegistry::retire(std::shared_ptr<RealServer> r) {
  retired_.push_back({std::move(r), generation_ + 1});
}

Status LbRegistry::del_service(const ServiceKey& k) {
  auto it =
      std::find_if(services_.begin(), services_.end(), [&](const auto& s) { return s->key == k; });
  if (it == services_.end()) return make_error("No such service");
  for (auto& r : (*it)->reals) retire(r);
  for (auto& l : (*it)->laddrs) retired_laddrs_.push_back(l);
  free_service_ids_.push_back((*it)->id);
  services_.erase(it);
  ++generation_;
  return Ok{};
}

void LbRegistry::clear() {
  while (!services_.empty()) (void)del_service(services_.front()->key);
}

// A service's real servers are its scheduler's dests (lb/model.h, lb/core/scheduler.h).
static_assert(kMaxRealServersPerService <= SchedulerTable::kMaxDests);

Result<uint32_t> LbRegistry::alloc_real_slot() {
  uint32_t s;
  if (!free_real_slots_.empty()) {
    // The lowest first, which keeps the snapshots' slot tables short.
    auto lowest = std::min_element(free_real_slots_.begin(), free_real_slots_.end());
    s = *lowest;
    *lowest = free_real_slots_.back();
    free_real_slots_.pop_back();
  } else if (real_slot_used_.size() < kMaxRealServers) {
    s = static_cast<uint32_t>(real_slot_used_.size());
    real_slot_used_.push_back(false);
  } else {
    return make_error("Memory allocation problem");
  }
  real_slot_used_[s] = true;
  counters_->ensure(s);
  counters_->set_overloaded(s, false);
  return s;
}

Status LbRegistry::add_real(const ServiceKey& k, const RealServerSpec& spec) {
  Service* s = find_mut(k);
  if (!s) return make_error("Service not defined");
  for (const auto& r : s->reals)
    if (r->key == spec.key) return make_error("Destination already exists");
  if (auto no = check_real_count(spec.key, s->reals.size())) return make_error(no->message());
  if (auto st = first_refusal(check_real_spec(k, spec)); !st) return st;  // lb/model.h
  auto slot = alloc_real_slot();
  if (!slot) return slot.error();
  auto r = std::make_shared<RealServer>();
  r->key = spec.key;
  r->fwd = spec.fwd.value_or(FwdMode::fullnat);
  r->weight = spec.weight.value_or(1);
  r->upper = spec.upper.value_or(0);
  r->lower = spec.lower.value_or(0);
  r->slot = slot.value();
  r->zero = counters_->stats(r->slot);  // what an earlier holder of the slot counted
  s->reals.push_back(std::move(r));
  changed(*s);
  return Ok{};
}

Status LbRegistry::edit_real(const ServiceKey& k, const RealServerSpec& spec) {
  Service* s = find_mut(k);
  if (!s) return make_error("Service not defined");
  for (auto& r : s->reals)
    if (r->key == spec.key) {
      const RealServerSpec merged{r->key, spec.fwd.value_or(r->fwd),
                                  spec.weight.value_or(r->weight), spec.upper.value_or(r->upper),
                                  spec.lower.value_or(r->lower)};
      if (auto st = first_refusal(check_real_spec(k, merged)); !st) return st;
      if (spec.fwd) r->fwd = *spec.fwd;
      if (spec.weight) r->weight = *spec.weight;
      if (spec.upper) {
        counters_->set_overloaded(
            r->slot,
            overload_after_threshold_change(counters_->overloaded(r->slot), r->upper, *spec.upper));
        r->upper = *spec.upper;
      }
      if (spec.lower) r->lower = *spec.lower;
      changed(*s);
      return Ok{};
    }
  return make_error("No such destination");
}

Status LbRegistry::del_real(const ServiceKey& k, const RealServerKey& key) {
  Service* s = find_mut(k);
  if (!s) return make_error("Service not defined");
  auto it =
      std::find_if(s->reals.begin(), s->reals.end(), [&](const auto& r) { return r->key == key; });
  if (it == s->reals.end()) return make_error("No such destination");
  // Its traffic so far still belongs to the service's totals.
  s->zero_removed += stats(**it);
  retire(*it);
  s->reals.erase(it);
  changed(*s);
  return Ok{};
}

Status LbRegistry::add_laddr(const ServiceKey& k, const IpAddr& addr, const std::string& port_name,
                             uint16_t port_id) {
  Service* s = find_mut(k);
  if (!s) return make_error("Service not defined");
  if (k.proto != Proto::tcp && k.proto != Proto::udp) return make_error("bad protocol");
  if (auto st = first_refusal(check_laddr_spec(k, {addr, port_name})); !st) return st;
  const Ipv4Addr ip = addr.v4();  // IPv4: the model's rules refuse IPv6
  for (const auto& l : s->laddrs)
    if (l->ip == ip) return make_error("Local address already exists");
  // One port pool per local address, shared by every service that uses it: a reply
  // (real server -> laddr:lport) must identify exactly one connection.
  for (const auto& other : services_)
    for (const auto& l : other->laddrs)
      if (l->ip == ip) {
        s->laddrs.push_back(l);
        ++generation_;
        return Ok{};
      }
  for (const auto& l : retired_laddrs_)
    if (l->ip == ip) {
      s->laddrs.push_back(l);
      ++generation_;
      return Ok{};
    }
  uint32_t slot = kMaxLocalAddresses;
  for (uint32_t i = 0; i < kMaxLocalAddresses; ++i)
    if (!(*laddr_slots_)[i]) {
      slot = i;
      break;
    }
  if (slot == kMaxLocalAddresses) return make_error("Memory allocation problem");
  auto l = std::make_shared<LocalAddress>();
  l->ip = ip;
  l->port_name = port_name;
  l->port_id = port_id;
  l->slot = slot;
  l->used = std::vector<Gauge>(workers_);
  std::shared_ptr<const ReplySteering> steering =
      port_id < steering_.size() ? steering_[port_id] : nullptr;
  if (!steering) {
    if (!default_steering_)
      default_steering_ =
          workers_ == 1 ? ReplySteering::single(0, 1) : ReplySteering::port_modulo(workers_);
    steering = default_steering_;
  }
  for (unsigned w = 0; w < workers_; ++w)
    l->pools.push_back(std::make_unique<LocalPortPool>(steering, w, lport_first_, lport_last_));
  (*laddr_slots_)[slot] = l.get();
  s->laddrs.push_back(std::move(l));
  ++generation_;
  return Ok{};
}

void LbRegistry::set_reply_steering(uint16_t port_id,
                                    std::shared_ptr<const ReplySteering> steering) {
  if (steering_.size() <= port_id) steering_.resize(port_id + 1u);
  steering_[port_id] = std::move(steering);
}

Status LbRegistry::del_laddr(const ServiceKey& k, const IpAddr& ip) {
  Service* s = find_mut(k);
  if (!s) return make_error("Service not defined");
  auto it = std::find_if(s->laddrs.begin(), s->laddrs.end(),
                         [&](const auto& l) { return IpAddr::from_v4(l->ip) == ip; });
  if (it == s->laddrs.end()) return make_error("No such local address");
  // Connections still hold ports of it: keep it (and its slot) for the life of the process.
  retired_laddrs_.push_back(*it);
  s->laddrs.erase(it);
  ++generation_;
  return Ok{};
}

Status LbRegistry::zero(const std::optional<ServiceKey>& k) {
  bool found = false;
  for (auto& s : services_) {
    if (k && s->key != *k) continue;
    found = true;
    for (auto& r : s->reals) {
      r->zero = counters_->stats(r->slot);
      r->rate = RateEstimator{};
    }
    s->zero_removed = StatsValues{};
    s->rate = RateEstimator{};
  }
  if (k && !found) return make_error("No such service");
  return Ok{};
}

void LbRegistry::set_timeouts(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s) {
  timeouts_.set_ipvsadm(tcp_s, tcpfin_s, udp_s);
  ++generation_;
}

Result<std::unique_ptr<const LbSnapshot>> LbRegistry::snapshot() {
  auto snap = std::make_unique<LbSnapshot>();
  snap->timeouts = timeouts_;
  snap->reals.resize(real_slot_used_.size());
  auto add_real = [&](const RealServer& r) {
    snap->reals[r.slot] = {to_ipv4(r.key), r.fwd, r.weight, true};
  };
  for (const Retired& t : retired_) add_real(*t.real);
  for (const auto& s : services_) {
    if (!s->sched) {
      std::vector<SchedDest> dests;
      for (const auto& r : s->reals)
        dests.push_back({r->weight, r->upper, r->lower, sched_identity(to_ipv4(r->key))});
      auto table = SchedulerTable::build(s->scheduler, dests);
      if (!table)
        return make_error(std::string(proto_name(s->key.proto)) + " " + s->key.vip.str() + ":" +
                          std::to_string(s->key.port.host()) + ": " + table.message());
      s->sched = std::make_shared<const SchedulerTable>(std::move(table.value()));
      s->sched_version = next_sched_version_++;
    }
    ServiceView v;
    v.key = to_ipv4(s->key);
    v.id = s->id;
    v.sched_version = s->sched_version;
    v.persistence_ticks = ticks_from_seconds(s->persistence_s);
    v.sched = s->sched;
    for (const auto& r : s->reals) {
      add_real(*r);
      v.reals.push_back(r->slot);
    }
    for (const auto& l : s->laddrs) {
      v.laddrs.push_back(l.get());
      snap->laddrs.push_back(l->ip.be);
    }
    snap->vips.push_back(v.key.vip.be);
    snap->services.push_back(std::move(v));
  }
  for (auto* list : {&snap->vips, &snap->laddrs}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  return std::unique_ptr<const LbSnapshot>(std::move(snap));
}

void LbRegistry::estimate(double seconds) {
  for (auto& s : services_) {
    StatsValues total = s->zero_removed;
    for (auto& r : s->reals) {
      const StatsValues v = stats(*r);
      r->rate.sample(v, seconds);
      total += v;
    }
    s->rate.sample(total, seconds);
  }
}

void LbRegistry::update_overload() {
  for (auto& s : services_)
    for (auto& r : s->reals) {
      const auto total = static_cast<uint32_t>(active(*r) + inactive(*r));
      counters_->set_overloaded(r->slot, vsgate::update_overload(counters_->overloaded(r->slot),
                                                                 total, r->upper, r->lower));
    }
}

void LbRegistry::release_removed(uint64_t safe_generation) {
  std::erase_if(retired_, [&](Retired& t) {
    if (t.generation > safe_generation) return false;
    if (counters_->live(t.real->slot) != 0) return false;
    real_slot_used_[t.real->slot] = false;
    free_real_slots_.push_back(t.real->slot);
    return true;
  });
}

}  // namespace vsgate
