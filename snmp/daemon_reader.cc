#include "daemon_reader.h"

#include "common/log.h"

namespace vsgate::snmp {

Result<DaemonReplies> DaemonReader::read_once() {
  if (!client_ || !client_->usable()) {
    client_.reset();
    auto c = ControlClient::connect(path_, timeout_ms_);
    if (!c) return c.error();
    client_.emplace(std::move(c.value()));
  }
  DaemonReplies r;
  Json* out[] = {&r.status, &r.port_show, &r.port_stats, &r.lcore_stats, &r.lb_list};
  static_assert(std::size(out) == std::size(kSnapshotCommands));
  for (size_t i = 0; i < std::size(out); ++i) {
    auto reply = client_->call(kSnapshotCommands[i]);
    if (!reply) {
      client_.reset();
      return make_error(std::string(kSnapshotCommands[i]) + ": " + reply.message());
    }
    *out[i] = std::move(reply.value());
  }
  return r;
}

Result<Snapshot> DaemonReader::read() {
  const bool reused = client_ && client_->usable();
  auto replies = read_once();
  // A kept connection may have been closed by the daemon meanwhile (idle limit, restart): one
  // more try on a fresh one before calling the daemon unreachable.
  if (!replies && reused) replies = read_once();
  if (!replies) return replies.error();
  return parse_snapshot(replies.value());
}

std::shared_ptr<const Snapshot> StateSource::get() {
  const auto now = Clock::now();
  if (current_ && now - read_at_ < period_) return current_;
  auto r = read_();
  auto snap = std::make_shared<Snapshot>();
  if (r) {
    *snap = std::move(r.value());
    if (logged_unreachable_ || readings_ == 0)
      VSG_LOG(info, "vsgated %s reachable: %zu port(s), %zu worker(s), %zu virtual server(s)",
              snap->version.c_str(), snap->ports.size(), snap->lcores.size(),
              snap->services.size());
    logged_unreachable_ = false;
  } else {
    snap->reachable = false;
    snap->error = r.message();
    if (!logged_unreachable_)
      VSG_LOG(warning, "vsgated not reachable (tables are empty until it is): %s",
              snap->error.c_str());
    logged_unreachable_ = true;
  }
  indexes_.assign(*snap);
  discontinuity_.update(*snap, uptime_ticks_());
  ++readings_;
  read_at_ = Clock::now();
  current_ = std::move(snap);
  return current_;
}

}  // namespace vsgate::snmp
